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
    assert len(rows) == len(synthetic.PLAYERS) == 6
    # one row per player: every system's recommendation (the filters use them) and the agreed pick
    recs = [re.search(r'data-recs="([^"]+)"', r).group(1).split() for r in rows]
    assert sorted(x for rr in recs for x in rr) == sorted(f"{s}:{v[2]}" for (s, _), v in synthetic.TODAY.items())
    picks = [re.search(r'data-rec="([^"]+)"', r).group(1) for r in rows]
    assert (picks.count("OVER"), picks.count("UNDER"), picks.count("PASS"), picks.count("NO_LINE")) == (2, 1, 2, 1)
    stale = [r for r in rows if 'data-stale="1"' in r]
    assert len(stale) == 1 and 'data-player="charlie clutch"' in stale[0]
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
    assert len(rows) == 6 and not any('data-stale="1"' in r for r in rows)  # one row per player


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
    assert len(picks_rows(out / "index.html")) == 6  # one row per player
    bad = CliRunner().invoke(app, ["report", "--date", "19-03-2025"])
    assert bad.exit_code != 0


def picks_cells(page: Path) -> dict[str, dict[str, str]]:
    """player name -> header -> cell text of the picks table."""
    text = page.read_text()
    table = re.search(r'<table id="picks".*?</table>', text, re.S).group(0)
    headers = [html.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in re.findall(r"<th\b.*?</th>", table, re.S)]
    out = {}
    for tr in re.findall(r"<tr data-player.*?</tr>", table, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td\b.*?</td>", tr, re.S)]
        out[cells[0]] = dict(zip(headers, cells, strict=True))
    return out


def test_picks_are_one_row_per_player_with_the_systems_agreement_and_best_price(synth: Settings, tmp_path: Path):
    site = generate_report(synth, D, output_dir=tmp_path / "site").output_dir
    cells = picks_cells(site / "index.html")
    assert len(cells) == 6
    # by hand from synthetic.TODAY: 201 both OVER; 202 and 203 one system bets; 204, 205 nobody bets
    expected = {"Alpha Ace": ("2/2 OVER", "OVER"), "Bravo Bucket": ("1/2 OVER", "OVER"),
                "Charlie Clutch": ("1/2 UNDER", "UNDER"), "Delta Dunk": ("0/2 bet", "PASS"),
                "Echo Elbow": ("0/2 bet", "PASS"), "Foxtrot Fresh": ("no line", "NO_LINE")}
    assert {n: (c["Agreement"], c["Pick"]) for n, c in cells.items()} == expected
    # the best price and book of the pick (synthetic.BEST_PRICE); none without a bet
    assert cells["Alpha Ace"]["Best price"] == "-108 fanduel"
    assert cells["Charlie Clutch"]["Best price"] == "+102 betmgm"
    assert cells["Delta Dunk"]["Best price"] == "–"
    # each system's prediction side by side: 27.5 OVER (63.0) and 26.8 OVER (58.0) for Alpha Ace
    assert cells["Alpha Ace"]["catboost_v1"] == "27.5 OVER (63.0)"
    assert cells["Alpha Ace"]["rolling_average_v1"] == "26.8 OVER (58.0)"
    assert cells["Alpha Ace"]["Confidence"] == "63.0"  # the most confident system backing the pick


def test_player_pages_show_todays_opponent_and_the_line_history(synth: Settings, tmp_path: Path):
    site = generate_report(synth, D, output_dir=tmp_path / "site").output_dir
    page = all_text(site / "players" / "201.html")
    today_row = re.search(r'<tr class="today">(.*?)</tr>', page, re.S).group(1)
    # Alpha Ace (LAL) hosts GSW on the report day: synthetic.PLAYERS
    assert re.findall(r"<td[^>]*>(.*?)</td>", today_row)[1] == "vs GSW"
    # two snapshots of the day for player 201: each book's main line at each, oldest first
    history = re.search(r"Line history on 2025-03-19.*?<tbody>(.*?)</tbody>", page, re.S).group(1)
    rows = [re.findall(r"<td>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", history)]
    assert [(r[1], r[2]) for r in rows] == [("draftkings", "24.0"), ("fanduel", "24.5"), ("draftkings", "24.5"),
                                            ("fanduel", "24.5")]
    assert rows[0][0] == "2025-03-19 08:00 UTC" and rows[2][0] == "2025-03-19 13:00 UTC"
    assert "Line history" not in all_text(site / "players" / "202.html")  # one snapshot: no history


def test_data_health_is_as_of_the_report_date(tmp_path: Path):
    """Regenerated the next day, after the run for D+1: nothing of D+1 shows on D's page."""
    from datetime import timedelta

    settings = synthetic_settings(tmp_path / "wh")
    later = synthetic.NOW + timedelta(hours=20)
    con = duckdb.connect(str(settings.database_path))
    rows = {
        "raw.pipeline_runs": [
            {"run_id": "run-1", "idempotency_key": "k1", "inputs_hash": "i1", "flow": "daily", "game_date": D,
             "status": "succeeded", "holder_id": "h1",
             "correlation_id": "c1", "started_at": synthetic.NOW - timedelta(hours=6),
             "finished_at": synthetic.NOW - timedelta(hours=1)},
            {"run_id": "run-2", "idempotency_key": "k2", "inputs_hash": "i2", "flow": "daily",
             "game_date": D + timedelta(days=1), "status": "succeeded",
             "holder_id": "h2", "correlation_id": "c2", "started_at": later, "finished_at": later}],
        "raw.alerts": [{"alert_id": "a2", "run_id": "run-2", "correlation_id": "c2", "game_date": D + timedelta(days=1),
                        "alert_type": "tomorrow_alert", "severity": "error", "subject": "odds_api_props",
                        "message": "raised by the next day's run", "raised_at": later}],
        "raw.scrape_runs": [{"scrape_run_id": "sr2", "correlation_id": "c2", "command": "tomorrow-land",
                             "transport": "replay", "started_at": later, "finished_at": later, "status": "ok"}],
        "raw.landed_payloads": [{"payload_id": "p9", "scrape_run_id": "sr2", "correlation_id": "c2",
                                 "source": "tomorrow_source", "endpoint": "x", "params_json": "{}",
                                 "scraped_at": later, "sha256": "s9", "byte_size": 1, "origin": "replay"}],
        "raw.quarantine": [{"quarantine_id": "q9", "payload_id": "p9", "scrape_run_id": "sr2", "source": "odds_api",
                            "endpoint": "event_odds", "record_kind": "odds_player_props", "record_index": 0,
                            "reason_code": "tomorrow_reason", "reason": "later", "record_json": "{}",
                            "quarantined_at": later}],
        "raw.pipeline_execution_log": [
            {"log_id": "log-next", "run_id": "run-2", "correlation_id": "c2", "flow": "daily",
             "game_date": D + timedelta(days=1), "phase": "phase1", "node": "step", "node_type": "step",
             "started_at": later, "finished_at": later, "status": "error", "error_class": "TomorrowError",
             "error_message": "boom", "logged_at": later}],
    }
    for table, items in rows.items():
        for row in items:
            con.execute(f"insert into {table} ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                        list(row.values()))
    con.close()
    settings = settings.model_copy(update={"now": synthetic.NOW + timedelta(days=1)})
    site = generate_report(settings, D, output_dir=tmp_path / "site").output_dir
    health = all_text(site / "health.html")
    for later_thing in ("tomorrow_alert", "tomorrow-land", "tomorrow_source", "tomorrow_reason", "TomorrowError"):
        assert later_thing not in health, later_thing
    # the page's own date is still there: its alert, its scrape run, its latest phase1 run
    assert "late_data" in health and "land-day" in health and "run-1" in health
    # freshness is measured at the start of the next day's run: p2 (odds) landed 4 h before NOW
    fresh = re.search(r"<td>odds_api</td><td>event_odds</td>(.*?)</tr>", health, re.S).group(1)
    assert float(re.findall(r"<td>(.*?)</td>", fresh)[-1]) == 24.0
