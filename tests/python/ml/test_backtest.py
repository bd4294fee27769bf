"""Walk-forward backtest: no leakage, anchors, grading figures on precise rows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from python_jobs.ml.backtest import BacktestError, anchors_for, backtest, grade, summarize, wilson
from python_jobs.warehouse.connection import connect
from tests.python.conftest import make_settings
from tests.python.ml import synthetic as syn

FIRST = date(2025, 1, 10)
D = date(2025, 1, 17)
LAST = date(2025, 1, 19)


def build(settings, store: pd.DataFrame, lines: pd.DataFrame) -> None:
    with connect(settings) as con:
        syn.write_tables(con, store, lines)


def as_of_morning(store: pd.DataFrame, day: date) -> pd.DataFrame:
    """The warehouse on the morning of ``day``: no rows after it, no results of it."""
    kept = store.loc[store["game_date"] <= day].copy()
    today = kept["game_date"] == day
    kept.loc[today, "actual_points"] = np.nan
    kept["did_play"] = kept["did_play"].astype(object)
    kept.loc[today, "did_play"] = None
    kept.loc[today, "is_upcoming"] = True
    return kept


def test_predictions_for_d_do_not_depend_on_games_after_d(tmp_path):
    store = syn.make_store()
    dates = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    lines = syn.make_lines(store, dates)
    full = make_settings(tmp_path / "full")
    morning = make_settings(tmp_path / "morning")
    build(full, store, lines)
    build(morning, as_of_morning(store, D), lines.loc[lines["game_date"] <= D])
    kwargs = {"retrain_every_days": 3, "spec": syn.SPEC, "params": syn.PARAMS}
    out_full = tmp_path / "full.json"
    res_full = backtest(full, FIRST, LAST, output=out_full, include_predictions=True, **kwargs)
    res_morning = backtest(morning, FIRST, D, include_predictions=True, **kwargs)
    with_full = pd.DataFrame(res_full["predictions"])
    with_morning = pd.DataFrame(res_morning["predictions"])
    cols = ["system_id", "player_id", "predicted_points", "prediction_std", "edge", "confidence", "recommendation",
            "p_over", "calibration_version", "best_book", "best_price", "expected_value"]
    on_d_full = with_full.loc[with_full["game_date"] == str(D), cols].sort_values(cols[:2]).reset_index(drop=True)
    on_d_morning = with_morning.loc[with_morning["game_date"] == str(D), cols].sort_values(cols[:2]).reset_index(
        drop=True)
    assert len(on_d_full) == 4 * int((lines["game_date"] == D).sum())  # 4 systems, all lined rows
    pd.testing.assert_frame_equal(on_d_full, on_d_morning)
    # D is graded in the full warehouse and pending on its morning
    assert set(with_full.loc[with_full["game_date"] == str(D), "grade_status"]) == {"graded"}
    assert set(with_morning.loc[with_morning["game_date"] == str(D), "grade_status"]) == {"pending"}
    # the JSON file holds the per-system and per-edge-bucket figures
    saved = json.loads(out_full.read_text())
    overall = saved["systems"]["catboost_v1"]["overall"]
    for key in ("n_predictions", "n_bets", "hits", "pushes", "hit_rate", "wilson_low", "wilson_high", "roi",
                "mae_model", "mae_line", "brier", "brier_market", "log_loss", "log_loss_market", "ece"):
        assert key in overall
    assert overall["brier_market"] == pytest.approx(0.25)  # the synthetic market says 0.5 for every line
    assert set(saved["systems"]["catboost_v1"]["edge_buckets"]) == {"0-1", "1-2", "2-3", "3-5", "5+"}
    assert sum(b["n_predictions"] for b in saved["systems"]["catboost_v1"]["edge_buckets"].values()) \
        == overall["n_predictions"]
    assert saved["systems"]["catboost_v1"]["calibration"]["by_confidence"]
    # every model was fit on games strictly before its anchor
    for anchor in saved["anchors"]:
        assert anchor["training_window"]["validation_end"] < anchor["anchor"]


def test_anchors_retrain_on_the_cadence():
    dates = [date(2025, 2, 19), date(2025, 2, 20), date(2025, 2, 26), date(2025, 3, 12), date(2025, 3, 13)]
    mapping = anchors_for(dates, 7)
    assert mapping == {
        date(2025, 2, 19): date(2025, 2, 19), date(2025, 2, 20): date(2025, 2, 19),
        date(2025, 2, 26): date(2025, 2, 26), date(2025, 3, 12): date(2025, 3, 12),
        date(2025, 3, 13): date(2025, 3, 12),
    }
    assert set(anchors_for(dates, 1).values()) == set(dates)
    with pytest.raises(ValueError):
        anchors_for(dates, 0)


def test_backtest_without_lines_in_range_is_an_error(tmp_settings):
    store = syn.make_store()
    build(tmp_settings, store, syn.make_lines(store, [FIRST]))
    with pytest.raises(BacktestError, match="no consensus lines"):
        backtest(tmp_settings, LAST, LAST + timedelta(days=3), spec=syn.SPEC, params=syn.PARAMS)


def test_grade_and_summarize_on_precise_rows():
    rows = pd.DataFrame({
        "system_id": "s", "game_date": D,
        "player_id": [1, 2, 3, 4, 5, 6, 7],
        "line_points": [20.5, 20.5, 20.0, 15.5, 10.5, 30.5, 9.5],
        "predicted_points": [23.0, 18.0, 22.0, 16.0, 13.0, 25.0, 12.0],
        "prediction_std": 5.0,
        "edge": [2.5, -2.5, 2.0, 0.5, 2.5, -5.5, 2.5],
        "confidence": [69.0, 69.0, 60.0, 54.0, 69.0, 86.0, 69.0],
        "p_over": [0.69, 0.31, 0.60, 0.54, 0.69, 0.14, 0.69],  # the lean side's probability = confidence
        "recommendation": ["OVER", "UNDER", "OVER", "PASS", "OVER", "UNDER", "OVER"],
        "over_price": [-110, -110, 120, -110, -110, -110, -3],
        "under_price": [-110, -110, -110, -110, -110, -150, 3],
        # 1 over hits, 2 under misses, 3 push, 4 PASS (lean over, misses), 5 void, 6 under hits at -150,
        # 7 over hits at "-3" (a median of -110 and +110: not a price, so unpriced)
        "actual_points": [25.0, 22.0, 20.0, 12.0, None, 28.0, 15.0],
        "did_play": [True, True, True, True, False, True, True],
        "is_upcoming": False,
    })
    graded = grade(rows)
    assert list(graded["grade_status"]) == ["graded"] * 4 + ["void", "graded", "graded"]
    def labels(col):
        return [x if isinstance(x, str) else None for x in graded[col]]

    assert labels("bet_result") == ["hit", "miss", "push", None, "void", "hit", "hit"]
    assert labels("lean_result") == ["hit", "miss", "push", "miss", None, "hit", "hit"]
    assert graded["profit_units"].tolist()[:3] == [pytest.approx(100 / 110), -1.0, 0.0]
    assert np.isnan(graded["profit_units"].iloc[3]) and graded["profit_units"].iloc[4] == 0.0
    assert np.isnan(graded["profit_units"].iloc[6])
    assert graded["profit_units"].iloc[5] == pytest.approx(100 / 150)
    s = summarize(graded)
    assert (s["n_predictions"], s["n_void"], s["n_bets"], s["hits"], s["misses"], s["pushes"]) == (6, 1, 5, 3, 1, 1)
    assert s["hit_rate"] == pytest.approx(3 / 4, abs=1e-4)
    lo, hi = wilson(3, 4)
    assert (s["wilson_low"], s["wilson_high"]) == (pytest.approx(lo, abs=1e-4), pytest.approx(hi, abs=1e-4))
    # ROI over priced bets hit/miss/push: (0.909 - 1 + 0 + 0.667) / 4
    assert s["roi"] == pytest.approx((100 / 110 - 1 + 100 / 150) / 4, abs=1e-4)
    assert s["mae_model"] == pytest.approx(np.mean([2, 4, 2, 4, 3, 3]), abs=1e-3)
    assert s["mae_line"] == pytest.approx(np.mean([4.5, 1.5, 0, 3.5, 2.5, 5.5]), abs=1e-3)


def test_wilson_interval_known_values():
    lo, hi = wilson(50, 100)
    assert (lo, hi) == (pytest.approx(0.4038, abs=1e-4), pytest.approx(0.5962, abs=1e-4))
    assert wilson(0, 0) == (None, None)


def clean_and_poisoned(tmp_path, store, lines):
    """Two warehouses of the same store and lines, the second with the results of FIRST and later
    poisoned (+40 points): a fit that reads them predicts differently in the two."""
    poisoned = store.copy()
    later = poisoned["game_date"] >= FIRST
    poisoned.loc[later, "actual_points"] = poisoned.loc[later, "actual_points"] + 40
    clean_settings, poisoned_settings = make_settings(tmp_path / "clean"), make_settings(tmp_path / "poisoned")
    build(clean_settings, store, lines)
    build(poisoned_settings, poisoned, lines)
    return clean_settings, poisoned_settings


@pytest.mark.timeout(300)
def test_a_model_never_trains_on_its_anchor_day_or_later(tmp_path):
    """Discriminating leakage check: the labels of the anchor day and after are poisoned (+40 points)
    in one warehouse only. A model fit strictly before its anchor predicts the same in both; one
    whose window includes the anchor day (``<=`` for ``<``) does not. One anchor covers the range,
    and the backtest's end lies after it, so the anchor day's results are loaded and reachable."""
    store = syn.make_store()
    dates = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    lines = syn.make_lines(store, dates)
    clean_settings, poisoned_settings = clean_and_poisoned(tmp_path, store, lines)
    kwargs = {"retrain_every_days": 30, "spec": syn.SPEC, "params": syn.PARAMS, "include_predictions": True}
    clean = backtest(clean_settings, FIRST, LAST, **kwargs)
    bad = backtest(poisoned_settings, FIRST, LAST, **kwargs)
    assert [a["anchor"] for a in clean["anchors"]] == [str(FIRST)]
    cols = ["system_id", "game_date", "player_id", "predicted_points", "prediction_std", "edge", "recommendation"]
    a = pd.DataFrame(clean["predictions"])[cols].sort_values(cols[:3]).reset_index(drop=True)
    b = pd.DataFrame(bad["predictions"])[cols].sort_values(cols[:3]).reset_index(drop=True)
    # every lined player of every date, by each of the four systems (market_residual_v1 needs a line:
    # in this synthetic window every row has one)
    assert set(a["system_id"]) == {"rolling_average_v1", "catboost_v1", "ensemble_v1", "market_residual_v1"}
    assert len(a) == 4 * len(lines)
    pd.testing.assert_frame_equal(a, b)
    # the oracle, from the store itself: training rows are exactly the labelled rows before FIRST
    assert clean["anchors"][0]["training_window"]["validation_end"] == str(
        max(d for d in store["game_date"] if d < FIRST))


@pytest.mark.timeout(300)
def test_progress_follows_every_scored_date_in_order(tmp_path):
    """The CLI's progress bar is fed once per game date with lines, (done, total, date) in order."""
    store = syn.make_store()
    dates = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    lines = syn.make_lines(store, dates)
    settings = make_settings(tmp_path / "wh")
    build(settings, store, lines)
    seen: list[tuple[int, int, str]] = []
    backtest(settings, FIRST, LAST, retrain_every_days=3, spec=syn.SPEC, params=syn.PARAMS,
             on_date=lambda done, total, d: seen.append((done, total, d)))
    lined = sorted({str(d) for d in lines["game_date"]})  # the oracle: the dates that have lines
    assert seen == [(i, len(lined), d) for i, d in enumerate(lined, start=1)]


