"""The shared statistics (ml/metrics.py) on precise cases with independent oracles."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from python_jobs.ml.metrics import (
    MarketCalibrator,
    absolute_stack_weight,
    brier,
    expected_calibration_error,
    log_loss,
    reliability,
    shrunk_stack_weight,
    wilson_interval,
    win_profit,
)
from tests.python.ml.oracles import absolute_weight_by_hand, least_squares_weight_by_hand


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


def on_dates(n: int, per_date: int) -> np.ndarray:
    """Game dates for ``n`` rows in order, ``per_date`` rows each."""
    return np.array([date(2025, 1, 1) + timedelta(days=i // per_date) for i in range(n)], dtype=object)


def fit_calibrator(raw, market, y, per_date=500, prior_rows=200, min_rows=200, evidence_min_rows=500):
    return MarketCalibrator.fit(raw, market, y, on_dates(len(y), per_date), prior_rows=prior_rows,
                                min_rows=min_rows, evidence_min_rows=evidence_min_rows)


def test_calibrator_without_evidence_is_the_market_exactly():
    raw = np.array([0.9, 0.2, 0.6])
    market = np.array([0.55, 0.45, np.nan])
    empty = fit_calibrator(np.array([]), np.array([]), np.array([]))
    assert empty.version == "market" and empty.n == 0
    np.testing.assert_array_equal(empty.apply(raw, market), [0.55, 0.45, 0.5])  # no market price: 0.5
    # 199 rows < min_rows = 200: no fit, whatever they say
    few = fit_calibrator(np.full(199, 0.9), np.full(199, 0.5), np.ones(199))
    assert few.version == "market" and few.stack is None
    np.testing.assert_array_equal(few.apply(raw, market), [0.55, 0.45, 0.5])
    # 450 rows that all went over, 150 a date: the stack is fitted (it moves off the market) but only
    # the third date is held out (150 rows < 500): no evidence, so P(over) is the no-vig price itself
    loud = fit_calibrator(np.full(450, 0.9), np.full(450, 0.5), np.ones(450), per_date=150)
    assert loud.n == 450 and loud.stack[0] > 0.5 and loud.evidence["n"] == 150 and loud.weight == 0.0
    assert loud.version == "market"
    np.testing.assert_array_equal(loud.apply(raw, market), [0.55, 0.45, 0.5])


def test_the_stack_fit_recovers_a_known_stack_of_market_and_model():
    # outcomes drawn from sigmoid(0.2 + 0.8 logit(market) + 0.5 logit(raw)): a large sample recovers it
    rng = np.random.default_rng(3)
    n = 200_000
    market = rng.uniform(0.3, 0.7, n)
    raw = rng.uniform(0.2, 0.8, n)
    y = (rng.uniform(size=n) < _sig(0.2 + 0.8 * _lg(market) + 0.5 * _lg(raw))).astype(float)
    a, b_market, b_model = MarketCalibrator.fit_stack(raw, market, y, prior_rows=10)
    assert a == pytest.approx(0.2, abs=0.03)
    assert b_market == pytest.approx(0.8, abs=0.06) and b_model == pytest.approx(0.5, abs=0.03)
    # with the evidence rule on top: plenty of held-out evidence, so (almost) the whole stack is used
    cal = MarketCalibrator.fit(raw, market, y, on_dates(n, 10_000), prior_rows=10, min_rows=200,
                               evidence_min_rows=500, fitted_through="2025-03-01")
    assert cal.weight > 0.95 and cal.version.startswith("stack-") and cal.n == n
    assert cal.b_model == pytest.approx(cal.weight * cal.stack[2])
    assert cal.b_market == pytest.approx(1 + cal.weight * (cal.stack[1] - 1))
    assert MarketCalibrator.from_dict(cal.to_dict()) == cal


def test_a_noise_model_gets_no_weight_and_states_the_no_vig_probability_exactly():
    """The market is right; the model's raw P(over) is confident noise. The stack alone learns some
    of the noise (b_model or a off the prior); the evidence rule gives that departure weight 0 on
    most samples, and then P(over) is the no-vig probability, bit for bit."""
    weights = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        n = 4000
        market = rng.uniform(0.35, 0.65, n)
        raw = rng.uniform(0.05, 0.95, n)
        y = (rng.uniform(size=n) < market).astype(float)
        cal = fit_calibrator(raw, market, y, per_date=200)
        assert cal.evidence["n"] == n - 200  # every date after the first (200 rows before it)
        assert cal.stack != (0.0, 1.0, 0.0)  # the unshrunk stack did move off the market
        weights.append(cal.weight)
        if cal.weight == 0:
            fresh = rng.uniform(0.35, 0.65, 50)
            np.testing.assert_array_equal(cal.apply(rng.uniform(0.05, 0.95, 50), fresh), fresh)
            assert cal.version == "market"
    weights = np.array(weights)
    assert (weights == 0).mean() >= 0.7 and weights.mean() < 0.1


def test_a_real_signal_gets_a_positive_weight_and_repairs_an_overconfident_model():
    # market says 0.5 everywhere; the truth is sigmoid(0.5 logit(raw)): raw is twice too confident
    rng = np.random.default_rng(11)
    n = 50_000
    raw = rng.uniform(0.05, 0.95, n)
    y = (rng.uniform(size=n) < _sig(0.5 * _lg(raw))).astype(float)
    cal = fit_calibrator(raw, np.full(n, 0.5), y, per_date=2000)
    assert cal.weight > 0.9 and cal.b_model == pytest.approx(0.5, abs=0.05)
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
    assert brier(frame["p"], y2) < brier(np.full(n, 0.5), y2) - 0.01  # better than the market's 0.5


def test_the_calibrators_weight_by_hand():
    """Oracle: the walk-forward held-out departures rebuilt date by date with pandas masks, then the
    maximum-likelihood w of P = sigmoid(logit(m) + w c) by a plain grid search and its Wald se from
    the observed information, then the t-ratio shrinkage; a weak real signal, so 0 < weight < 1."""
    rng = np.random.default_rng(4)
    n, per_date = 3000, 300
    market = rng.uniform(0.4, 0.6, n)
    raw = rng.uniform(0.2, 0.8, n)
    y = (rng.uniform(size=n) < _sig(_lg(market) + 0.15 * _lg(raw))).astype(float)
    cal = fit_calibrator(raw, market, y, per_date=per_date)
    frame = pd.DataFrame({"d": on_dates(n, per_date), "raw": raw, "m": market, "y": y})
    parts = []
    for d in sorted(frame["d"].unique()):
        before, today = frame[frame["d"] < d], frame[frame["d"] == d]
        if len(before) < 200:
            continue
        a, bm, bx = MarketCalibrator.fit_stack(before["raw"].to_numpy(), before["m"].to_numpy(),
                                               before["y"].to_numpy(), prior_rows=200)
        parts.append(today.assign(c=a + (bm - 1) * _lg(today["m"]) + bx * _lg(today["raw"])))
    held = pd.concat(parts)
    grid = np.linspace(-1, 3, 40_001)
    z = _lg(held["m"].to_numpy())[:, None] + grid[None, :] * held["c"].to_numpy()[:, None]
    loglik = (held["y"].to_numpy()[:, None] * z - np.log1p(np.exp(z))).sum(axis=0)
    w_hat = grid[np.argmax(loglik)]
    p = _sig(_lg(held["m"].to_numpy()) + w_hat * held["c"].to_numpy())
    info = (p * (1 - p) * held["c"].to_numpy() ** 2).sum()
    pearson = (((held["y"] - p) ** 2) / (p * (1 - p))).sum() / (len(held) - 1)
    se = math.sqrt(pearson / info)
    expected = min(1.0, max(0.0, w_hat * max(0.0, 1 - (se / w_hat) ** 2)))
    assert cal.evidence["n"] == len(held) == n - per_date
    assert cal.evidence["w_hat"] == pytest.approx(w_hat, abs=2e-4)
    assert cal.evidence["se"] == pytest.approx(se, rel=1e-3)
    assert 0 < cal.weight < 1 and cal.weight == pytest.approx(expected, abs=5e-4)


def test_the_calibrators_evidence_never_sees_its_own_date_or_later():
    """The first held-out date is the first with >= min_rows rows strictly before it (a fit that took
    its own date would hold out day 1 too, and day 2 of the small case); the held-out departure of a
    date does not move when that date's and later outcomes are flipped."""
    rng = np.random.default_rng(8)
    n, per_date = 4000, 250
    market = rng.uniform(0.4, 0.6, n)
    raw = rng.uniform(0.1, 0.9, n)
    y = (rng.uniform(size=n) < _sig(_lg(market) + 0.4 * _lg(raw))).astype(float)
    clean = fit_calibrator(raw, market, y, per_date=per_date)
    assert clean.evidence["n"] == n - per_date  # 250 rows on day 1 >= 200: day 2 is the first held out
    assert clean.evidence["held_out_through"] == str(on_dates(n, per_date)[-1])
    few = fit_calibrator(raw[:200], market[:200], y[:200], per_date=100)
    assert few.evidence["n"] == 0 and few.weight == 0.0  # day 2 has 100 rows before it: nothing held out


