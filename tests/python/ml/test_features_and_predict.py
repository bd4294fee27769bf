"""Feature spec parsing and the recommendation maths (precise cases)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from python_jobs.ml.features import FeatureSpecError, load_feature_spec, parse_feature_spec
from python_jobs.ml.params import MlParams, load_ml_params
from python_jobs.ml.predict import recommend, residual_spread, side_probabilities


def test_project_spec_is_read_from_dbt_project_and_hash_is_stable():
    spec = load_feature_spec()
    assert len(spec.names) >= 5
    assert len(set(spec.names)) == len(spec.names)
    assert spec.hash == load_feature_spec().hash
    params = load_ml_params()
    # the baseline's blend only names features of the spec
    assert params.baseline_blend and set(params.baseline_blend) <= set(spec.names)


def test_spec_hash_changes_with_order_dtype_or_default():
    a = parse_feature_spec([{"name": "x", "dtype": "float", "default": 1}, {"name": "y", "dtype": "int"}])
    b = parse_feature_spec([{"name": "y", "dtype": "int"}, {"name": "x", "dtype": "float", "default": 1}])
    c = parse_feature_spec([{"name": "x", "dtype": "float", "default": 2}, {"name": "y", "dtype": "int"}])
    assert len({a.hash, b.hash, c.hash}) == 3


@pytest.mark.parametrize("entries, message", [
    ([], "non-empty"),
    ([{"name": "x"}], "needs at least"),
    ([{"name": "x", "dtype": "float"}, {"name": "x", "dtype": "float"}], "listed twice"),
    ([{"name": "x", "dtype": "blob"}], "unknown dtype"),
    ([{"name": "X-1", "dtype": "float"}], "lowercase identifier"),
])
def test_bad_specs_are_refused(entries, message):
    with pytest.raises(FeatureSpecError, match=message):
        parse_feature_spec(entries)


def phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_side_probabilities_half_point_and_whole_lines():
    p_over, p_under = side_probabilities(np.array([22.0, 22.0]), np.array([5.0, 5.0]), np.array([20.5, 20.0]))
    # half-point line: no push, the two sides sum to 1
    assert p_over[0] == pytest.approx(1 - phi((20.5 - 22) / 5))
    assert p_over[0] + p_under[0] == pytest.approx(1.0)
    # whole line: over needs >= 21 (20.5 threshold), under needs <= 19 (19.5): the push takes 20
    assert p_over[1] == pytest.approx(1 - phi((20.5 - 22) / 5))
    assert p_under[1] == pytest.approx(phi((19.5 - 22) / 5))
    assert p_over[1] + p_under[1] < 1.0


def test_recommendation_rules():
    params = MlParams(min_edge_points=1.0, min_confidence=55.0)
    predicted = np.array([25.0, 20.8, 15.0, 12.0, 30.0])
    std = np.array([5.0, 5.0, 5.0, 5.0, 40.0])
    line = np.array([22.5, 20.5, 18.5, np.nan, 27.5])
    edge, confidence, rec = recommend(predicted, std, line, params)
    assert list(rec) == ["OVER", "PASS", "UNDER", "NO_LINE", "PASS"]
    assert confidence[0] == pytest.approx(100 * (1 - phi((22.5 - 25) / 5)), abs=0.01)
    assert confidence[2] == pytest.approx(100 * phi((18.5 - 15) / 5), abs=0.01)
    assert np.isnan(edge[3]) and confidence[3] == 0.0
    # |edge| 2.5 but a huge spread: confidence 52.5 < 55 -> PASS
    assert 50 < confidence[4] < 55
    assert ((rec == "NO_LINE") == np.isnan(line)).all()
    assert ((confidence >= 0) & (confidence <= 100)).all()


def test_residual_spread_uses_buckets_with_enough_rows():
    predicted = np.concatenate([np.full(200, 3.0), np.full(50, 22.0)])
    actual = np.concatenate([np.full(200, 5.0), np.full(50, 32.0)])
    overall, buckets = residual_spread(predicted, actual)
    assert overall == pytest.approx(math.sqrt((200 * 4 + 50 * 100) / 250))
    assert buckets == [[0.0, 5.0, pytest.approx(2.0)]]  # the 20-25 bucket has < 100 rows
