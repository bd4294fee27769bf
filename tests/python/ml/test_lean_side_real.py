"""Issue #12 coherence on real scored rows: the bundled 2024-25 season and lines ingested through
replay and built through Phase 4, every system trained with cutoff 2025-03-12 and the date scored by
``score_date``. The oracle, in plain pandas over the stored scores: with a line, the recommended /
lean side is the side the stored calibrated P(over) favours (OVER when >= 0.5), the confidence is
100 x that side's probability (so >= 50), a bet is on that side and its EV at the recorded best
price, recomputed by hand, clears ``ml_min_ev``; without a line: NO_LINE, confidence 0."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tests.python.conftest import make_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

DAY = date(2025, 3, 12)


def payout(price: np.ndarray) -> np.ndarray:
    """Profit of a winning 1-unit bet at an American price."""
    return np.where(price > 0, price / 100.0, 100.0 / np.abs(price))


def test_real_scores_recommend_the_side_their_probability_favours(tmp_path):
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history
    from python_jobs.ml.params import load_ml_params
    from python_jobs.ml.scoring import score_date
    from python_jobs.ml.training import train
    from python_jobs.warehouse.connection import connect

    settings = make_settings(tmp_path / "wh")
    ingest_history(settings, seasons=["2024-25"], until=DAY)
    run_dbt(["build", "--selector", "through_phase4"], settings)
    train(settings, cutoff=DAY)
    report = score_date(settings, DAY, correlation_id="lean-real", build=False)
    with connect(settings) as con:
        df = con.fetch_df("select system_id, player_id, line_points, predicted_points, edge, p_over, confidence, "
                          "recommendation, best_price, expected_value from raw.prediction_scores where game_date = ?",
                          [DAY])
    assert len(df) == report.n_predictions and len(df) > 300
    assert set(df["system_id"]) == {"rolling_average_v1", "catboost_v1", "ensemble_v1", "market_residual_v1"}

    lined = df[df["line_points"].notna()].copy()
    unlined = df[df["line_points"].isna()]
    assert len(lined) > 300 and len(unlined) > 0
    assert (unlined["recommendation"] == "NO_LINE").all() and (unlined["confidence"] == 0).all()

    p = lined["p_over"].astype(float)
    side = np.where(p >= 0.5, "OVER", "UNDER")
    p_side = np.where(side == "OVER", p, 1 - p)
    assert lined["p_over"].notna().all()
    assert (lined["confidence"] >= 50).all()
    assert lined["confidence"].to_numpy() == pytest.approx(np.round(100 * p_side, 2), abs=1e-9)
    assert lined["recommendation"].isin(["OVER", "UNDER", "PASS"]).all()
    bets = lined["recommendation"].isin(["OVER", "UNDER"]).to_numpy()
    assert bets.sum() > 0
    assert (lined["recommendation"].to_numpy()[bets] == side[bets]).all()
    price = lined["best_price"].astype(float).to_numpy()[bets]
    ev = p_side[bets] * payout(price) - (1 - p_side[bets])
    assert lined["expected_value"].to_numpy()[bets] == pytest.approx(np.round(ev, 4), abs=1e-4)
    assert (ev >= load_ml_params(settings.home).min_ev - 1e-9).all()
    # the case that used to be incoherent is real on this date: the point prediction on one side of
    # the line, the calibrated probability on the other; those rows lean with the probability
    edge = lined["edge"].astype(float).to_numpy()
    disagree = ((edge > 0) & (p < 0.5).to_numpy()) | ((edge < 0) & (p >= 0.5).to_numpy())
    assert disagree.sum() > 0
    assert (pd.Series(side[disagree]) == np.where(edge[disagree] > 0, "UNDER", "OVER")).all()
