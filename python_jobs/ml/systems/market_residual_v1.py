"""market_residual_v1: the consensus line, corrected by what the market and the player's context say.

Inputs (docs/ml.md "market_residual_v1"): the consensus line, the no-vig implied P(over) (as its
logit), the number of books (log), the spread of lines across books, the line movement between
snapshots, and the gaps between the line and the player's own projections (``projected_points``,
``points_avg_blended``, ``points_avg_last_10``, ``points_avg_season``: those in the frame) plus the
points vacated by absent teammates.

Two modes (dbt var ``ml_market_mode``), both a ridge regression fitted on labelled rows that had a
line, before the cutoff:
- ``residual``: predicts ``actual - line``; the penalty (``ml_market_ridge`` rows-equivalent) pulls
  the coefficients toward a prior that says "the market is right": the line plus the implied-median
  shift (PRIOR_SIGMA points x the normal quantile of the no-vig P(over)) used at the weight the
  evidence rule gives it (below). No lined history = the line exactly.
- ``line_feature``: predicts ``actual`` with the line as one more input (light ridge, no prior).
  No lined history = the line.

Every departure from the market is used only as far as walk-forward held-out evidence supports
(the evidence rule, python_jobs/ml/metrics.py): the implied-median shift (parameter-free, so every
lined row before the cutoff is held out for it) gets ``shift_weight``; the ridge's correction to that
prior is predicted date by date from earlier dates only and gets ``stack['weight']``. Both move the
point forecast, which is judged by absolute error, so both weights are
``metrics.absolute_stack_weight`` (evidence in absolute error) with at least
``ml_market_stack_min_rows`` held-out rows.

It needs a line (``needs_line``): players without one are predicted by the other systems only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from python_jobs.ml.metrics import (
    absolute_stack_weight,
    evidence_record,
    logit,
    toward_prior,
    walk_forward_held_out,
)
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


def implied_median_shift(frame: pd.DataFrame) -> np.ndarray:
    """The market's implied median minus the line, in points: PRIOR_SIGMA x the normal quantile of the
    no-vig P(over) (a missing price counts as 0.5: no shift)."""
    return PRIOR_SIGMA * LOGIT_TO_Z * design(frame, ["logit_no_vig"])[:, 0]


def shift_weight(rows: pd.DataFrame, min_rows: int) -> dict[str, Any]:
    """The evidence rule on the implied-median shift over labelled lined ``rows``: the shift has no
    fitted parameter, so each row is held out for it; ``absolute_stack_weight`` of the shift against
    actual - line. Fewer than ``min_rows`` rows: 0 (the line itself)."""
    target = _num(rows, "actual_points") - _num(rows, LINE)
    return evidence_record(absolute_stack_weight(implied_median_shift(rows), target, min_rows))


def prior_vector(columns: list[str], mode: str, shift: float) -> np.ndarray:
    """[intercept, coefficients...] of the market's own forecast (raw units): in ``residual`` mode the
    line + ``shift`` x the implied-median shift (``shift_weight``'s weight; 0 = the line), in
    ``line_feature`` mode the line."""
    prior = np.zeros(len(columns) + 1)
    if mode == "residual":
        prior[1 + columns.index("logit_no_vig")] = shift * PRIOR_SIGMA * LOGIT_TO_Z
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


def held_out_corrections(rows: pd.DataFrame, columns: list[str], mode: str, ridge: float, min_fit_rows: int,
                         min_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk-forward held-out evidence for the correction (``metrics.walk_forward_held_out``): every
    game date of ``rows`` with at least ``min_fit_rows`` rows on earlier dates is predicted from those
    earlier rows only: the shift weight (``shift_weight``, ``min_rows``) gives that date's prior, the
    ridge is fitted toward it. Returns (correction = ridge forecast - prior forecast, target = actual -
    prior forecast, the rows' game dates) over the held-out rows."""
    dates = pd.to_datetime(rows["game_date"]).dt.date.to_numpy()
    x1 = np.column_stack([np.ones(len(rows)), design(rows, columns)])
    y = _num(rows, "actual_points") - (_num(rows, LINE) if mode == "residual" else 0.0)
    base = np.full(len(rows), np.nan)

    def correction(before: np.ndarray, today: np.ndarray) -> np.ndarray:
        earlier = rows.loc[before]
        weight = shift_weight(earlier, min_rows)["weight"] if mode == "residual" else 0.0
        prior = prior_vector(columns, mode, weight)
        theta = fit_ridge(earlier, columns, mode, ridge, prior)
        base[today] = x1[today] @ prior
        return x1[today] @ theta - base[today]

    held, corrections = walk_forward_held_out(dates, min_fit_rows, correction)
    return corrections, y[held] - base[held], dates[held]


class MarketSystem(System):
    system_id = "market_residual_v1"
    needs_line = True

    def fit(self, train: pd.DataFrame, context: FitContext) -> Model:
        """The evidence rule on every departure from the line, all rows of ``train`` (hence before the
        cutoff): the implied-median shift at ``shift_weight``, then the ridge correction toward that
        prior weighted by ``absolute_stack_weight`` of its walk-forward held-out predictions:
        coefficients = prior + weight x (ridge - prior). No or too little evidence: the line."""
        mode = context.params.market_mode
        if mode not in ("residual", "line_feature"):
            raise ValueError(f"ml_market_mode must be 'residual' or 'line_feature', got {mode!r}")
        params = context.params
        columns = input_columns(train, mode)
        lined = train.loc[~np.isnan(_num(train, LINE)) & ~np.isnan(_num(train, "actual_points"))]
        lined = lined.sort_values("game_date", kind="stable").reset_index(drop=True)
        shift = shift_weight(lined, params.market_stack_min_rows) if mode == "residual" else None
        prior = prior_vector(columns, mode, shift["weight"] if shift else 0.0)
        ridge = params.market_ridge if mode == "residual" else LINE_FEATURE_RIDGE
        full = fit_ridge(lined, columns, mode, ridge, prior)
        correction, target, held_dates = held_out_corrections(
            lined, columns, mode, ridge, params.market_stack_min_fit_rows, params.market_stack_min_rows)
        stack = evidence_record(absolute_stack_weight(correction, target, params.market_stack_min_rows))
        stack.update(min_rows=params.market_stack_min_rows, min_fit_rows=params.market_stack_min_fit_rows,
                     held_out_through=str(max(held_dates)) if len(held_dates) else None,
                     unweighted_intercept=float(full[0]), unweighted_coefficients=[float(c) for c in full[1:]],
                     shift=shift)
        theta = toward_prior(prior, full, stack["weight"])
        return MarketModel(mode, columns, theta[0], list(theta[1:]), len(lined), ridge, stack)

    def load(self, directory: Path, context: FitContext) -> Model:
        saved: dict[str, Any] = json.loads((directory / "market.json").read_text())
        return MarketModel(saved["mode"], saved["columns"], saved["intercept"], saved["coefficients"],
                           int(saved.get("n_lined_training_rows", 0)), float(saved.get("ridge", 0.0)),
                           saved.get("stack"))


SYSTEM = MarketSystem()
