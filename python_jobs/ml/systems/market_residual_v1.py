"""market_residual_v1: the consensus line, corrected by what the market and the player's context say.

Inputs (docs/ml.md "market_residual_v1"): the consensus line, the no-vig implied P(over) (as its
logit), the number of books (log), the spread of lines across books, the line movement between
snapshots, and the gaps between the line and the player's own projections (``projected_points``,
``points_avg_blended``, ``points_avg_last_10``, ``points_avg_season``: those in the frame) plus the
points vacated by absent teammates.

Two modes (dbt var ``ml_market_mode``), both a ridge regression fitted on labelled rows that had a
line, before the cutoff:
- ``residual``: predicts ``actual - line``; the penalty (``ml_market_ridge`` rows-equivalent) pulls
  the coefficients toward a prior that says "the market is right": 0 on every input except the
  logit of the no-vig P(over), whose prior turns it into the market's implied median
  (line + sigma * z with sigma = PRIOR_SIGMA points). No lined history = that prior exactly.
- ``line_feature``: predicts ``actual`` with the line as one more input (light ridge, no prior).
  No lined history = the line.

It needs a line (``needs_line``): players without one are predicted by the other systems only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from python_jobs.ml.metrics import logit, shrunk_stack_weight
from python_jobs.ml.systems.base import FitContext, Model, System

LINE = "consensus_line_points"
PROJECTIONS = ("projected_points", "points_avg_blended", "points_avg_last_10", "points_avg_season")
CONTEXT = ("vacated_points",)
PRIOR_SIGMA = 6.0  # points: a typical spread of a player's points around the line (prior only)
LOGIT_TO_Z = 1.0 / 1.702  # logistic-to-normal quantile scale
LINE_FEATURE_RIDGE = 1.0


def design(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The input matrix (without intercept) for ``columns`` (names from ``input_columns``)."""
    line = _num(frame, LINE)
    out = []
    for name in columns:
        if name == "logit_no_vig":
            out.append(logit(np.nan_to_num(_num(frame, "no_vig_over_probability"), nan=0.5)))
        elif name == "log_n_books":
            out.append(np.log(np.maximum(np.nan_to_num(_num(frame, "n_books"), nan=1.0), 1.0)))
        elif name in ("line_spread", "line_movement"):
            out.append(np.nan_to_num(_num(frame, name), nan=0.0))
        elif name.startswith("gap_"):
            out.append(np.nan_to_num(_num(frame, name[4:]) - line, nan=0.0))
        elif name == "line":
            out.append(line)
        else:
            out.append(np.nan_to_num(_num(frame, name), nan=0.0))
    return np.column_stack(out) if out else np.zeros((len(frame), 0))


def input_columns(frame: pd.DataFrame, mode: str) -> list[str]:
    cols = ["logit_no_vig", "log_n_books", "line_spread", "line_movement"]
    cols += [f"gap_{c}" for c in PROJECTIONS if c in frame.columns]
    cols += [c for c in CONTEXT if c in frame.columns]
    if mode == "line_feature":
        cols = ["line", *[c for c in cols if not c.startswith("gap_")], *[c for c in PROJECTIONS if c in frame.columns]]
    return cols


