"""The shared statistics (ml/metrics.py) on precise cases with independent oracles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from python_jobs.ml.metrics import (
    PlattCalibrator,
    brier,
    expected_calibration_error,
    log_loss,
    reliability,
    wilson_interval,
    win_profit,
)


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.96: centre (0.8 + 0.19208) / 1.38416, half 1.96 * sqrt(0.016 + 0.0096040) / 1.38416
    low, high = wilson_interval(8, 10)
    z = 1.96
    denom = 1 + z * z / 10
    centre = (0.8 + z * z / 20) / denom
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / denom
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_report_and_backtest_use_the_one_wilson():
    from python_jobs.ml import backtest
    from python_jobs.report import stats

    assert stats.wilson_interval is wilson_interval
    assert backtest.wilson(8, 10) == wilson_interval(8, 10)
    assert backtest.wilson(0, 0) == (None, None)


def test_win_profit_american_odds():
    out = win_profit(np.array([-110.0, 150.0, 100.0, -100.0, 50.0, np.nan]))
    assert out[:4] == pytest.approx([100 / 110, 1.5, 1.0, 1.0])
    assert np.isnan(out[4]) and np.isnan(out[5])  # +50 is not an American price


def test_platt_identity_without_rows_and_recovers_a_known_map():
    empty = PlattCalibrator.fit(np.array([]), np.array([]), prior_rows=200)
    assert empty.version == "identity" and empty.apply(np.array([0.7]))[0] == pytest.approx(0.7)
    # outcomes drawn from sigmoid(0.3 + 0.5 * logit(p)): a large sample recovers a, b
    rng = np.random.default_rng(3)
    p = rng.uniform(0.2, 0.8, 200_000)
    x = np.log(p / (1 - p))
    truth = 1 / (1 + np.exp(-(0.3 + 0.5 * x)))
    y = (rng.uniform(size=len(p)) < truth).astype(float)
    cal = PlattCalibrator.fit(p, y, prior_rows=10, fitted_through="2025-03-01")
    assert cal.a == pytest.approx(0.3, abs=0.03) and cal.b == pytest.approx(0.5, abs=0.03)
    assert cal.version.startswith("platt-") and cal.n == len(p)
    assert PlattCalibrator.from_dict(cal.to_dict()) == cal


def test_platt_prior_dominates_a_small_sample():
    # 10 rows that say "always over" cannot move a 1000-row prior far from the identity
    cal = PlattCalibrator.fit(np.full(10, 0.5), np.ones(10), prior_rows=1000)
    assert 0.5 < cal.apply(np.array([0.5]))[0] < 0.51


def test_brier_log_loss_and_reliability_by_hand():
    p = np.array([0.8, 0.6, 0.3])
    y = np.array([1.0, 0.0, 0.0])
    assert brier(p, y) == pytest.approx((0.04 + 0.36 + 0.09) / 3)
    assert log_loss(p, y) == pytest.approx(-(math.log(0.8) + math.log(0.4) + math.log(0.7)) / 3)
    conf = np.array([52.0, 54.0, 62.0, 64.0, 71.0])
    won = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    table = reliability(conf, won).set_index("bin")
    assert table.loc["50-55", ["n", "mean_confidence", "observed"]].tolist() == pytest.approx([2, 0.53, 0.5])
    assert table.loc["60-65", ["n", "observed"]].tolist() == [2, 1.0]
    # ECE: weights 2/5, 2/5, 1/5 of |0.5-0.53|, |1-0.63|, |0-0.71|
    expected = (2 * 0.03 + 2 * 0.37 + 1 * 0.71) / 5
    assert expected_calibration_error(conf, won) == pytest.approx(expected)
    assert isinstance(table, pd.DataFrame)
