"""From model predictions to recommendation rows (shared by daily scoring and the backtest).

Definitions (documented in docs/ml.md):
- ``predicted_points`` = the system's prediction, clipped at 0.
- ``prediction_std`` = the model's residual RMSE on its validation window, for the bucket of
  predicted points the prediction falls in (falls back to the overall RMSE).
- ``edge`` = predicted_points - line_points (NULL without a line).
- Under the model, actual ~ Normal(predicted_points, prediction_std). With continuity correction
  for whole-number lines (a push is possible): P(over wins) = 1 - Phi((floor(line) + 0.5 - pred) / std),
  P(under wins) = Phi((ceil(line) - 0.5 - pred) / std).
- ``confidence`` = 100 * P(the side the edge points to wins), in [0, 100]; 0 when there is no line.
- ``recommendation``: NO_LINE exactly when there is no line; OVER/UNDER when |edge| >=
  ``ml_min_edge_points`` and confidence >= ``ml_min_confidence``; else PASS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from python_jobs.ml.params import MlParams
from python_jobs.ml.systems.base import Model

STD_BUCKET_EDGES = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, math.inf)
MIN_ROWS_PER_BUCKET = 100

SCORE_COLUMNS = [
    "system_id", "model_version", "player_id", "game_date", "game_id", "line_source", "line_points",
    "line_bookmakers", "over_price", "under_price", "predicted_points", "prediction_std", "edge",
    "confidence", "recommendation", "feature_row_id", "feature_quality_score", "features_computed_at",
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


def side_probabilities(predicted: np.ndarray, std: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P(over wins), P(under wins)) with a continuity correction for whole-number lines."""
    over_threshold = np.floor(line) + 0.5
    under_threshold = np.ceil(line) - 0.5
    p_over = 1.0 - normal_cdf((over_threshold - predicted) / std)
    p_under = normal_cdf((under_threshold - predicted) / std)
    return p_over, p_under


def recommend(predicted: np.ndarray, std: np.ndarray, line: np.ndarray, params: MlParams
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edge, confidence, recommendation) arrays; line NaN = no line."""
    has_line = ~np.isnan(line)
    safe_line = np.where(has_line, line, 0.0)
    edge = np.where(has_line, predicted - safe_line, np.nan)
    p_over, p_under = side_probabilities(predicted, std, safe_line)
    favour_over = np.where(edge > 0, True, np.where(edge < 0, False, p_over >= p_under))
    p_side = np.where(favour_over, p_over, p_under)
    confidence = np.where(has_line, np.round(100.0 * p_side, 2), 0.0)
    confidence = np.clip(confidence, 0.0, 100.0)
    is_bet = has_line & (np.abs(np.nan_to_num(edge)) >= params.min_edge_points) & (confidence >= params.min_confidence)
    recommendation = np.where(
        ~has_line, "NO_LINE", np.where(is_bet, np.where(favour_over, "OVER", "UNDER"), "PASS")
    )
    return edge, confidence, recommendation


def score_frame(rows: pd.DataFrame, models: list[LoadedModel], params: MlParams) -> pd.DataFrame:
    """Score validated feature rows (with consensus line columns joined) with every model.

    ``rows`` needs the feature columns plus ``consensus_line_points`` (NaN/NULL = no line),
    ``bookmaker_keys``, ``over_price``, ``under_price``, ids and metadata columns.
    """
    if rows.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    line = rows["consensus_line_points"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    has_line = ~np.isnan(line)
    frames = []
    for loaded in models:
        predicted = np.round(loaded.model.predict(rows), 3)
        std = np.round(loaded.std_for(predicted), 3)
        edge, confidence, recommendation = recommend(predicted, std, line, params)
        out = pd.DataFrame({
            "system_id": loaded.system_id,
            "model_version": loaded.version,
            "player_id": rows["player_id"].astype("int64").to_numpy(),
            "game_date": pd.to_datetime(rows["game_date"]).dt.date.to_numpy(),
            "game_id": rows["game_id"].to_numpy() if "game_id" in rows else None,
            "line_source": np.where(has_line, "consensus_main", "none"),
            "line_points": line,
            "line_bookmakers": np.where(has_line, rows["bookmaker_keys"].to_numpy(dtype=object), None),
            "over_price": rows["over_price"].astype("Int64").where(has_line),
            "under_price": rows["under_price"].astype("Int64").where(has_line),
            "predicted_points": predicted,
            "prediction_std": std,
            "edge": np.round(edge, 3),
            "confidence": confidence,
            "recommendation": recommendation,
            "feature_row_id": rows["feature_row_id"].to_numpy(),
            "feature_quality_score": rows["feature_quality_score"].astype("Float64").to_numpy(
                dtype="float64", na_value=np.nan),
            "features_computed_at": rows["features_computed_at"].to_numpy()
            if "features_computed_at" in rows else None,
        })
        frames.append(out)
    return pd.concat(frames, ignore_index=True)[SCORE_COLUMNS]
