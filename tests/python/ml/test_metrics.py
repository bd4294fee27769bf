"""The shared statistics (ml/metrics.py) on precise cases with independent oracles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from python_jobs.ml.metrics import (
    MarketCalibrator,
    brier,
    expected_calibration_error,
    log_loss,
    reliability,
    shrunk_stack_weight,
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


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _lg(p):
    return np.log(p / (1 - p))


def test_calibrator_without_evidence_is_the_market():
    raw = np.array([0.9, 0.2, 0.6])
    market = np.array([0.55, 0.45, np.nan])
    empty = MarketCalibrator.fit(np.array([]), np.array([]), np.array([]), prior_rows=200, min_rows=200)
    assert empty.version == "market" and empty.n == 0
    assert empty.apply(raw, market) == pytest.approx([0.55, 0.45, 0.5])  # no market price: 0.5
    # 199 rows < min_rows = 200: still no evidence, whatever they say
    few = MarketCalibrator.fit(np.full(199, 0.9), np.full(199, 0.5), np.ones(199), prior_rows=200, min_rows=200)
    assert few.version == "market" and few.apply(raw, market) == pytest.approx([0.55, 0.45, 0.5])


def test_calibrator_recovers_a_known_stack_of_market_and_model():
    # outcomes drawn from sigmoid(0.2 + 0.8 logit(market) + 0.5 logit(raw)): a large sample recovers it
    rng = np.random.default_rng(3)
    n = 200_000
    market = rng.uniform(0.3, 0.7, n)
    raw = rng.uniform(0.2, 0.8, n)
    y = (rng.uniform(size=n) < _sig(0.2 + 0.8 * _lg(market) + 0.5 * _lg(raw))).astype(float)
    cal = MarketCalibrator.fit(raw, market, y, prior_rows=10, min_rows=200, fitted_through="2025-03-01")
    assert cal.a == pytest.approx(0.2, abs=0.03)
    assert cal.b_market == pytest.approx(0.8, abs=0.06) and cal.b_model == pytest.approx(0.5, abs=0.03)
    assert cal.version.startswith("stack-") and cal.n == n
    assert MarketCalibrator.from_dict(cal.to_dict()) == cal


def test_calibrator_gives_a_noise_model_no_weight_and_keeps_the_market():
    # the market is right; the model's raw P(over) is confident noise unrelated to the outcome
    rng = np.random.default_rng(5)
    n = 20_000
    market = rng.uniform(0.35, 0.65, n)
    raw = rng.uniform(0.05, 0.95, n)
    y = (rng.uniform(size=n) < market).astype(float)
    cal = MarketCalibrator.fit(raw, market, y, prior_rows=200, min_rows=200)
    assert cal.b_model == pytest.approx(0.0, abs=0.02)
    assert cal.b_market == pytest.approx(1.0, abs=0.1) and cal.a == pytest.approx(0.0, abs=0.03)
    # on fresh rows from the same process its Brier score is the market's (within 0.0005)
    market2 = rng.uniform(0.35, 0.65, n)
    raw2 = rng.uniform(0.05, 0.95, n)
    y2 = (rng.uniform(size=n) < market2).astype(float)
    assert brier(cal.apply(raw2, market2), y2) <= brier(market2, y2) + 0.0005
    assert brier(raw2, y2) > brier(market2, y2) + 0.05  # the raw model alone is far worse


def test_calibrator_repairs_an_overconfident_model_when_the_market_is_silent():
    # market says 0.5 everywhere; the truth is sigmoid(0.5 logit(raw)): raw is twice too confident
    rng = np.random.default_rng(11)
    n = 50_000
    raw = rng.uniform(0.05, 0.95, n)
    y = (rng.uniform(size=n) < _sig(0.5 * _lg(raw))).astype(float)
    cal = MarketCalibrator.fit(raw, np.full(n, 0.5), y, prior_rows=200, min_rows=200)
    assert cal.b_model == pytest.approx(0.5, abs=0.04)
    # the oracle: on fresh rows, stated vs observed per decile of stated probability (plain pandas)
    raw2 = rng.uniform(0.05, 0.95, n)
    y2 = (rng.uniform(size=n) < _sig(0.5 * _lg(raw2))).astype(float)
    frame = pd.DataFrame({"p": cal.apply(raw2, np.full(n, 0.5)), "raw": raw2, "y": y2})
    frame["bin"] = pd.cut(frame["p"], 10)
    table = frame.groupby("bin", observed=True).agg(p=("p", "mean"), y=("y", "mean"), n=("y", "size"))
    table = table[table["n"] >= 1000]
    assert (table["p"] - table["y"]).abs().max() < 0.03
    raw_table = frame.assign(bin=pd.cut(frame["raw"], 10)).groupby("bin", observed=True).agg(
        p=("raw", "mean"), y=("y", "mean"))
    assert (raw_table["p"] - raw_table["y"]).abs().max() > 0.1  # uncalibrated before


def test_calibrator_prior_dominates_a_small_sample_and_loads_a_platt_model():
    # 300 rows that say "always over" cannot move a 100,000-row prior far from the market
    cal = MarketCalibrator.fit(np.full(300, 0.5), np.full(300, 0.5), np.ones(300), prior_rows=100_000,
                               min_rows=200)
    assert 0.5 < cal.apply(np.array([0.5]), np.array([0.5]))[0] < 0.51
    legacy = MarketCalibrator.from_dict({"a": 0.3, "b": 0.5, "n": 10, "prior_rows": 200.0,
                                         "fitted_through": "2025-03-01", "method": "platt"})
    assert legacy.apply(np.array([0.8]), np.array([0.4]))[0] == pytest.approx(_sig(0.3 + 0.5 * _lg(0.8)))
    assert legacy.version.startswith("platt-")


def test_stack_weight_of_pure_noise_is_about_zero():
    weights = []
    for seed in range(50):
        rng = np.random.default_rng(seed)
        correction = rng.normal(0, 1, 20_000)
        target = rng.normal(0, 6, 20_000)  # actual - base: unrelated to the correction
        weights.append(shrunk_stack_weight(correction, target, min_rows=500)["weight"])
    weights = np.array(weights)
    # plain least squares clipped at 0 would be 0 half of the time; shrunk by the t-ratio, ~84%
    assert (weights == 0).mean() >= 0.7
    assert weights.max() < 0.1 and weights.mean() < 0.01


def test_stack_weight_of_a_real_signal_is_its_share():
    rng = np.random.default_rng(2)
    correction = rng.normal(0, 2, 5000)
    for share in (0.3, 0.6):
        target = share * correction + rng.normal(0, 6, 5000)
        out = shrunk_stack_weight(correction, target, min_rows=500)
        assert out["weight"] == pytest.approx(share, abs=0.08) and out["weight"] > 0
        # the oracle: least squares by hand, then the t-ratio shrinkage
        w_hat = (correction * target).sum() / (correction**2).sum()
        se = math.sqrt(((target - w_hat * correction) ** 2).sum() / 4999 / (correction**2).sum())
        assert out["weight"] == pytest.approx(w_hat * (1 - (se / w_hat) ** 2))
    # a correction half as large as the truth: the weight is capped at 1
    assert shrunk_stack_weight(correction, 2 * correction, min_rows=500)["weight"] == 1.0
    # too little evidence: 0 whatever it says
    assert shrunk_stack_weight(correction[:499], correction[:499], min_rows=500)["weight"] == 0.0


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
