"""No leakage on the real data: the backtest's predictions for D are identical whether or not the
games after D (and D's own results, and later lines) are in the warehouse.

Warehouse A is the full ten-season build. Warehouse B is a copy whose raw layer loses every box
score from D on, every schedule row after D and every prop line captured after D's morning; it is
rebuilt from raw (full refresh through Phase 4). Both then run the walk-forward backtest for D.

The backtest of A runs over D and D+1: its loader then reads D's own results (labelled rows are
read up to the range's end), so a training window that wrongly includes the anchor day D would
train A's models on D's results and change A's predictions for D. (Over D alone the loader never
reads D's results and such a bug would be invisible.)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from python_jobs.dbt_runner import run_dbt
from python_jobs.ml.backtest import backtest
from python_jobs.ml.params import load_ml_params
from python_jobs.warehouse.connection import connect
from tests.python.conftest import copy_warehouse

D = date(2025, 3, 12)
SYSTEMS = ["rolling_average_v1", "catboost_v1"]
COLUMNS = ["system_id", "player_id", "line_points", "predicted_points", "prediction_std", "edge", "confidence",
           "recommendation"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_predictions_for_d_are_identical_without_the_future(full_warehouse, tmp_path):
    params = replace(load_ml_params(), catboost={"iterations": 60, "depth": 6, "learning_rate": 0.1})
    with connect(full_warehouse) as con:  # dbt's in-process connection may hold changes in the WAL;
        con.execute("force checkpoint")  # copy_warehouse copies the DuckDB file only
    full = copy_warehouse(full_warehouse, tmp_path / "full")
    truncated = copy_warehouse(full_warehouse, tmp_path / "truncated")
    with connect(truncated) as con:
        deleted = {
            "box scores": con.fetchone("delete from raw.nba_player_game_logs where game_date >= ?", [D]),
            "schedule": con.fetchone("delete from raw.nba_schedule_games where game_date > ?", [D]),
            "lines": con.fetchone("delete from raw.odds_player_props where captured_at >= ?",
                                 [pd.Timestamp(D) + pd.Timedelta(days=1, hours=5)]),
        }
    assert all(n[0] > 0 for n in deleted.values()), deleted
    run_dbt(["build", "--selector", "through_phase4", "--full-refresh"], truncated)

    results = {}
    for name, settings in (("full", full), ("truncated", truncated)):
        result = backtest(settings, D, D + timedelta(days=1), systems=SYSTEMS, params=params,
                          include_predictions=True)
        assert [a["anchor"] for a in result["anchors"]] == [str(D)]  # one model, anchored on D
        frame = pd.DataFrame(result["predictions"])
        frame = frame.loc[frame["game_date"] == str(D)]
        results[name] = frame.sort_values(["system_id", "player_id"]).reset_index(drop=True)
    a, b = results["full"], results["truncated"]
    assert len(a) > 100
    pd.testing.assert_frame_equal(a[COLUMNS], b[COLUMNS])
    assert set(a["grade_status"]) <= {"graded", "void"}  # A knows the results ...
    assert set(b["grade_status"]) == {"pending"}  # ... B does not, and predicted the same
