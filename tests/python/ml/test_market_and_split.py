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


def lined_frame(n: int, seed: int = 1, novig: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    line = rng.uniform(5, 30, n).round() + 0.5
    return pd.DataFrame({
        "player_id": np.arange(n), "game_date": date(2025, 3, 1),
        "consensus_line_points": line, "no_vig_over_probability": novig, "n_books": 5,
        "line_spread": 0.0, "line_movement": 0.0,
        "points_avg_season": line + rng.normal(0, 2, n), "points_avg_last_10": line + rng.normal(0, 2, n),
    })


def test_market_without_lined_history_is_the_markets_implied_median():
    system = get_system("market_residual_v1")
    ctx = FitContext(syn.SPEC, MlParams())
    model = system.fit(lined_frame(0), ctx)
    rows = pd.concat([lined_frame(3, novig=0.5), lined_frame(3, novig=0.6)], ignore_index=True)
    pred = model.predict(rows)
    line = rows["consensus_line_points"].to_numpy()
    shift = 6.0 / 1.702 * math.log(0.6 / 0.4)  # prior: sigma 6 points x the logit's normal quantile
    assert pred[:3] == pytest.approx(line[:3])
    assert pred[3:] == pytest.approx(line[3:] + shift)


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


def implied_median(rows: pd.DataFrame) -> np.ndarray:
    p = rows["no_vig_over_probability"].to_numpy(dtype=float)
    return rows["consensus_line_points"].to_numpy() + 6.0 / 1.702 * np.log(p / (1 - p))


def noisy_market_frame(n: int, seed: int, signal: float) -> pd.DataFrame:
    """Rows whose actual = the market's implied median + signal x (season avg - line) + noise (sd 6);
    the player's averages scatter around the line (sd 3); 100 rows per date."""
    rng = np.random.default_rng(seed)
    frame = over_dates(lined_frame(n, seed=seed), 100)
    frame["no_vig_over_probability"] = rng.uniform(0.4, 0.6, n)
    frame["points_avg_season"] = frame["consensus_line_points"] + rng.normal(0, 3, n)
    frame["points_avg_last_10"] = frame["consensus_line_points"] + rng.normal(0, 3, n)
    gap = frame["points_avg_season"] - frame["consensus_line_points"]
    frame["actual_points"] = implied_median(frame) + signal * gap + rng.normal(0, 6, n)
    return frame


def test_a_correction_of_pure_noise_gets_weight_about_zero():
    system = get_system("market_residual_v1")
    weights = []
    for seed in range(20):
        train = noisy_market_frame(3000, seed, signal=0.0)
        model = system.fit(train, FitContext(syn.SPEC, MlParams()))
        stack = model.hyperparameters["stack"]
        assert stack["n"] >= 2500  # held-out rows: every date after the first 200 rows
        weights.append(stack["weight"])
        test = noisy_market_frame(500, seed + 100, signal=0.0)
        # the ridge alone learned some noise; with weight 0 the model is exactly the market's median
        assert max(abs(c) for c in stack["unweighted_coefficients"][1:]) > 0.001
        if stack["weight"] == 0:
            assert model.predict(test) == pytest.approx(implied_median(test), abs=1e-9)
    # least squares clipped at 0 would give a positive weight to about half of the noise samples; the
    # t-ratio shrinkage gives 0 to most (one sample here has a 4.5-sigma chance correlation of the
    # noise with the no-vig logit and keeps part of it)
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
    # 600 rows over 6 dates: held-out rows = the 4 dates after the first 200 rows = 400 < 500
    system = get_system("market_residual_v1")
    train = noisy_market_frame(600, 3, signal=0.5)
    model = system.fit(train, FitContext(syn.SPEC, MlParams()))
    assert model.hyperparameters["stack"]["n"] == 400 and model.hyperparameters["stack"]["weight"] == 0.0
    test = noisy_market_frame(50, 4, signal=0.5)
    assert model.predict(test) == pytest.approx(implied_median(test))


def test_held_out_corrections_never_see_their_own_date_or_later():
    """Poison the actual points of day 10 and later (+40): the held-out corrections of days <= 10 and
    the targets of days < 10 are unchanged (a fit that included its own date would move day 10's)."""
    from python_jobs.ml.systems.market_residual_v1 import (
        held_out_corrections,
        input_columns,
        prior_vector,
    )

    clean = noisy_market_frame(2000, 5, signal=0.5)
    cut = date(2025, 1, 1) + timedelta(days=10)
    poisoned = clean.copy()
    later = poisoned["game_date"] >= cut
    poisoned.loc[later, "actual_points"] += 40
    columns = input_columns(clean, "residual")
    prior = prior_vector(columns, "residual")
    c1, t1, d1 = held_out_corrections(clean, columns, "residual", 200, prior, 200)
    c2, t2, d2 = held_out_corrections(poisoned, columns, "residual", 200, prior, 200)
    assert list(d1) == list(d2) and min(d1) == date(2025, 1, 3)  # the first date with >= 200 rows before it
    upto = np.array([d <= cut for d in d1])
    assert upto.sum() == 900  # 2025-01-03 .. 2025-01-11, 100 rows each
    np.testing.assert_array_equal(c1[upto], c2[upto])
    np.testing.assert_array_equal(t1[np.array([d < cut for d in d1])], t2[np.array([d < cut for d in d2])])
    assert np.abs(c1[~upto] - c2[~upto]).min() > 0  # later dates did learn from the poisoned days


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
