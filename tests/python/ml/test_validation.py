"""Feature-row validation: each reason on a precise row; valid rows pass untouched."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from python_jobs.ml.params import MlParams
from python_jobs.ml.validation import FeatureFrameError, validate_feature_rows
from tests.python.ml import synthetic as syn

D = date(2025, 1, 15)


def rows():
    store = syn.make_store()
    day = store.loc[store["game_date"] == D].reset_index(drop=True)
    assert len(day) >= 8
    return day


def test_each_reason_is_recorded_and_valid_rows_pass():
    day = rows()
    day.loc[0, "is_stale"] = True
    day.loc[0, "stale_reason"] = "no game in 45 days"
    day.loc[1, "points_avg_last_10"] = np.nan
    day.loc[2, "minutes_avg_last_10"] = 75.0  # spec max 60
    day.loc[3, "points_avg_season"] = np.inf
    day.loc[4, "feature_source_max_date"] = D  # data from the game date itself
    day.loc[5, "game_date"] = D + timedelta(days=1)
    day.loc[6, "feature_quality_score"] = 10.0
    params = syn.PARAMS.__class__(**{**syn.PARAMS.__dict__, "min_feature_quality": 50.0})
    valid, rejects = validate_feature_rows(day, syn.SPEC, params, D)
    codes = dict(zip(rejects["feature_row_id"], rejects["reason_code"], strict=True))
    ids = day["feature_row_id"]
    assert codes == {
        ids[0]: "stale", ids[1]: "missing_feature", ids[2]: "out_of_range", ids[3]: "out_of_range",
        ids[4]: "future_data", ids[5]: "wrong_date", ids[6]: "low_feature_quality",
    }
    reasons = dict(zip(rejects["feature_row_id"], rejects["reason"], strict=True))
    assert "no game in 45 days" in reasons[ids[0]]
    assert "points_avg_last_10" in reasons[ids[1]]
    assert "minutes_avg_last_10=75.0" in reasons[ids[2]]
    assert len(valid) == len(day) - 7
    assert set(valid["feature_row_id"]) == set(ids[7:])


def test_every_problem_of_a_row_is_listed_first_code_wins():
    day = rows().head(1).copy()
    day["is_stale"] = True
    day["points_avg_season"] = np.nan
    _, rejects = validate_feature_rows(day, syn.SPEC, MlParams(), D)
    assert rejects.loc[0, "reason_code"] == "stale"
    assert "missing_feature" in rejects.loc[0, "reason"]


def test_missing_columns_are_a_contract_error():
    day = rows().drop(columns=["points_avg_season"])
    with pytest.raises(FeatureFrameError, match="points_avg_season"):
        validate_feature_rows(day, syn.SPEC, MlParams(), D)
