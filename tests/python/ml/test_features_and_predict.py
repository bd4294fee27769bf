"""Feature spec parsing and the recommendation maths (precise cases)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from python_jobs.ml.features import FeatureSpecError, load_feature_spec, parse_feature_spec
from python_jobs.ml.params import MlParams, load_ml_params
from python_jobs.ml.predict import raw_p_over, recommend, residual_spread


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


def test_raw_p_over_half_point_and_whole_lines():
    p_over = raw_p_over(np.array([22.0, 22.0]), np.array([5.0, 5.0]), np.array([20.5, 20.0]))
    # half-point line: no push, P(over) = 1 - Phi((20.5 - 22) / 5)
    assert p_over[0] == pytest.approx(1 - phi((20.5 - 22) / 5))
    # whole line: over needs >= 21 (20.5), under <= 19 (19.5); a push (20) is left out
    over, under = 1 - phi((20.5 - 22) / 5), phi((19.5 - 22) / 5)
    assert p_over[1] == pytest.approx(over / (over + under))


def payout(price: float) -> float:
    return price / 100 if price > 0 else 100 / -price


def test_recommendation_rules_are_price_aware():
    """A bet needs the edge's side to have EV >= min_ev at its best price; else PASS; NO_LINE
    exactly without a line. Oracle: EV = p * payout - (1 - p), by hand."""
    params = MlParams(min_ev=0.02)
    predicted = np.array([25.0, 25.0, 15.0, 12.0, 20.0, 25.0])
    line = np.array([22.5, 22.5, 18.5, np.nan, 20.5, 22.5])
    p_over = np.array([0.56, 0.53, 0.40, np.nan, 0.45, 0.60])
    best_over = np.array([-105.0, -110.0, -110.0, np.nan, 120.0, np.nan])
    best_under = np.array([-115.0, -110.0, 110.0, np.nan, -110.0, -110.0])
    out = recommend(predicted, p_over, line, best_over, best_under, params)
    ev0 = 0.56 * payout(-105) - 0.44           # 0.0933 >= 0.02 -> OVER
    ev1 = 0.53 * payout(-110) - 0.47           # 0.0118 < 0.02 -> PASS
    ev2 = 0.60 * payout(110) - 0.40            # 0.86 -> UNDER (edge < 0, P(under) 0.6)
    ev4 = 0.55 * payout(-110) - 0.45           # edge -0.5: UNDER side 0.55 at -110 -> 0.05 -> UNDER
    assert out["expected_value"][0] == pytest.approx(ev0)
    assert out["expected_value"][1] == pytest.approx(ev1)
    assert out["expected_value"][2] == pytest.approx(ev2)
    assert out["expected_value"][4] == pytest.approx(ev4)
    # no book at the consensus line for the over side: unpriced -> PASS
    assert list(out["recommendation"]) == ["OVER", "PASS", "UNDER", "NO_LINE", "UNDER", "PASS"]
    assert out["confidence"][0] == pytest.approx(56.0) and out["confidence"][2] == pytest.approx(60.0)
    assert out["confidence"][3] == 0.0 and np.isnan(out["edge"][3])
    assert list(out["price"][:3]) == [-105.0, -110.0, 110.0]


def test_residual_spread_uses_buckets_with_enough_rows():
    predicted = np.concatenate([np.full(200, 3.0), np.full(50, 22.0)])
    actual = np.concatenate([np.full(200, 5.0), np.full(50, 32.0)])
    overall, buckets = residual_spread(predicted, actual)
    assert overall == pytest.approx(math.sqrt((200 * 4 + 50 * 100) / 250))
    assert buckets == [[0.0, 5.0, pytest.approx(2.0)]]  # the 20-25 bucket has < 100 rows


def test_the_lean_side_follows_the_calibrated_probability_not_the_edge():
    """Issue #12 coherence: a prediction above the line whose calibrated P(over) is < 0.5 leans
    UNDER with confidence 100 * (1 - P(over)) > 50, priced and EV-tested on the UNDER side; P(over)
    exactly 0.5 leans OVER (the tie) at 50; below the line with P(over) > 0.5 leans OVER. Oracle by
    hand: EV = p * payout - (1 - p) of the favoured side at its own best price."""
    params = MlParams(min_ev=0.02)
    predicted = np.array([25.0, 25.0, 18.0, 21.0])
    line = np.array([22.5, 22.5, 20.5, 20.5])
    p_over = np.array([0.40, 0.47, 0.58, 0.50])
    best_over = np.array([-110.0, -110.0, -105.0, 150.0])
    best_under = np.array([-110.0, -120.0, -110.0, -110.0])
    out = recommend(predicted, p_over, line, best_over, best_under, params)
    assert list(out["side"]) == ["UNDER", "UNDER", "OVER", "OVER"]
    assert list(out["confidence"]) == pytest.approx([60.0, 53.0, 58.0, 50.0])
    assert min(out["confidence"]) >= 50.0
    assert list(out["price"]) == [-110.0, -120.0, -105.0, 150.0]
    ev = [0.60 * payout(-110) - 0.40,          # 0.145 -> UNDER although the edge is +2.5
          0.53 * payout(-120) - 0.47,          # -0.028 -> PASS
          0.58 * payout(-105) - 0.42,          # 0.132 -> OVER although the edge is -2.5
          0.50 * payout(150) - 0.50]           # 0.75 -> OVER at the tie
    assert list(out["expected_value"]) == pytest.approx(ev)
    assert list(out["recommendation"]) == ["UNDER", "PASS", "OVER", "OVER"]
    assert list(out["edge"]) == pytest.approx([2.5, 2.5, -2.5, 0.5])  # the edge is still the point gap
