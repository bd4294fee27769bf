"""Two processes scoring the same date at the same time: one row per key, the later run wins."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from python_jobs.ml.scoring import score_date
from python_jobs.ml.training import train
from python_jobs.warehouse.connection import connect
from tests.python.conftest import make_settings
from tests.python.ml import synthetic as syn
from tests.python.ml.conftest import SCORE_DATE


def _score_in_child(warehouse_dir: str, name: str) -> str:
    settings = make_settings(Path(warehouse_dir))
    return score_date(settings, SCORE_DATE, correlation_id=name, spec=syn.SPEC, params=syn.PARAMS).prediction_run_id


@pytest.mark.timeout(600)
def test_concurrent_scoring_never_duplicates(tmp_path):
    settings = make_settings(tmp_path / "warehouse")
    store = syn.make_store()
    lines = syn.make_lines(store, [SCORE_DATE])
    with connect(settings) as con:
        syn.write_tables(con, store, lines)
    train(settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS)

    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        # bounded: a child that dies or raises an unpicklable error must fail the test, not hang it
        runs = pool.starmap_async(_score_in_child, [(str(settings.warehouse_dir), "first"),
                                                    (str(settings.warehouse_dir), "second")]).get(timeout=300)
    assert len(set(runs)) == 2
    n_day = int((store["game_date"] == SCORE_DATE).sum())
    with connect(settings) as con:
        n_rows, n_keys = con.fetchone(
            "select count(*), count(distinct (system_id, player_id, game_date, line_source)) "
            "from predictions.player_prop_predictions")
        raw_runs = con.fetchall(
            "select prediction_run_id, max(scored_at) from raw.prediction_scores group by 1 order by 2")
        merged_runs = con.fetchall(
            "select distinct prediction_run_id from predictions.player_prop_predictions")
    # three line-free systems predict every row; market_residual_v1 only the players with a line
    assert n_rows == n_keys == 3 * n_day + len(lines)
    assert {r for r, _ in raw_runs} == set(runs)
    assert merged_runs == [(raw_runs[-1][0],)]  # the run scored last is the one kept
