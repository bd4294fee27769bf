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


def test_market_residual_learns_a_constant_bias_and_line_feature_a_slope():
    frame = lined_frame(20_000, seed=2)
    system = get_system("market_residual_v1")
    biased = frame.assign(actual_points=frame["consensus_line_points"] + 2.0)
    model = system.fit(biased, FitContext(syn.SPEC, MlParams(market_ridge=200)))
    # 20,000 rows against a 200-row prior: the learned bias is 2 * 20000 / 20200 of the truth
    assert model.predict(frame.head(50)) == pytest.approx(frame["consensus_line_points"].head(50) + 2.0, abs=0.05)
    sloped = frame.assign(actual_points=0.9 * frame["consensus_line_points"] + 1.0)
    model = system.fit(sloped, FitContext(syn.SPEC, MlParams(market_mode="line_feature")))
    assert model.predict(frame.head(50)) == pytest.approx(sloped["actual_points"].head(50), abs=0.01)


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
