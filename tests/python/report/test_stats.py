"""The performance statistics on hand-computed cases."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from python_jobs.report import stats
from tests.python.report import synthetic


def test_wilson_interval_matches_textbook_values():
    low, high = stats.wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)
    low, high = stats.wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)
    assert all(math.isnan(x) for x in stats.wilson_interval(0, 0))


def test_break_even_is_52_38_percent():
    assert stats.BREAK_EVEN_HIT_RATE == pytest.approx(0.5238, abs=1e-4)


def _graded() -> pd.DataFrame:
    acc = synthetic.accuracy_frame(synthetic.predictions_frame(empty_day=True))
    return acc.rename(columns={"bet_result": "result"})


def test_summary_by_system_on_the_synthetic_history():
    summary = stats.by_system(_graded()).set_index("system_id")
    cat = summary.loc["catboost_v1"]
    assert (cat.n_bets, cat.hits, cat.misses, cat.pushes) == (6, 4, 2, 0)
    assert cat.hit_rate == pytest.approx(4 / 6)
    # three OVER hits at -115, one UNDER hit at -105, two misses: profit / 6 settled bets
    assert cat.roi == pytest.approx((3 * 100 / 115 + 100 / 105 - 2) / 6)
    roll = summary.loc["rolling_average_v1"]
    assert (roll.hits, roll.misses, roll.pushes) == (1, 1, 1)
    assert roll.hit_rate == pytest.approx(0.5)
    assert roll.roi == pytest.approx((100 / 115 - 1 + 0) / 3)
    # MAE over the 4 graded rolling predictions: |27-30| + |19.5-12| + |22.5-20| + |10-9|
    assert roll.mae_model == pytest.approx((3 + 7.5 + 2.5 + 1) / 4)
    assert roll.mae_line == pytest.approx((4.5 + 5.5 + 0 + 1.5) / 4)


def test_profit_units_from_the_grading_win_over_recomputation():
    frame = _graded()
    frame["profit_units"] = frame["profit_units"].where(frame["system_id"] != "catboost_v1", 1.0)
    cat = stats.by_system(frame).set_index("system_id").loc["catboost_v1"]
    assert cat.roi == pytest.approx(1.0)


def test_cumulative_hit_rate_accumulates_per_system():
    cum = stats.cumulative_hit_rate(_graded())
    cat = cum[cum["system_id"] == "catboost_v1"]
    assert cat["cum_decided"].tolist() == [2, 4, 5, 6]
    assert cat["cum_hits"].tolist() == [2, 3, 3, 4]
    last = cat.iloc[-1]
    assert (last.wilson_low, last.wilson_high) == pytest.approx(stats.wilson_interval(4, 6))


def _lean_frame(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """rows of (edge, line, actual, confidence) for one system; the calibrated P(over) favours the
    side the edge points to with probability confidence / 100 (edge 0: no probability, no lean)."""
    return pd.DataFrame([{
        "system_id": "s", "game_date": date(2025, 1, 1), "recommendation": "PASS", "result": None,
        "edge": e, "line_points": line, "actual_points": actual, "predicted_points": line + e,
        "confidence": conf, "over_price": -110, "under_price": 120,
        "p_over": conf / 100 if e > 0 else 1 - conf / 100 if e < 0 else None,
    } for e, line, actual, conf in rows])


def test_edge_buckets_take_the_lean_side_of_every_lined_prediction():
    frame = _lean_frame([
        (0.5, 10.5, 12, 52), (-0.4, 10.5, 8, 52),     # 0-1: over hit, under hit
        (2.5, 20.5, 18, 60), (2.0, 20.5, 25, 60),      # 2-3: over miss, over hit
        (-6.0, 30.5, 31, 70), (0.0, 15.5, 20, 50),     # 5+: under miss; no p_over: no lean side
        (-3.0, 12.0, 12, 60),                          # 3-5: push
    ])
    b = stats.by_edge_bucket(frame).set_index("edge_bucket")
    assert b.loc["0–1", ["hits", "decided"]].tolist() == [2, 2]
    assert b.loc["0–1", "roi"] == pytest.approx((100 / 110 + 1.2) / 2)
    assert b.loc["2–3", ["hits", "misses"]].tolist() == [1, 1]
    assert b.loc["3–5", ["pushes", "decided"]].tolist() == [1, 0]
    assert math.isnan(b.loc["3–5", "hit_rate"])
    assert b.loc["5+", ["hits", "misses"]].tolist() == [0, 1]
    assert int(b["n_predictions"].sum()) == 6  # the edge-0 row has no side


def test_calibration_bins_stated_against_observed():
    frame = _lean_frame([(1, 10.5, 12, 52), (1, 10.5, 9, 54), (1, 10.5, 12, 62), (1, 10.5, 12, 64),
                         (1, 10.5, 10.5, 64)])  # the push is not a decided outcome
    cal = stats.calibration(frame).set_index("bin")
    assert cal.loc["50–55", "n"] == 2
    assert cal.loc["50–55", "mean_confidence"] == pytest.approx(0.53)
    assert cal.loc["50–55", "observed"] == pytest.approx(0.5)
    assert cal.loc["60–65", ["n", "observed"]].tolist() == [2, 1.0]
