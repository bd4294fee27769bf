"""`nba-props trace` on a scored and graded synthetic day: the feature values stored with each
prediction, the graded result, one trace per player-date (systems side by side, shared sections
once), the warning when today's feature row differs from the one scored, and ``--json``.

Oracles: the synthetic store itself (plain pandas), ``hashlib`` and the grading rule restated
by hand (OVER wins above the line, UNDER below, equal is a push)."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from typer.testing import CliRunner

from python_jobs.cli import app
from python_jobs.config import reset_settings
from python_jobs.dbt_runner import run_dbt
from python_jobs.ops.trace import trace_predictions
from python_jobs.warehouse.connection import connect
from tests.python.ml import synthetic as syn
from tests.python.ml.conftest import SCORE_DATE
from tests.python.ml.test_scoring_grading import scored  # noqa: F401  (the fixture)

pytestmark = pytest.mark.timeout(600)


def _plain(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return v.item() if hasattr(v, "item") else v


@pytest.fixture
def graded(scored):  # noqa: F811
    """The scored day graded: box scores of SCORE_DATE landed (stand-in) and phase 6 built."""
    settings, store, lines, day, stale_id, report = scored
    with connect(settings) as con:
        syn.write_box_scores(con, store, SCORE_DATE)
        # the stand-in lacks the lineage columns the real staging model has
        for col in ("source_payload_id", "scrape_run_id"):
            con.execute(f"alter table staging.stg_nba__player_game_logs add column {col} varchar")
        con.execute("alter table staging.stg_nba__player_game_logs add column scraped_at timestamptz")
    run_dbt(["build", "--selector", "phase6"], settings)
    return settings, store, lines, day


def test_each_score_stores_the_feature_values_it_was_scored_with(scored):  # noqa: F811
    settings, store, *_ = scored
    with connect(settings) as con:
        raw = con.fetch_dicts("select feature_row_id, feature_values_json, feature_values_hash "
                              "from raw.prediction_scores")
    assert raw
    by_id = store.set_index("feature_row_id")
    for r in raw:
        expected = {name: _plain(by_id.loc[r["feature_row_id"], name]) for name in syn.SPEC.names}
        assert json.loads(r["feature_values_json"]) == expected
        assert r["feature_values_hash"] == hashlib.sha256(r["feature_values_json"].encode()).hexdigest()


def _lined_player(settings) -> tuple[int, list[str]]:
    with connect(settings) as con:
        pid = con.scalar("select min(player_id) from predictions.player_prop_predictions "
                         "where line_source = 'consensus_main' and game_date = ?", [SCORE_DATE])
        ids = [r[0] for r in con.fetchall("select prediction_id from predictions.player_prop_predictions "
                                          "where player_id = ? and game_date = ? order by system_id",
                                          [pid, SCORE_DATE])]
    return int(pid), ids


def test_trace_shows_the_graded_result_once_per_system_and_shared_sections_once(graded):
    settings, store, lines, day = graded
    player_id, ids = _lined_player(settings)
    [tr] = trace_predictions(settings, ids)  # every system of the player-date: ONE trace
    titles = [s.title for s in tr.sections]
    assert len(titles) == len(set(titles))  # no section repeated per system
    preds = tr.section("predictions").rows
    assert sorted(p["prediction_id"] for p in preds) == sorted(ids) and len(ids) == 4
    result = tr.section("graded result").rows
    assert len(result) == 4
    actual = float(day.set_index("player_id").loc[player_id, "actual_points"])
    line = float(lines.set_index("player_id").loc[player_id, "consensus_line_points"])
    for r in result:
        assert r["actual_points"] == actual and r["grade_status"] == "graded"
        side = "OVER" if actual > line else "UNDER" if actual < line else "PUSH"
        assert r["actual_side"] == side
        if r["recommendation"] in ("OVER", "UNDER"):
            assert r["bet_result"] == ("push" if side == "PUSH" else "hit" if side == r["recommendation"] else "miss")
        else:
            assert r["bet_result"] is None
    comparison = tr.section("feature values: as scored vs today").rows
    row = store.set_index("feature_row_id").loc[preds[0]["feature_row_id"]]
    assert {c["feature"]: c["as_scored"] for c in comparison} == {n: _plain(row[n]) for n in syn.SPEC.names}
    assert not any(c["changed"] for c in comparison) and tr.warnings == []


def test_trace_warns_when_todays_feature_row_differs_from_the_scored_one(graded):
    settings, store, *_ = graded
    player_id, ids = _lined_player(settings)
    fid = f"{player_id}|{SCORE_DATE}"
    before = float(store.set_index("feature_row_id").loc[fid, "points_avg_last_10"])
    with connect(settings) as con:  # the store rebuilt after scoring with another value
        con.execute("update precompute.ml_feature_store set points_avg_last_10 = points_avg_last_10 + 3.5 "
                    "where feature_row_id = ?", [fid])
    [tr] = trace_predictions(settings, ids)
    changed = {c["feature"]: c for c in tr.section("feature values: as scored vs today").rows if c["changed"]}
    assert set(changed) == {"points_avg_last_10"}
    assert changed["points_avg_last_10"]["as_scored"] == pytest.approx(before)
    assert changed["points_avg_last_10"]["today"] == pytest.approx(before + 3.5)
    assert any("differs from the one scored" in w and "points_avg_last_10" in w for w in tr.warnings)


def test_trace_json_is_one_document_on_stdout(graded, monkeypatch):
    settings, *_ = graded
    player_id, ids = _lined_player(settings)
    monkeypatch.setenv("NBA_PROPS_DUCKDB_PATH", str(settings.database_path))
    reset_settings()
    res = CliRunner().invoke(app, ["trace", "--player", str(player_id), "--date", SCORE_DATE.isoformat(), "--json"])
    reset_settings()
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)  # nothing but the document on stdout
    [trace] = doc["traces"]
    assert sorted(trace["prediction_ids"]) == sorted(ids)
    sections = {s["title"]: s for s in trace["sections"]}
    assert {r["actual_points"] for r in sections["graded result"]["rows"]} == {
        float(graded[3].set_index("player_id").loc[player_id, "actual_points"])}
    assert sections["staged prop lines behind the consensus line"]["missing_relation"] is True


def test_trace_of_a_day_not_graded_yet_says_so(scored, monkeypatch):  # noqa: F811
    settings, *_ = scored
    player_id, _ = _lined_player(settings)
    monkeypatch.setenv("NBA_PROPS_DUCKDB_PATH", str(settings.database_path))
    reset_settings()
    res = CliRunner().invoke(app, ["trace", "--player", str(player_id), "--date", SCORE_DATE.isoformat()])
    reset_settings()
    assert res.exit_code == 0, res.output
    # phase 6 never ran here: the section says so, the rest of the chain is still printed
    assert "graded result: grading.prediction_accuracy is not built in this warehouse" in res.stdout
    assert "feature values: as scored vs today" in res.stdout