def test_walk_forward_held_out_fits_only_on_earlier_dates():
    """A predictor that fits the mean of the earlier outcomes: poisoning the outcomes of day 6 and
    later (+100) leaves the held-out predictions of days <= 6 as they were; the oracle is the plain
    mean of the earlier days' rows (pandas)."""
    from python_jobs.ml.metrics import walk_forward_held_out

    days = on_dates(1000, 100)
    y = np.random.default_rng(1).normal(0, 1, 1000)
    poisoned = y.copy()
    cut = date(2025, 1, 6)
    poisoned[days >= cut] += 100

    def mean_before(values):
        return lambda before, today: np.full(int(today.sum()), values[before].mean())

    held, clean = walk_forward_held_out(days, 250, mean_before(y))
    _, bad = walk_forward_held_out(days, 250, mean_before(poisoned))
    frame = pd.DataFrame({"d": days, "y": y})
    oracle = [frame.loc[frame["d"] < d, "y"].mean() for d in days[held]]
    assert held.sum() == 700 and min(days[held]) == date(2025, 1, 4)  # 300 rows before Jan 4
    np.testing.assert_allclose(clean, oracle, rtol=0, atol=1e-12)
    upto = days[held] <= cut
    np.testing.assert_array_equal(clean[upto], bad[upto])
    assert np.all(bad[~upto] > clean[~upto] + 10)  # later dates did learn from the poisoned days


