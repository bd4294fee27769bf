"""Scoring -> raw.prediction_scores -> dbt MERGE (phase5) -> grading (phase6) on a synthetic store.

The synthetic store and lines are written as plain tables; the phase 5/6 dbt models then run on
them for real (DuckDB), so the MERGE, the contract and the grading SQL are what is tested.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from python_jobs.dbt_runner import DbtError, run_dbt
from python_jobs.ml.backtest import wilson
from python_jobs.ml.scoring import score_date
from python_jobs.ml.training import train
from python_jobs.warehouse.connection import connect
from tests.python.ml import synthetic as syn
from tests.python.ml.conftest import SCORE_DATE


@pytest.fixture
def scored(tmp_settings):
    """Store + lines for SCORE_DATE with one stale lined row and one line without a feature row;
    models trained before SCORE_DATE; the date scored once (phase5 built)."""
    store = syn.make_store()
    lines = syn.make_lines(store, [SCORE_DATE])
    day = store.loc[store["game_date"] == SCORE_DATE]
    lined_ids = sorted(lines["player_id"])
    stale_id = lined_ids[0]
    store.loc[(store["game_date"] == SCORE_DATE) & (store["player_id"] == stale_id), "is_stale"] = True
    store.loc[(store["game_date"] == SCORE_DATE) & (store["player_id"] == stale_id), "stale_reason"] = "test"
    orphan = lines.iloc[[0]].assign(player_id=999999, consensus_line_points=12.5)
    lines = pd.concat([lines, orphan], ignore_index=True)
    with connect(tmp_settings) as con:
        syn.write_tables(con, store, lines)
    train(tmp_settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS)
    report = score_date(tmp_settings, SCORE_DATE, correlation_id="test-run", spec=syn.SPEC, params=syn.PARAMS)
    return tmp_settings, store, lines, day, stale_id, report


def predictions(settings) -> pd.DataFrame:
    with connect(settings) as con:
        return con.fetch_df("select * from predictions.player_prop_predictions order by system_id, player_id")


def test_score_date_merges_one_row_per_key_and_records_rejects(scored):
    settings, _, lines, day, stale_id, report = scored
    pred = predictions(settings)
    line_free = {"rolling_average_v1", "catboost_v1", "ensemble_v1"}
    systems = line_free | {"market_residual_v1"}
    assert set(pred["system_id"]) == systems
    accepted = set(day["player_id"]) - {stale_id}
    lined = set(lines["player_id"])
    # the market-aware system predicts only players with a line; the others predict everyone
    market = pred.loc[pred["system_id"] == "market_residual_v1"]
    assert set(market["player_id"]) == accepted & lined and (market["line_source"] == "consensus_main").all()
    for sid in line_free:
        sub = pred.loc[pred["system_id"] == sid]
        assert set(sub["player_id"]) == accepted
        with_line = sub.loc[sub["line_source"] == "consensus_main"]
        assert set(with_line["player_id"]) == (accepted & lined)
        assert (with_line["recommendation"] != "NO_LINE").all()
        no_line = sub.loc[sub["line_source"] == "none"]
        assert set(no_line["player_id"]) == accepted - lined
        assert (no_line["recommendation"] == "NO_LINE").all() and no_line["line_points"].isna().all()
    assert (pred["predicted_points"] >= 0).all()
    assert pred["confidence"].between(0, 100).all()
    assert ((pred["edge"] - (pred["predicted_points"] - pred["line_points"])).abs().dropna() < 1e-6).all()
    assert report.n_predictions == len(pred)
    with connect(settings) as con:
        rejects = con.fetch_df(
            "select system_id, player_id, reason_code from raw.prediction_rejects order by 1, 2")
    # each system records both rejects: the stale row and the line without a feature row
    assert len(rejects) == 2 * len(systems)
    assert set(zip(rejects["player_id"], rejects["reason_code"], strict=True)) == {
        (stale_id, "stale"), (999999, "no_feature_row")}


def test_rescoring_never_duplicates_and_keeps_the_latest_run(scored):
    settings, _, _, _, _, first = scored
    before = predictions(settings)
    second = score_date(settings, SCORE_DATE, correlation_id="rerun", spec=syn.SPEC, params=syn.PARAMS)
    after = predictions(settings)
    assert len(after) == len(before)
    assert not after.duplicated(["system_id", "player_id", "game_date", "line_source"]).any()
    assert set(after["prediction_run_id"]) == {second.prediction_run_id}
    assert set(after["correlation_id"]) == {"rerun"}
    # same models, same features: same numbers
    cols = ["system_id", "player_id", "predicted_points", "confidence", "recommendation"]
    pd.testing.assert_frame_equal(before[cols], after[cols])
    with connect(settings) as con:
        n_raw = con.fetchone("select count(*) from raw.prediction_scores")[0]
    assert n_raw == 2 * len(before)  # raw is append-only; the merge keeps one row per key
    # a dbt rebuild without new scores changes nothing (merged_at stays)
    run_dbt(["build", "--selector", "phase5"], settings)
    again = predictions(settings)
    pd.testing.assert_series_equal(again["merged_at"], after["merged_at"])
    assert first.prediction_run_id != second.prediction_run_id


def test_contract_rejects_a_no_line_row_with_a_line(scored):
    settings, *_ = scored
    with connect(settings) as con:
        con.execute("""
            insert into raw.prediction_scores
            select * replace ('bad-run' as prediction_run_id, 'NO_LINE' as recommendation,
                              now() + interval 1 hour as scored_at)
            from raw.prediction_scores where line_source = 'consensus_main' limit 1
        """)
    with pytest.raises(DbtError, match="player_prop_predictions"):
        run_dbt(["build", "--selector", "phase5"], settings)


def test_grading_counts_void_and_matches_a_recomputation(scored):
    settings, store, lines, day, stale_id, _ = scored
    pred = predictions(settings)
    lined_played = sorted(set(pred.loc[pred["line_source"] == "consensus_main", "player_id"]))
    void_id = lined_played[0]
    with connect(settings) as con:
        syn.write_box_scores(con, store, SCORE_DATE, drop_player_ids=(void_id,), on=SCORE_DATE)
    run_dbt(["build", "--selector", "phase6"], settings)  # no run_date: the fixture misses the SLO
    with connect(settings) as con:
        acc = con.fetch_df("select * from grading.prediction_accuracy")
        perf = con.fetch_df("select * from grading.system_daily_performance order by system_id")
    assert len(acc) == len(pred)  # every game of the date is finished
    void = acc.loc[acc["grade_status"] == "void"]
    assert set(void["player_id"]) == {void_id} and len(void) == 4  # 4 systems, the market one included
    actual = day.set_index("player_id")["actual_points"]
    graded = acc.loc[acc["grade_status"] == "graded"].copy()
    expected_error = (graded["player_id"].map(actual) - graded["predicted_points"]).abs()
    assert np.allclose(graded["absolute_error"], expected_error)
    for sid, grp in acc.groupby("system_id"):
        row = perf.loc[perf["system_id"] == sid].iloc[0]
        bets = grp.loc[grp["is_bet"] & (grp["grade_status"] == "graded")]
        act = bets["player_id"].map(actual)
        won = ((bets["recommendation"] == "OVER") & (act > bets["line_points"])) | (
            (bets["recommendation"] == "UNDER") & (act < bets["line_points"]))
        push = act == bets["line_points"]
        hits, pushes = int((won & ~push).sum()), int(push.sum())
        misses = len(bets) - hits - pushes
        assert (row["n_bets"], row["hits"], row["misses"], row["pushes"]) == (len(bets), hits, misses, pushes)
        assert row["n_void"] == 1
        lo, hi = wilson(hits, hits + misses)
        if hits + misses:
            assert row["hit_rate"] == pytest.approx(hits / (hits + misses))
            assert (row["wilson_low"], row["wilson_high"]) == (pytest.approx(lo), pytest.approx(hi))
            # all synthetic prices are -110: a hit pays 100/110
            assert row["roi"] == pytest.approx((hits * 100 / 110 - misses) / len(bets))
        with_line = grp.loc[(grp["grade_status"] == "graded") & grp["line_points"].notna()]
        assert row["mae_line"] == pytest.approx(
            (with_line["player_id"].map(actual) - with_line["line_points"]).abs().mean())


def test_phase6_validation_fails_with_the_counts_on_a_mismatch(scored):
    settings, store, *_ = scored
    with connect(settings) as con:
        syn.write_box_scores(con, store, SCORE_DATE)
    run_dbt(["build", "--selector", "phase6"], settings)
    with connect(settings) as con:  # lose one graded row behind dbt's back
        con.execute("delete from grading.prediction_accuracy where prediction_id = "
                    "(select min(prediction_id) from grading.prediction_accuracy)")
    outcome = run_dbt(["build", "--select", "prediction_grading_reconciliation+"], settings, check=False)
    assert not outcome.success
    assert any("test_graded_rows_match_predictions" in f for f in outcome.failures)


def test_unfinished_games_are_pending_not_graded(scored):
    settings, store, *_ = scored
    with connect(settings) as con:  # results only up to the day before
        syn.write_box_scores(con, store, SCORE_DATE - timedelta(days=1))
    run_dbt(["build", "--selector", "phase6"], settings)
    with connect(settings) as con:
        n = con.fetchone("select count(*) from grading.prediction_accuracy")[0]
    assert n == 0


def coverage(settings) -> pd.DataFrame:
    with connect(settings) as con:
        return con.fetch_df("select * from grading.prediction_coverage order by game_date")


def test_coverage_slo_passes_when_met_and_fails_the_run_date_build_when_missed(scored):
    settings, store, lines, day, stale_id, _ = scored
    with connect(settings) as con:
        syn.write_box_scores(con, store, SCORE_DATE)
    # 1 stale row + 1 line without a feature row out of the lined players: below 95%
    n_lined = len(lines)
    with pytest.raises(DbtError, match="test_prediction_coverage_slo"):
        run_dbt(["build", "--selector", "phase6"], settings, vars={"run_date": str(SCORE_DATE)})
    row = coverage(settings).iloc[0]
    assert (row["n_players_with_line"], row["n_players_predicted"], row["n_systems"]) == (n_lined, n_lined - 2, 4)
    assert row["n_players_rejected"] == 2 and not row["meets_slo"] and row["is_run_date"]
    # without run_date the history is reported, not tested
    run_dbt(["build", "--selector", "phase6"], settings)
    assert not coverage(settings).iloc[0]["meets_slo"]
    # a date with lines but nothing scored: zero coverage, the run fails
    other = SCORE_DATE + timedelta(days=1)
    with connect(settings) as con:
        extra = syn.make_lines(store, [other])
        con.duckdb.register("_extra", extra)
        con.execute("insert into analytics.player_consensus_lines by name select * from _extra")
        con.duckdb.unregister("_extra")
    with pytest.raises(DbtError, match="test_prediction_coverage_slo"):
        run_dbt(["build", "--selector", "phase6"], settings, vars={"run_date": str(other)})
    cov = coverage(settings)
    row = cov.loc[pd.to_datetime(cov["game_date"]).dt.date == other].iloc[0]
    assert row["n_players_predicted"] == 0 and row["n_players_with_line"] == len(extra)


def test_coverage_slo_met(tmp_settings):
    store = syn.make_store()
    lines = syn.make_lines(store, [SCORE_DATE])
    with connect(tmp_settings) as con:
        syn.write_tables(con, store, lines)
        syn.write_box_scores(con, store, SCORE_DATE)
    train(tmp_settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS, systems=["rolling_average_v1"])
    score_date(tmp_settings, SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS, systems=["rolling_average_v1"])
    run_dbt(["build", "--selector", "phase6"], tmp_settings, vars={"run_date": str(SCORE_DATE)})
    row = coverage(tmp_settings).iloc[0]
    assert row["meets_slo"] and row["coverage_rate"] == 1.0 and row["n_players_with_line"] == len(lines)


def test_export_writes_picks_and_performance_as_json_and_csv(scored):
    import csv
    import json

    from python_jobs.ml.export import export_date

    settings, store, *_ = scored
    with connect(settings) as con:
        syn.write_box_scores(con, store, SCORE_DATE)
    run_dbt(["build", "--selector", "phase6"], settings)
    report = export_date(settings, SCORE_DATE)
    directory = settings.exports_dir / SCORE_DATE.isoformat()
    pred = predictions(settings)
    picks = json.loads((directory / "picks.json").read_text())
    assert len(picks) == len(pred) == report.rows["picks"]
    assert {p["player_name"] for p in picks} <= set(store["player_name"])
    with (directory / "picks.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(pred) and rows[0].keys() == picks[0].keys()
    perf = json.loads((directory / "performance.json").read_text())
    assert sorted(p["system_id"] for p in perf) == ["catboost_v1", "ensemble_v1", "market_residual_v1",
                                                    "rolling_average_v1"]
    assert report.rows["accuracy"] == len(pred)
    first = {f: (directory / f).read_text() for f in report.files}
    again = export_date(settings, SCORE_DATE)  # a rerun overwrites with the same content
    assert {f: (directory / f).read_text() for f in again.files} == first
    assert json.loads((directory / "manifest.json").read_text())["rows"] == report.rows
