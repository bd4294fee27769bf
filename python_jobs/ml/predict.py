"""From model predictions to recommendation rows (shared by daily scoring and the backtest).

Definitions (documented in docs/ml.md):
- ``predicted_points`` = the system's prediction, clipped at 0.
- ``prediction_std`` = the model's residual RMSE on its validation window, for the bucket of
  predicted points the prediction falls in (falls back to the overall RMSE).
- ``edge`` = predicted_points - line_points (NULL without a line).
- The predictive distribution is Normal(predicted_points, prediction_std). With continuity
  correction for whole-number lines: raw P(over) = 1 - Phi((floor(line) + 0.5 - pred) / std), the
  probability of the over given no push (pushes are left out: P(over)/(P(over)+P(under))).
- ``p_over`` = the model's calibrator applied to raw P(over) and the row's no-vig market P(over)
  (metrics.MarketCalibrator: a stacking of both shrunk toward the market, fitted on lined held-out
  rows before the model's cutoff); ``calibration_version`` names it.
- The lean side = the side the calibrated P(over) (as stored, 4 decimals) favours: OVER when
  p_over >= 0.5, else UNDER. The rule is written once, as the grading macro ``lean_side``
  (macros/grading/grading_rules.sql), and taken from there (``grading.lean_sides``); it does not
  look at the edge, so a prediction above the line with P(over) < 0.5 leans UNDER.
- ``expected_value`` = p * payout(best price) - (1 - p) for the lean side, at its best price among
  the books offering the consensus line (``best_book``/``best_price``).
- ``confidence`` = 100 * calibrated probability of the lean side (the recommended side for a bet),
  so >= 50 with a line; 0 without a line.
- ``recommendation``: NO_LINE exactly when there is no line; OVER/UNDER = the lean side when its
  expected value >= ``ml_min_ev`` (fixed before any backtest); else PASS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from python_jobs.ml.grading import lean_sides
from python_jobs.ml.metrics import MarketCalibrator, expected_value
from python_jobs.ml.params import MlParams
from python_jobs.ml.systems.base import Model

STD_BUCKET_EDGES = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, math.inf)
MIN_ROWS_PER_BUCKET = 100

SCORE_COLUMNS = [
    "system_id", "model_version", "player_id", "game_date", "game_id", "line_source", "line_points",
    "line_bookmakers", "over_price", "under_price", "predicted_points", "prediction_std", "edge",
    "confidence", "recommendation", "feature_row_id", "feature_quality_score", "features_computed_at",
    "p_over", "calibration_version", "best_book", "best_price", "expected_value",
]


@dataclass
class LoadedModel:
    """A model ready to score, with the error spread measured on its validation window."""

    system_id: str
    version: str
    model: Model
    residual_std: float
    std_buckets: list[list[float]] = field(default_factory=list)  # [[lo, hi, std], ...]
    trained_through: str | None = None  # last game date (ISO) of the labelled rows the model saw
    calibrator: MarketCalibrator = field(default_factory=MarketCalibrator)

    def std_for(self, predicted: np.ndarray) -> np.ndarray:
        out = np.full(len(predicted), float(self.residual_std))
        for lo, hi, std in self.std_buckets:
            out[(predicted >= lo) & (predicted < hi)] = std
        return out


def residual_spread(predicted: np.ndarray, actual: np.ndarray) -> tuple[float, list[list[float]]]:
    """Overall RMSE and per-bucket RMSE (buckets of predicted points with enough rows)."""
    resid = actual - predicted
    overall = float(np.sqrt(np.mean(resid**2))) if len(resid) else float("nan")
    buckets: list[list[float]] = []
    for lo, hi in zip(STD_BUCKET_EDGES[:-1], STD_BUCKET_EDGES[1:], strict=True):
        mask = (predicted >= lo) & (predicted < hi)
        if mask.sum() >= MIN_ROWS_PER_BUCKET:
            buckets.append([lo, hi, float(np.sqrt(np.mean(resid[mask] ** 2)))])
    return overall, buckets


_erf = np.vectorize(math.erf, otypes=[float])


def normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + _erf(np.asarray(z, dtype=float) / math.sqrt(2.0)))


def raw_p_over(predicted: np.ndarray, std: np.ndarray, line: np.ndarray) -> np.ndarray:
    """P(over | no push) under Normal(predicted, std), continuity-corrected for whole-number lines."""
    over_threshold = np.floor(line) + 0.5
    under_threshold = np.ceil(line) - 0.5
    p_over = 1.0 - normal_cdf((over_threshold - predicted) / std)
    p_under = normal_cdf((under_threshold - predicted) / std)
    return p_over / np.maximum(p_over + p_under, 1e-12)


def recommend(predicted: np.ndarray, p_over: np.ndarray, line: np.ndarray, best_over: np.ndarray,
              best_under: np.ndarray, params: MlParams) -> dict[str, np.ndarray]:
    """edge, confidence, recommendation, expected_value and the lean side and its best price per row.

    ``line`` NaN = no line; ``p_over`` the calibrated P(over) as stored; ``best_over``/``best_under``
    the best American prices (NaN = no book at the consensus line: no priced bet, PASS)."""
    has_line = ~np.isnan(line)
    edge = np.where(has_line, predicted - np.where(has_line, line, 0.0), np.nan)
    side = lean_sides(np.where(has_line, p_over, np.nan))  # the one rule (macro lean_side)
    over, under = side == "OVER", side == "UNDER"
    p_side = np.where(over, p_over, np.where(under, 1.0 - p_over, np.nan))
    price = np.where(over, best_over, np.where(under, best_under, np.nan))
    ev = np.where(over | under, expected_value(p_side, price), np.nan)
    confidence = np.where(over | under, np.clip(np.round(100.0 * p_side, 2), 0.0, 100.0), 0.0)
    is_bet = (over | under) & ~np.isnan(ev) & (np.nan_to_num(ev, nan=-1.0) >= params.min_ev)
    recommendation = np.where(~has_line, "NO_LINE", np.where(is_bet, side, "PASS"))
    return {"edge": edge, "confidence": confidence, "recommendation": recommendation, "expected_value": ev,
            "price": price, "side": side}


def _column(rows: pd.DataFrame, name: str, dtype: str = "float64") -> np.ndarray:
    if name not in rows.columns:
        return np.full(len(rows), np.nan if dtype == "float64" else None, dtype=dtype if dtype == "float64" else object)
    if dtype == "float64":
        return pd.to_numeric(rows[name], errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return rows[name].astype(object).where(rows[name].notna(), None).to_numpy()


def score_frame(rows: pd.DataFrame, models: list[LoadedModel], params: MlParams) -> pd.DataFrame:
    """Score validated feature rows (with consensus line and market columns joined) with every model.

    ``rows`` needs the feature columns plus ``consensus_line_points`` (NaN/NULL = no line),
    ``bookmaker_keys``, ``over_price``, ``under_price``, ids and metadata columns; the market columns
    (``best_over_book``, ``best_over_price``, ``best_under_book``, ``best_under_price``,
    ``no_vig_over_probability`` ...) when present. A model that ``needs_line`` scores lined rows only.
    """
    if rows.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    frames = []
    for loaded in models:
        sub = rows
        if getattr(loaded.model, "needs_line", False):
            sub = rows.loc[rows["consensus_line_points"].notna()].reset_index(drop=True)
            if sub.empty:
                continue
        line = _column(sub, "consensus_line_points")
        has_line = ~np.isnan(line)
        predicted = np.round(loaded.model.predict(sub), 3)
        std = np.round(loaded.std_for(predicted), 3)
        p_raw = raw_p_over(predicted, std, np.where(has_line, line, 0.0))
        p_over = np.where(has_line, loaded.calibrator.apply(p_raw, _column(sub, "no_vig_over_probability")), np.nan)
        p_over = np.round(p_over, 4)  # as stored: the lean side follows the stored probability
        rec = recommend(predicted, p_over, line, _column(sub, "best_over_price"), _column(sub, "best_under_price"),
                        params)
        side = rec["side"]
        book = np.where(side == "OVER", _column(sub, "best_over_book", "object"),
                        np.where(side == "UNDER", _column(sub, "best_under_book", "object"), None))
        is_bet = np.isin(rec["recommendation"], ["OVER", "UNDER"])
        out = pd.DataFrame({
            "system_id": loaded.system_id,
            "model_version": loaded.version,
            "player_id": sub["player_id"].astype("int64").to_numpy(),
            "game_date": pd.to_datetime(sub["game_date"]).dt.date.to_numpy(),
            "game_id": sub["game_id"].to_numpy() if "game_id" in sub else None,
            "line_source": np.where(has_line, "consensus_main", "none"),
            "line_points": line,
            "line_bookmakers": np.where(has_line, sub["bookmaker_keys"].to_numpy(dtype=object), None),
            "over_price": sub["over_price"].astype("Int64").where(has_line),
            "under_price": sub["under_price"].astype("Int64").where(has_line),
            "predicted_points": predicted,
            "prediction_std": std,
            "edge": np.round(rec["edge"], 3),
            "confidence": rec["confidence"],
            "recommendation": rec["recommendation"],
            "feature_row_id": sub["feature_row_id"].to_numpy(),
            "feature_quality_score": sub["feature_quality_score"].astype("Float64").to_numpy(
                dtype="float64", na_value=np.nan),
            "features_computed_at": sub["features_computed_at"].to_numpy()
            if "features_computed_at" in sub else None,
            "p_over": p_over,
            "calibration_version": np.where(has_line, loaded.calibrator.version, None),
            "best_book": np.where(is_bet, book, None),
            "best_price": pd.array(np.where(is_bet, rec["price"], np.nan), dtype="Float64").astype("Int64"),
            "expected_value": np.round(rec["expected_value"], 4),
        })
        frames.append(out)
    if not frames:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[SCORE_COLUMNS]
