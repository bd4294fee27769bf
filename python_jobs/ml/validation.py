"""Validation of feature rows before they are scored (or used for training).

Every row gets either accepted or rejected with a machine-readable ``reason_code`` and a readable
``reason`` (all the problems found, first code wins). Rejected rows are written to
``raw.prediction_rejects`` by the scorer: nothing is scored silently.

Rules, in order:
- ``wrong_date``: the row's game_date is not the date being scored;
- ``stale``: the store flagged the row (``is_stale``), its ``stale_reason`` is kept;
- ``future_data``: ``feature_source_max_date`` is on/after the game date (would be leakage);
- ``missing_feature``: a feature of the spec is NULL or NaN (the store fills documented defaults,
  so a NULL here means an upstream gap);
- ``out_of_range``: a value is infinite, beyond +/-1e6, or outside the spec's optional min/max;
- ``low_feature_quality``: ``feature_quality_score`` below the ``ml_min_feature_quality`` var.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from python_jobs.ml.features import FeatureSpec
from python_jobs.ml.params import MlParams

REQUIRED_COLUMNS = ("feature_row_id", "player_id", "game_date", "is_stale", "feature_quality_score")
REJECT_COLUMNS = ["player_id", "game_date", "feature_row_id", "reason_code", "reason"]
ABS_LIMIT = 1e6


class FeatureFrameError(ValueError):
    """The feature frame lacks columns the contract promises (an upstream contract break)."""


def validate_feature_rows(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    params: MlParams,
    game_date: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into (accepted rows, rejects with reason_code/reason)."""
    missing_cols = [c for c in (*REQUIRED_COLUMNS, *spec.names) if c not in frame.columns]
    if missing_cols:
        raise FeatureFrameError(f"feature rows lack columns {missing_cols}")
    if frame.empty:
        return frame.copy(), pd.DataFrame(columns=REJECT_COLUMNS)

    frame = frame.reset_index(drop=True)
    n = len(frame)
    checks: list[tuple[str, np.ndarray, pd.Series]] = []

    def add(code: str, mask: np.ndarray, text: pd.Series | str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            series = text if isinstance(text, pd.Series) else pd.Series([text] * n)
            checks.append((code, mask, series.astype(str)))

    dates = pd.to_datetime(frame["game_date"]).dt.date
    if game_date is not None:
        add("wrong_date", (dates != game_date).to_numpy(), f"row is not for {game_date}")

    stale = frame["is_stale"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    stale_reason = frame["stale_reason"] if "stale_reason" in frame.columns else pd.Series([""] * n)
    add("stale", stale, "stale features: " + stale_reason.fillna("flagged by the feature store").astype(str))

    if "feature_source_max_date" in frame.columns:
        src = pd.to_datetime(frame["feature_source_max_date"]).dt.date
        future = np.array([s is not None and not pd.isna(s) and s >= d for s, d in zip(src, dates, strict=True)])
        add("future_data", future, "features use data from " + src.astype(str) + " (on/after the game date)")

    null_names: list[list[str]] = [[] for _ in range(n)]
    range_names: list[list[str]] = [[] for _ in range(n)]
    for f in spec.features:
        col = frame[f.name]
        if f.is_categorical:
            isnull = col.isna().to_numpy()
        else:
            values = col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            isnull = np.isnan(values)
            bad = ~isnull & ((~np.isfinite(values)) | (np.abs(np.nan_to_num(values, posinf=np.inf)) > ABS_LIMIT))
            if f.min_value is not None:
                bad |= ~isnull & (values < f.min_value)
            if f.max_value is not None:
                bad |= ~isnull & (values > f.max_value)
            for i in np.flatnonzero(bad):
                range_names[i].append(f"{f.name}={float(values[i])!r}")
        for i in np.flatnonzero(isnull):
            null_names[i].append(f.name)
    add("missing_feature", np.array([bool(x) for x in null_names]),
        pd.Series(["missing (NULL/NaN): " + ",".join(x) for x in null_names]))
    add("out_of_range", np.array([bool(x) for x in range_names]),
        pd.Series(["out of range: " + ",".join(x) for x in range_names]))

    quality = frame["feature_quality_score"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    low = np.isnan(quality) | (quality < params.min_feature_quality)
    add("low_feature_quality", low & (params.min_feature_quality > 0),
        "feature_quality_score " + pd.Series(quality).astype(str) + f" < {params.min_feature_quality}")

    rejected = np.zeros(n, dtype=bool)
    codes = np.array([None] * n, dtype=object)
    reasons: list[list[str]] = [[] for _ in range(n)]
    for code, mask, text in checks:
        for i in np.flatnonzero(mask):
            if codes[i] is None:
                codes[i] = code
            reasons[i].append(f"{code}: {text.iloc[i]}")
        rejected |= mask

    rejects = frame.loc[rejected, ["player_id", "game_date", "feature_row_id"]].copy()
    rejects["reason_code"] = codes[rejected]
    rejects["reason"] = ["; ".join(reasons[i]) for i in np.flatnonzero(rejected)]
    return frame.loc[~rejected].reset_index(drop=True), rejects.reset_index(drop=True)[REJECT_COLUMNS]