def test_calibrator_prior_dominates_a_small_sample_and_loads_older_models():
    # 300 rows that say "always over" cannot move a 100,000-row prior far from the market
    a, b_market, b_model = MarketCalibrator.fit_stack(np.full(300, 0.5), np.full(300, 0.5), np.ones(300),
                                                      prior_rows=100_000)
    assert 0 < a < 0.04
    legacy = MarketCalibrator.from_dict({"a": 0.3, "b": 0.5, "n": 10, "prior_rows": 200.0,
                                         "fitted_through": "2025-03-01", "method": "platt"})
    assert legacy.apply(np.array([0.8]), np.array([0.4]))[0] == pytest.approx(_sig(0.3 + 0.5 * _lg(0.8)))
    assert legacy.version.startswith("platt-")
    # a stack saved before the evidence rule is applied as it was saved (its coefficients in full)
    saved = MarketCalibrator.from_dict({"a": -0.02, "b_market": 1.35, "b_model": 0.32, "n": 492,
                                        "prior_rows": 200.0, "min_rows": 200, "fitted_through": "2025-02-25",
                                        "method": "market_stack", "version": "stack-9d9d99af96"})
    assert saved.apply(np.array([0.6]), np.array([0.55]))[0] == pytest.approx(
        _sig(-0.02 + 1.35 * _lg(0.55) + 0.32 * _lg(0.6)))


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