@pytest.mark.timeout(300)
def test_the_stacking_and_calibrators_fit_only_on_lines_before_the_anchor(tmp_path):
    """Lines on every date from the store's 6th day: the market system's correction weight and every
    P(over) calibrator are fitted on lined held-out rows (checked: evidence was used). The results of
    the anchor day and later are poisoned (+40) in one warehouse only; every prediction, P(over) and
    calibration version is identical, and every fit's evidence ends before the anchor."""
    store = syn.make_store()
    all_dates = sorted(set(store["game_date"]))
    lines = syn.make_lines(store, [d for d in all_dates[5:] if d <= LAST])
    clean_settings, poisoned_settings = clean_and_poisoned(tmp_path, store, lines)
    params = replace(syn.PARAMS, validation_rows=400, calibration_min_rows=50, market_stack_min_rows=200,
                     market_stack_min_fit_rows=100)
    kwargs = {"retrain_every_days": 30, "spec": syn.SPEC, "params": params, "include_predictions": True}
    clean = backtest(clean_settings, FIRST, LAST, **kwargs)
    bad = backtest(poisoned_settings, FIRST, LAST, **kwargs)
    anchor = clean["anchors"][0]
    assert anchor["anchor"] == str(FIRST)
    stack = anchor["correction_weights"]["market_residual_v1"]
    assert stack["n"] >= 200 and stack["held_out_through"] < str(FIRST)  # evidence used, all before
    # the implied-median shift: every lined labelled row before the anchor, none of its day or later
    assert stack["shift"]["n"] == int((lines["game_date"] < FIRST).sum())
    # both point-forecast weights carry the absolute-error rule's evidence (the paired gain and its t)
    for evidence in (stack, stack["shift"]):
        assert {"w_hat", "gain", "gain_se", "t", "n", "weight"} <= set(evidence) and "se" not in evidence
    for sid, cal in anchor["calibration"].items():
        assert cal["n"] >= 50 and cal["stack"] is not None, sid  # the stack was fitted, not the prior
        assert cal["evidence"]["n"] > 0 and cal["evidence"]["held_out_through"] < str(FIRST), sid
        assert cal["fitted_through"] < str(FIRST)
        assert (cal["version"] == "market") == (cal["weight"] == 0), sid
    cols = ["system_id", "game_date", "player_id", "predicted_points", "prediction_std", "p_over", "confidence",
            "calibration_version", "recommendation"]
    a = pd.DataFrame(clean["predictions"])[cols].sort_values(cols[:3]).reset_index(drop=True)
    b = pd.DataFrame(bad["predictions"])[cols].sort_values(cols[:3]).reset_index(drop=True)
    assert len(a) == 4 * int((lines["game_date"] >= FIRST).sum())
    pd.testing.assert_frame_equal(a, b)
    assert bad["anchors"][0]["correction_weights"] == clean["anchors"][0]["correction_weights"]
