"""market_residual_v1 and the row-count validation split on precise synthetic cases."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from python_jobs.ml.params import MlParams
from python_jobs.ml.systems import FitContext, get_system
from python_jobs.ml.training import TrainingDataError, split_by_rows
from tests.python.ml import synthetic as syn
from tests.python.ml.oracles import absolute_weight_by_hand, least_squares_weight_by_hand


def lined_frame(n: int, seed: int = 1, novig: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    line = rng.uniform(5, 30, n).round() + 0.5
    return pd.DataFrame({
        "player_id": np.arange(n), "game_date": date(2025, 3, 1),
        "consensus_line_points": line, "no_vig_over_probability": novig, "n_books": 5,
        "line_spread": 0.0, "line_movement": 0.0,
        "points_avg_season": line + rng.normal(0, 2, n), "points_avg_last_10": line + rng.normal(0, 2, n),
    })


def test_market_without_lined_history_is_the_line_itself():
    """No evidence for any departure from the market: the prediction is the consensus line, bit for
    bit, whatever the no-vig price says (before the evidence rule it was the implied median)."""
    system = get_system("market_residual_v1")
    ctx = FitContext(syn.SPEC, MlParams())
    model = system.fit(lined_frame(0), ctx)
    rows = pd.concat([lined_frame(3, novig=0.5), lined_frame(3, novig=0.6)], ignore_index=True)
    np.testing.assert_array_equal(model.predict(rows), rows["consensus_line_points"].to_numpy())
    assert model.hyperparameters["stack"]["shift"]["weight"] == 0.0


def over_dates(frame: pd.DataFrame, per_date: int) -> pd.DataFrame:
    """The same rows spread over consecutive game dates, ``per_date`` rows each."""
    return frame.assign(game_date=[date(2025, 1, 1) + timedelta(days=i // per_date) for i in range(len(frame))])


def test_market_residual_learns_a_constant_bias_and_line_feature_a_slope():
    frame = over_dates(lined_frame(20_000, seed=2), 200)
    system = get_system("market_residual_v1")
    biased = frame.assign(actual_points=frame["consensus_line_points"] + 2.0)
    model = system.fit(biased, FitContext(syn.SPEC, MlParams(market_ridge=200)))
    # 20,000 rows against a 200-row prior: the learned bias is 2 * 20000 / 20200 of the truth
    assert model.predict(frame.head(50)) == pytest.approx(frame["consensus_line_points"].head(50) + 2.0, abs=0.05)
    sloped = frame.assign(actual_points=0.9 * frame["consensus_line_points"] + 1.0)
    model = system.fit(sloped, FitContext(syn.SPEC, MlParams(market_mode="line_feature")))
    assert model.predict(frame.head(50)) == pytest.approx(sloped["actual_points"].head(50), abs=0.01)


def shift_points(rows: pd.DataFrame) -> np.ndarray:
    """The implied-median shift by hand: 6 points x logit(no-vig P(over)) / 1.702."""
    p = rows["no_vig_over_probability"].to_numpy(dtype=float)
    return 6.0 / 1.702 * np.log(p / (1 - p))


def implied_median(rows: pd.DataFrame) -> np.ndarray:
    return rows["consensus_line_points"].to_numpy() + shift_points(rows)


def shift_weight_by_hand(rows: pd.DataFrame, min_rows: int = 500) -> float:
    """The shift's weight in absolute error (tests/python/ml/oracles.py: brute-force weighted median
    of (actual - line) / shift, the t-ratio of its paired gain, the shrinkage); 0 below min_rows."""
    r = rows["actual_points"].to_numpy() - rows["consensus_line_points"].to_numpy()
    return absolute_weight_by_hand(shift_points(rows), r, min_rows)["weight"]


def noisy_market_frame(n: int, seed: int, signal: float, shift: float = 1.0) -> pd.DataFrame:
    """Rows whose actual = the line + ``shift`` x the implied-median shift + signal x (season avg -
    line) + noise (sd 6); the player's averages scatter around the line (sd 3); 100 rows per date."""
    rng = np.random.default_rng(seed)
    frame = over_dates(lined_frame(n, seed=seed), 100)
    frame["no_vig_over_probability"] = rng.uniform(0.4, 0.6, n)
    frame["points_avg_season"] = frame["consensus_line_points"] + rng.normal(0, 3, n)
    frame["points_avg_last_10"] = frame["consensus_line_points"] + rng.normal(0, 3, n)
    gap = frame["points_avg_season"] - frame["consensus_line_points"]
    frame["actual_points"] = (frame["consensus_line_points"] + shift * shift_points(frame) + signal * gap
                              + rng.normal(0, 6, n))
    return frame


