"""The generated site on the synthetic warehouse: content, missing inputs, empty days, CLI."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from python_jobs.config import Settings
from python_jobs.report import generate_report
from python_jobs.report.warehouse import Warehouse
from tests.python.report import synthetic
from tests.python.report.conftest import synthetic_settings

D = synthetic.REPORT_DATE


def picks_rows(page: Path) -> list[str]:
    text = page.read_text()
    match = re.search(r'<table id="picks".*?<tbody>(.*?)</tbody>', text, re.S)
    return re.findall(r"<tr\b[^>]*>", match.group(1)) if match else []


def notes(page: Path) -> list[str]:
    found = re.findall(r'<div class="note[^"]*">(.*?)</div>', page.read_text(), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", n)).strip() for n in found]


def all_text(page: Path) -> str:
    return html.unescape(page.read_text())


def test_site_for_the_synthetic_day(synth: Settings, backtest_file: Path, tmp_path: Path):
    result = generate_report(synth, D, output_dir=tmp_path / "site", backtest=backtest_file)
    site = result.output_dir
    assert result.n_predictions == synthetic.N_TODAY == 12
    rows = picks_rows(site / "index.html")
    assert len(rows) == 12
    # one row per prediction, with the system and recommendation the filters use
    assert sorted(re.search(r'data-system="([^"]+)"', r).group(1) for r in rows).count("catboost_v1") == 6
    recs = [re.search(r'data-rec="([^"]+)"', r).group(1) for r in rows]
    assert (recs.count("OVER"), recs.count("UNDER"), recs.count("PASS"), recs.count("NO_LINE")) == (3, 1, 6, 2)
    stale = [r for r in rows if 'data-stale="1"' in r]
    assert len(stale) == 2 and all('data-player="charlie clutch"' in r for r in stale)
    # a player page per player with a line (206 has none)
    assert sorted(p.name for p in (site / "players").iterdir()) == [f"{i}.html" for i in range(201, 206)]
    assert result.n_players == 5
    # offline: plotly.js written once, every script and stylesheet local
    assert (site / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), page
        assert page.stat().st_size < 1_000_000, page  # plotly.js is shared, never inlined per page
        assert all(src.startswith(("assets/", "../assets/")) for src in re.findall(r'<script src="([^"]+)"', text))
    perf = all_text(site / "performance.html")
    for div in ("graded-hitrate", "graded-mae", "graded-roi", "graded-edge", "graded-cal", "backtest-edge",
                "backtest-mae", "backtest-cal"):
        assert f'id="{div}"' in perf, div
    assert "not available" not in perf
    health = all_text(site / "health.html")
    assert "Late or missing: odds_api_props." in notes(site / "health.html")
    assert "null_odds" in health and "negative_points" in health
    assert 'id="coverage"' in health and 'id="quarantine-reasons"' in health
    assert "not available" not in health


def test_performance_table_shows_the_hand_computed_figures(synth: Settings, tmp_path: Path):
    site = generate_report(synth, D, output_dir=tmp_path / "site").output_dir
    text = all_text(site / "performance.html")
    # catboost_v1: 4 hits of 6 decided bets, Wilson 95% [30.0%, 90.3%]
    assert re.search(r"<td>catboost_v1</td><td>7</td><td>7</td><td>6</td><td>4</td><td>2</td><td>0</td><td>0</td>"
                     r"<td>66.7%</td><td>30.0%</td><td>90.3%</td>", text)


def test_missing_inputs_are_named_not_faked(tmp_path: Path):
    settings = synthetic_settings(tmp_path / "wh", drop={"grading.prediction_accuracy", "raw.quarantine",
                                                         "monitoring.monitoring_duplicate_keys",
                                                         "precompute.ml_feature_store"})
    site = generate_report(settings, D, output_dir=tmp_path / "site").output_dir
    perf = notes(site / "performance.html")
    assert any(n.startswith("`grading.prediction_accuracy` is not available") for n in perf)
    assert 'id="graded-hitrate"' not in (site / "performance.html").read_text()
    health = notes(site / "health.html")
    assert any(n.startswith("`raw.quarantine` is not available") for n in health)
    assert any(n.startswith("`monitoring.monitoring_duplicate_keys` is not available") for n in health)
    # the picks are still all there; without the feature store there are no staleness flags
    rows = picks_rows(site / "index.html")
    assert len(rows) == 12 and not any('data-stale="1"' in r for r in rows)


def test_no_warehouse_at_all(tmp_path: Path):
    from tests.python.conftest import make_settings

    settings = make_settings(tmp_path / "empty")
    result = generate_report(settings, D, output_dir=tmp_path / "site")
    assert result.n_predictions == 0
    assert not settings.database_path.exists()  # reading never creates the warehouse
    assert any("the warehouse file does not exist yet" in n for n in notes(result.index_path))
    for page in ("performance.html", "health.html", "players.html"):
        assert (result.output_dir / page).is_file()


def test_day_without_games_explains_itself(synth: Settings, tmp_path: Path):
    result = generate_report(synth, date(2025, 7, 4), output_dir=tmp_path / "site")
    assert picks_rows(result.index_path) == []
    assert notes(result.index_path) == [
        "No predictions were made for 2025-07-04.",
        "No NBA games are scheduled on 2025-07-04 in the warehouse: nothing to predict.",
        "No player-points lines were captured for 2025-07-04.",
    ]
    assert "No player has a line on 2025-07-04" in all_text(result.output_dir / "players.html")


def test_day_with_all_sources_late(tmp_path: Path):
    settings = synthetic_settings(tmp_path / "wh", empty_day=True)
    con = duckdb.connect(str(settings.database_path))
    for source in ("nba_box_scores", "nba_schedule", "odds_api_props"):
        synthetic._insert(con, "raw.source_waits", {
            "run_id": "run-1", "correlation_id": "c1", "game_date": D, "source_name": source,
            "expected_at": synthetic.NOW, "first_checked_at": synthetic.NOW, "status": "missing", "tier": "none",
            "recorded_at": synthetic.NOW})
    con.close()
    result = generate_report(settings, D, output_dir=tmp_path / "site")
    assert picks_rows(result.index_path) == []
    found = notes(result.index_path)
    assert found[0] == f"No predictions were made for {D}."
    assert "All sources were late or missing when the morning run gave up: nba_box_scores, nba_schedule, " \
           "odds_api_props." in found


def test_regenerating_replaces_player_pages(synth: Settings, tmp_path: Path):
    out = tmp_path / "site"
    generate_report(synth, D, output_dir=out)
    (out / "players" / "999.html").write_text("left over")
    generate_report(synth, D, output_dir=out)
    assert not (out / "players" / "999.html").exists()


def test_default_output_publishes_latest_and_an_index_of_dates(synth: Settings):
    result = generate_report(synth, D)
    assert result.output_dir == (synth.report_dir / D.isoformat()).resolve()
    assert (synth.report_dir / "latest" / "index.html").read_text() == result.index_path.read_text()
    assert f'href="{D}/index.html"' in (synth.report_dir / "index.html").read_text()


def test_broken_backtest_file(synth: Settings, tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"systems": {}}')
    with pytest.raises(ValueError, match="no `systems`"):
        generate_report(synth, D, output_dir=tmp_path / "a", backtest=bad)
    # the newest file of warehouse/backtests is optional: a broken one is explained on the page
    own = synth.warehouse_dir / "backtests" / "run.json"
    own.parent.mkdir(parents=True)
    own.write_text('{"systems": {}}')
    site = generate_report(synth, D, output_dir=tmp_path / "b").output_dir
    assert any(n.startswith("The newest backtest file could not be shown") for n in notes(site / "performance.html"))


def test_reader_quotes_only_plain_identifiers_and_nulls_missing_columns(synth: Settings):
    from python_jobs.report.warehouse import quote

    with pytest.raises(ValueError, match="refusing identifier"):
        quote('player_id"; drop table x; --')
    with Warehouse.open(synth) as wh:
        df = wh.select("predictions", ["player_id", "column_from_the_future"], where="game_date = ?", params=[D])
    assert len(df) == 12 and df["column_from_the_future"].isna().all()


def test_cli_prints_where_the_report_is(synth: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from python_jobs.cli import app
    from python_jobs.config import reset_settings

    monkeypatch.setenv("NBA_PROPS_WAREHOUSE_DIR", str(synth.warehouse_dir))
    monkeypatch.setenv("NBA_PROPS_NOW", synthetic.NOW.isoformat())
    reset_settings()
    out = tmp_path / "cli-site"
    res = CliRunner().invoke(app, ["report", "--date", D.isoformat(), "--output", str(out)])
    reset_settings()
    assert res.exit_code == 0, res.output
    assert f"Report: {(out / 'index.html').resolve()}" in res.output
    assert len(picks_rows(out / "index.html")) == 12
    bad = CliRunner().invoke(app, ["report", "--date", "19-03-2025"])
    assert bad.exit_code != 0