def skewed(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """Noise with median exactly 0 and mean scale x (1 - ln 2) > 0 (a shifted exponential), skewed
    like points minus the line (mean above, median below the centre)."""
    return scale * (rng.exponential(1.0, n) - math.log(2))


def test_absolute_weight_by_hand_on_precise_cases_with_ties():
    # equal weights |c| = 2, r / c = 0.1 .. 0.4: every w in [0.2, 0.3] minimises; the tie goes to the
    # end nearest 0: w_hat 0.2; d = |r| - |r - 0.4| = (0, 0.4, 0.4, 0.4): mean 0.3, sd 0.2, se 0.1,
    # t 3, weight 0.2 x (1 - 1/9)
    c, r = np.full(4, 2.0), np.array([0.2, 0.4, 0.6, 0.8])
    out = absolute_stack_weight(c, r, min_rows=2)
    assert out["w_hat"] == pytest.approx(0.2) and out["gain"] == pytest.approx(0.3)
    assert out["gain_se"] == pytest.approx(0.1) and out["t"] == pytest.approx(3.0)
    assert out["weight"] == pytest.approx(0.2 * 8 / 9) and out["n"] == 4
    # the mirror image: minimum on [-0.3, -0.2], w_hat -0.2 (nearest 0), a gain, but weight 0 (clip)
    out = absolute_stack_weight(c, -r, min_rows=2)
    assert out["w_hat"] == pytest.approx(-0.2) and out["t"] == pytest.approx(3.0) and out["weight"] == 0.0
    # the minimum interval [-1, 1] holds 0: w_hat 0, no gain, t 0, weight 0
    out = absolute_stack_weight(np.ones(4), np.array([-2.0, -1.0, 1.0, 2.0]), min_rows=2)
    assert (out["w_hat"], out["gain"], out["t"], out["weight"]) == (0.0, 0.0, 0.0, 0.0)
    # unequal weights: r / c = (1, 2) with |c| = (1, 3): the weighted median is 2 (L(1) = 3, L(2) = 1),
    # not the plain median 1.5; d = (|1| - |1 - 2|, |6| - |6 - 6|) = (0, 6): mean 3, se 3, t 1: weight 0
    out = absolute_stack_weight(np.array([1.0, 3.0]), np.array([1.0, 6.0]), min_rows=2)
    assert out["w_hat"] == 2.0 and out["t"] == pytest.approx(1.0) and out["weight"] == pytest.approx(0.0, abs=1e-12)
    # rows without a correction do not move w_hat but count as rows (d = 0)
    out = absolute_stack_weight(np.array([2.0, 2.0, 2.0, 2.0, 0.0]), np.array([0.2, 0.4, 0.6, 0.8, 5.0]),
                                min_rows=2)
    assert out["w_hat"] == pytest.approx(0.2) and out["gain"] == pytest.approx(1.2 / 5) and out["n"] == 5
    # no correction at all, or fewer than min_rows rows: 0
    assert absolute_stack_weight(np.zeros(600), np.ones(600), min_rows=500)["weight"] == 0.0
    assert absolute_stack_weight(c, r, min_rows=5)["weight"] == 0.0


def test_skewed_noise_whose_mean_departs_but_whose_median_does_not_gets_absolute_weight_zero():
    """r = c x z with z of median 0 and mean 0.61: the correction predicts the mean of r (least
    squares gives it a weight ~0.6) but not its median, which the MAE target rewards: the absolute
    rule gives 0 (t of its gain <= 1 on nearly every sample)."""
    absolute, squares = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        c = rng.normal(0, 1, 3000)
        r = c * skewed(rng, 3000, 2.0)
        out = absolute_stack_weight(c, r, min_rows=500)
        assert out["weight"] == pytest.approx(absolute_weight_by_hand(c, r)["weight"], abs=1e-12)
        assert out["w_hat"] == pytest.approx(absolute_weight_by_hand(c, r)["w_hat"], abs=1e-12)
        absolute.append(out["weight"])
        squares.append(shrunk_stack_weight(c, r, min_rows=500)["weight"])
        assert squares[-1] == pytest.approx(least_squares_weight_by_hand(c, r), abs=1e-12)
    absolute, squares = np.array(absolute), np.array(squares)
    assert np.all(squares > 0.4)  # the contrast: least squares trusts the skew's mean on every sample
    assert (absolute == 0).mean() >= 0.85 and absolute.max() < 0.1


def test_a_real_median_shift_gets_the_weighted_median_shrunk_by_its_gain():
    """r = 0.6 c + skewed noise of median 0 (mean +1.84, independent of c): the weight is the
    brute-force weighted median of r / c, shrunk by the t-ratio of its paired gain in absolute error."""
    rng = np.random.default_rng(11)
    c = rng.normal(0, 2, 2000)
    r = 0.6 * c + skewed(rng, 2000, 6.0)
    out = absolute_stack_weight(c, r, min_rows=500)
    oracle = absolute_weight_by_hand(c, r)
    assert out["w_hat"] == pytest.approx(oracle["w_hat"], abs=1e-12) and out["w_hat"] == pytest.approx(0.6, abs=0.1)
    assert out["t"] == pytest.approx(oracle["t"], rel=1e-9) and out["t"] > 2
    assert out["weight"] == pytest.approx(oracle["weight"], abs=1e-12) and 0.4 < out["weight"] < out["w_hat"]
    # the same evidence on 499 rows: below the minimum, 0 whatever it says; on 500 it counts
    assert absolute_stack_weight(c[:499], r[:499], min_rows=500)["weight"] == 0.0
    assert absolute_stack_weight(c[:500], r[:500], min_rows=500)["weight"] == pytest.approx(
        absolute_weight_by_hand(c[:500], r[:500])["weight"], abs=1e-12)


def test_absolute_weight_of_symmetric_pure_noise_is_zero_on_nearly_every_sample():
    weights = []
    for seed in range(50):
        rng = np.random.default_rng(seed)
        weights.append(absolute_stack_weight(rng.normal(0, 1, 5000), rng.normal(0, 6, 5000), min_rows=500)["weight"])
    weights = np.array(weights)
    # the unshrunk weighted median would be positive about half of the time (the gain's t of pure
    # noise is about |Z| / 2, so about 5 % of samples clear t > 1)
    assert (weights == 0).mean() >= 0.85 and weights.mean() < 0.02 and weights.max() < 0.2


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