def test_a_shift_of_pure_noise_gets_weight_about_zero_and_the_prediction_is_the_line():
    """The vig asymmetry says nothing here (actual = line + noise): the shift weight is 0 on most
    samples, and where the correction's weight is 0 too the prediction is the line exactly."""
    system = get_system("market_residual_v1")
    weights, both_zero = [], 0
    for seed in range(20):
        train = noisy_market_frame(3000, seed, signal=0.0, shift=0.0)
        model = system.fit(train, FitContext(syn.SPEC, MlParams()))
        shift = model.hyperparameters["stack"]["shift"]
        assert shift["n"] == 3000  # parameter-free: every lined row before the cutoff is held out
        assert shift["weight"] == pytest.approx(shift_weight_by_hand(train), abs=1e-12)
        weights.append(shift["weight"])
        if shift["weight"] == 0 and model.hyperparameters["stack"]["weight"] == 0:
            both_zero += 1
            test = noisy_market_frame(200, seed + 100, signal=0.0, shift=0.0)
            np.testing.assert_array_equal(model.predict(test), test["consensus_line_points"].to_numpy())
    weights = np.array(weights)
    assert (weights == 0).mean() >= 0.7 and weights.mean() < 0.1 and both_zero >= 10


def test_a_real_shift_gets_a_positive_weight_and_beats_the_line():
    system = get_system("market_residual_v1")
    train = noisy_market_frame(3000, 7, signal=0.0, shift=1.0)
    model = system.fit(train, FitContext(syn.SPEC, MlParams()))
    shift = model.hyperparameters["stack"]["shift"]
    assert 0.7 < shift["weight"] <= 1.0
    assert shift["weight"] == pytest.approx(shift_weight_by_hand(train), abs=1e-12)
    test = noisy_market_frame(5000, 8, signal=0.0, shift=1.0)
    truth = implied_median(test)
    line = test["consensus_line_points"].to_numpy()
    assert np.mean((model.predict(test) - truth) ** 2) < 0.3 * np.mean((line - truth) ** 2)


def test_a_shift_that_moves_the_mean_but_not_the_median_gets_weight_zero_and_the_prediction_is_the_line():
    """actual - line = shift x z with z of median 0 and mean 0.61 (skewed like points minus the line):
    the shift predicts the mean of actual - line but not its median. Least squares would give it a
    weight > 0.4 (and so move the forecast away from the MAE-optimal median); judged in absolute error
    it gets 0, the correction too, and the market system predicts the line."""
    system = get_system("market_residual_v1")
    at_the_line = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        train = noisy_market_frame(3000, seed, signal=0.0, shift=0.0)
        r = shift_points(train) * 2.0 * (rng.exponential(1.0, len(train)) - math.log(2))
        train["actual_points"] = train["consensus_line_points"] + r
        model = system.fit(train, FitContext(syn.SPEC, MlParams()))
        stack = model.hyperparameters["stack"]
        assert least_squares_weight_by_hand(shift_points(train), r) > 0.4  # the contrast
        assert stack["shift"]["weight"] == pytest.approx(shift_weight_by_hand(train), abs=1e-12)
        if stack["shift"]["weight"] == 0 and stack["weight"] == 0:
            at_the_line += 1
            test = noisy_market_frame(200, seed + 100, signal=0.0)
            np.testing.assert_array_equal(model.predict(test), test["consensus_line_points"].to_numpy())
    assert at_the_line >= 8


def test_a_correction_of_pure_noise_gets_weight_about_zero():
    """actual = line + noise: nothing for the correction (nor the shift) to find. (With a real shift
    in the data the correction is not noise: it can learn the part of the shift that the shrunk shift
    weight leaves in the residual.)"""
    system = get_system("market_residual_v1")
    weights = []
    for seed in range(20):
        train = noisy_market_frame(3000, seed, signal=0.0, shift=0.0)
        model = system.fit(train, FitContext(syn.SPEC, MlParams()))
        stack = model.hyperparameters["stack"]
        assert stack["n"] >= 2500  # held-out rows: every date after the first 200 rows
        weights.append(stack["weight"])
        test = noisy_market_frame(500, seed + 100, signal=0.0, shift=0.0)
        # the ridge alone learned some noise; with weight 0 the model is the line + the weighted shift
        assert max(abs(c) for c in stack["unweighted_coefficients"][1:]) > 0.001
        if stack["weight"] == 0:
            expected = test["consensus_line_points"].to_numpy() + shift_weight_by_hand(train) * shift_points(test)
            assert model.predict(test) == pytest.approx(expected, abs=1e-9)
    # least squares clipped at 0 would give a positive weight to about half of the noise samples; the
    # t-ratio shrinkage gives 0 to most
    assert np.mean(np.array(weights) == 0) >= 0.7 and np.median(weights) == 0 and np.mean(weights) < 0.1


def test_a_real_correction_gets_a_positive_weight_and_beats_the_market():
    system = get_system("market_residual_v1")
    train = noisy_market_frame(3000, 7, signal=0.5)
    model = system.fit(train, FitContext(syn.SPEC, MlParams()))
    assert 0.5 < model.hyperparameters["stack"]["weight"] <= 1.0
    test = noisy_market_frame(5000, 8, signal=0.5)
    truth = implied_median(test) + 0.5 * (test["points_avg_season"] - test["consensus_line_points"])
    err_model = np.mean((model.predict(test) - truth) ** 2)
    err_market = np.mean((implied_median(test) - truth) ** 2)
    assert err_model < 0.5 * err_market