def _num(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


class MarketModel(Model):
    system_id = "market_residual_v1"
    needs_line = True

    def __init__(self, mode: str, columns: list[str], intercept: float, coefficients: list[float], n_rows: int,
                 ridge: float, stack: dict[str, Any] | None = None):
        self.mode = mode
        self.columns = list(columns)
        self.intercept = float(intercept)
        self.coefficients = [float(c) for c in coefficients]
        self.hyperparameters = {"mode": mode, "columns": self.columns, "intercept": self.intercept,
                                "coefficients": self.coefficients, "n_lined_training_rows": n_rows,
                                "ridge": ridge, "prior_sigma": PRIOR_SIGMA, "stack": stack or {}}

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        line = _num(frame, LINE)
        if np.isnan(line).any():
            raise ValueError(f"market_residual_v1 needs a line: {int(np.isnan(line).sum())} rows have none")
        fitted = self.intercept + design(frame, self.columns) @ np.asarray(self.coefficients)
        return line + fitted if self.mode == "residual" else fitted

    def save(self, directory: Path) -> None:
        (directory / "market.json").write_text(json.dumps(self.hyperparameters, indent=2))


def prior_vector(columns: list[str], mode: str) -> np.ndarray:
    """[intercept, coefficients...] of the market's own forecast (raw units): in ``residual`` mode the
    implied median (line + PRIOR_SIGMA x z(no-vig P(over))), in ``line_feature`` mode the line."""
    prior = np.zeros(len(columns) + 1)
    if mode == "residual":
        prior[1 + columns.index("logit_no_vig")] = PRIOR_SIGMA * LOGIT_TO_Z
    else:
        prior[1 + columns.index("line")] = 1.0
    return prior


def fit_ridge(rows: pd.DataFrame, columns: list[str], mode: str, ridge: float, prior: np.ndarray) -> np.ndarray:
    """Ridge regression (inputs standardised, penalty ``ridge`` rows toward ``prior``) of the target
    of ``mode`` on labelled lined ``rows``; [intercept, coefficients...] in raw units."""
    if rows.empty:
        return prior.copy()
    x = design(rows, columns)
    actual = _num(rows, "actual_points")
    y = actual - _num(rows, LINE) if mode == "residual" else actual
    scale = np.std(x, axis=0)
    scale[scale == 0] = 1.0
    xs = np.column_stack([np.ones(len(x)), x / scale])
    prior_s = prior * np.concatenate([[1.0], scale])  # the prior in scaled units
    lhs = xs.T @ xs + ridge * np.eye(xs.shape[1])
    rhs = xs.T @ y + ridge * prior_s
    theta = np.linalg.solve(lhs, rhs)
    return theta / np.concatenate([[1.0], scale])


def held_out_corrections(rows: pd.DataFrame, columns: list[str], mode: str, ridge: float, prior: np.ndarray,
                         min_fit_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk-forward held-out evidence for the correction: for every game date of ``rows`` with at
    least ``min_fit_rows`` rows on earlier dates, the ridge fitted on those earlier rows only predicts
    that date. Returns (correction = fitted - prior forecast, target = actual - prior forecast, the
    rows' game dates) over the held-out rows; nothing of a date or later enters its own fit."""
    dates = pd.to_datetime(rows["game_date"]).dt.date.to_numpy()
    x1 = np.column_stack([np.ones(len(rows)), design(rows, columns)])
    base = x1 @ prior
    y = _num(rows, "actual_points") - (_num(rows, LINE) if mode == "residual" else 0.0)
    corrections, targets, held_dates = [], [], []
    for d in sorted(set(dates)):
        before = dates < d
        if int(before.sum()) < min_fit_rows:
            continue
        theta = fit_ridge(rows.loc[before], columns, mode, ridge, prior)
        today = dates == d
        corrections.append(x1[today] @ theta - base[today])
        targets.append(y[today] - base[today])
        held_dates.append(dates[today])
    if not corrections:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=object)
    return np.concatenate(corrections), np.concatenate(targets), np.concatenate(held_dates)


class MarketSystem(System):
    system_id = "market_residual_v1"
    needs_line = True

    def fit(self, train: pd.DataFrame, context: FitContext) -> Model:
        """The ridge correction to the market's forecast, weighted by ``shrunk_stack_weight`` fitted
        on its walk-forward held-out predictions (all rows of ``train``, hence before the cutoff):
        coefficients = prior + weight x (ridge - prior). No or too little evidence: the market."""
        mode = context.params.market_mode
        if mode not in ("residual", "line_feature"):
            raise ValueError(f"ml_market_mode must be 'residual' or 'line_feature', got {mode!r}")
        columns = input_columns(train, mode)
        lined = train.loc[~np.isnan(_num(train, LINE)) & ~np.isnan(_num(train, "actual_points"))]
        lined = lined.sort_values("game_date", kind="stable").reset_index(drop=True)
        prior = prior_vector(columns, mode)
        ridge = context.params.market_ridge if mode == "residual" else LINE_FEATURE_RIDGE
        full = fit_ridge(lined, columns, mode, ridge, prior)
        correction, target, held_dates = held_out_corrections(
            lined, columns, mode, ridge, prior, context.params.market_stack_min_fit_rows)
        stack = shrunk_stack_weight(correction, target, context.params.market_stack_min_rows)
        stack = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in stack.items()}
        stack.update(min_rows=context.params.market_stack_min_rows,
                     min_fit_rows=context.params.market_stack_min_fit_rows,
                     held_out_through=str(max(held_dates)) if len(held_dates) else None,
                     unweighted_intercept=float(full[0]), unweighted_coefficients=[float(c) for c in full[1:]])
        theta = prior + stack["weight"] * (full - prior)
        return MarketModel(mode, columns, theta[0], list(theta[1:]), len(lined), ridge, stack)

    def load(self, directory: Path, context: FitContext) -> Model:
        saved: dict[str, Any] = json.loads((directory / "market.json").read_text())
        return MarketModel(saved["mode"], saved["columns"], saved["intercept"], saved["coefficients"],
                           int(saved.get("n_lined_training_rows", 0)), float(saved.get("ridge", 0.0)),
                           saved.get("stack"))


SYSTEM = MarketSystem()