def test_too_little_held_out_evidence_keeps_the_market():
    # 600 rows over 6 dates: held-out rows for the correction = the 4 dates after the first 200 rows =
    # 400 < 500: weight 0; the shift (every row held out: 600 >= 500) keeps its own weight
    system = get_system("market_residual_v1")
    train = noisy_market_frame(600, 3, signal=0.5)
    model = system.fit(train, FitContext(syn.SPEC, MlParams()))
    assert model.hyperparameters["stack"]["n"] == 400 and model.hyperparameters["stack"]["weight"] == 0.0
    test = noisy_market_frame(50, 4, signal=0.5)
    w = shift_weight_by_hand(train)
    assert w > 0 and model.hyperparameters["stack"]["shift"]["weight"] == pytest.approx(w, abs=1e-12)
    assert model.predict(test) == pytest.approx(test["consensus_line_points"].to_numpy() + w * shift_points(test))
    # 499 rows: no weight for the shift either: the line
    small = system.fit(noisy_market_frame(499, 3, signal=0.5), FitContext(syn.SPEC, MlParams()))
    np.testing.assert_array_equal(small.predict(test), test["consensus_line_points"].to_numpy())


def test_held_out_corrections_never_see_their_own_date_or_later():
    """Poison the actual points of day 10 and later (+40): the held-out corrections of days <= 10 and
    the targets of days < 10 are unchanged (a fit that included its own date would move day 10's;
    so would a shift weight fitted on rows of its own date or later)."""
    from python_jobs.ml.systems.market_residual_v1 import held_out_corrections, input_columns

    clean = noisy_market_frame(2000, 5, signal=0.5)
    cut = date(2025, 1, 1) + timedelta(days=10)
    poisoned = clean.copy()
    later = poisoned["game_date"] >= cut
    poisoned.loc[later, "actual_points"] += 40
    columns = input_columns(clean, "residual")
    c1, t1, d1 = held_out_corrections(clean, columns, "residual", 200, 200, 500)
    c2, t2, d2 = held_out_corrections(poisoned, columns, "residual", 200, 200, 500)
    assert list(d1) == list(d2) and min(d1) == date(2025, 1, 3)  # the first date with >= 200 rows before it
    upto = np.array([d <= cut for d in d1])
    assert upto.sum() == 900  # 2025-01-03 .. 2025-01-11, 100 rows each
    np.testing.assert_array_equal(c1[upto], c2[upto])
    np.testing.assert_array_equal(t1[np.array([d < cut for d in d1])], t2[np.array([d < cut for d in d2])])
    assert np.abs(c1[~upto] - c2[~upto]).min() > 0  # later dates did learn from the poisoned days
    # the cut date's own target moved by exactly its poison: its base (the line + the shift at the
    # weight fitted on earlier dates) did not see its own date's results
    own = np.array([d == cut for d in d1])
    np.testing.assert_allclose(t2[own] - 40, t1[own], atol=1e-9)
    # the target's base on a held-out date is the line + the shift weighted on earlier rows only
    first_late = date(2025, 1, 9)  # 800 rows before it: the shift has a weight there
    frame = clean.assign(d=pd.to_datetime(clean["game_date"]).dt.date)
    w = shift_weight_by_hand(frame[frame["d"] < first_late])
    today = frame[frame["d"] == first_late]
    base = today["consensus_line_points"].to_numpy() + w * shift_points(today)
    assert w > 0
    np.testing.assert_allclose(t1[np.array([d == first_late for d in d1])],
                               today["actual_points"].to_numpy() - base, atol=1e-9)


def test_market_refuses_rows_without_a_line_and_a_bad_mode():
    system = get_system("market_residual_v1")
    model = system.fit(lined_frame(0), FitContext(syn.SPEC, MlParams()))
    rows = lined_frame(2)
    rows.loc[0, "consensus_line_points"] = np.nan
    with pytest.raises(ValueError, match="needs a line"):
        model.predict(rows)
    with pytest.raises(ValueError, match="ml_market_mode"):
        system.fit(lined_frame(0), FitContext(syn.SPEC, replace(MlParams(), market_mode="magic")))


def test_split_by_rows_takes_whole_dates_until_the_count_is_reached():
    # 10 dates with 1..10 rows (date i has i rows): 100 rows requested capped at 25% of 55 = 13;
    # from the latest date back: 10 (10), 9 (19 >= 13) -> validation = the last two dates
    start = date(2025, 1, 1)
    frame = pd.DataFrame([{"game_date": start + timedelta(days=i), "player_id": j}
                          for i in range(10) for j in range(i + 1)])
    train, valid = split_by_rows(frame, validation_rows=100, max_share=0.25)
    assert sorted(set(valid["game_date"])) == [start + timedelta(days=8), start + timedelta(days=9)]
    assert len(valid) == 19 and len(train) == 36
    train, valid = split_by_rows(frame, validation_rows=10, max_share=0.25)
    assert len(valid) == 10 and len(train) == 45  # exactly the last date
    with pytest.raises(TrainingDataError):
        split_by_rows(frame.loc[frame["game_date"] == start + timedelta(days=9)], 5, 1.0)
