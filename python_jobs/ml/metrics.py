"""Pure statistics shared by the ML jobs and the report (no I/O; one implementation each).

- ``wilson_interval``: the Wilson score interval of a hit rate, the one Python implementation (the
  report and the backtest use it); the SQL one is the dbt macro ``wilson_bound``
  (macros/grading/grading_rules.sql). tests/python/ml/test_one_rule.py checks both against an
  independent oracle on a grid.
- ``win_profit``: the profit of a winning 1-unit stake at American odds.
- ``PlattCalibrator``: the calibration of P(over) (docs/ml.md "Calibrated probabilities").
- ``over_outcome``: the outcome P(over) is fitted and scored against (pushes left out), for the
  calibrator's fit (training) and the backtest's Brier/log loss.
- ``brier``, ``log_loss``, ``reliability``, ``expected_calibration_error``: probability scores;
  ``lean_reliability`` is *the* calibration table of a system (stated confidence of the lean side
  vs its observed win rate on decided rows), used by the report and the backtest alike.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

Z_95 = 1.96  # as in the SQL macro wilson_bound (test_one_rule.py fails if they differ)
EPS = 1e-6


def wilson_interval(hits: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion; (nan, nan) when n == 0."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def win_profit(price: np.ndarray) -> np.ndarray:
    """Profit of a winning 1-unit stake at American odds (NaN when the price is unknown or not a
    price: an American price is <= -100 or >= +100)."""
    price = np.asarray(price, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(price >= 100, price / 100.0, np.where(price <= -100, 100.0 / np.abs(price), np.nan))
    return out


def expected_value(p_win: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Expected profit of a 1-unit bet that wins with probability ``p_win`` at American ``price``
    (a push returns the stake: ``p_win`` is the probability of winning given no push)."""
    p = np.asarray(p_win, dtype="float64")
    return p * win_profit(price) - (1.0 - p)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype="float64")))


@dataclass(frozen=True)
class PlattCalibrator:
    """P_cal = sigmoid(a + b * logit(p_raw)), fitted by penalised maximum likelihood.

    The penalty is a prior at the identity (a = 0, b = 1) worth ``prior_rows`` observations
    (``prior_rows / 2 * (a^2 + (b - 1)^2)``), so with few rows the calibrator stays near the raw
    probability and with many it follows the data. ``n`` rows were used; ``fitted_through`` is the
    last game date among them (always before the dates the calibrator scores)."""

    a: float = 0.0
    b: float = 1.0
    n: int = 0
    prior_rows: float = 0.0
    fitted_through: str | None = None

    @property
    def version(self) -> str:
        if self.n == 0:
            return "identity"
        payload = json.dumps([round(self.a, 6), round(self.b, 6), self.n, self.fitted_through])
        return f"platt-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"

    def apply(self, p_raw: np.ndarray) -> np.ndarray:
        return sigmoid(self.a + self.b * logit(p_raw))

    def to_dict(self) -> dict:
        return {**asdict(self), "method": "platt", "version": self.version}

    @classmethod
    def from_dict(cls, data: dict | None) -> PlattCalibrator:
        if not data:
            return cls()
        return cls(a=float(data["a"]), b=float(data["b"]), n=int(data["n"]),
                   prior_rows=float(data.get("prior_rows", 0.0)), fitted_through=data.get("fitted_through"))

    @classmethod
    def fit(cls, p_raw: np.ndarray, outcome: np.ndarray, prior_rows: float,
            fitted_through: str | None = None, iterations: int = 50) -> PlattCalibrator:
        """Newton's method on the penalised log likelihood (convex: converges from the identity)."""
        x = logit(p_raw)
        y = np.asarray(outcome, dtype="float64")
        ok = ~np.isnan(x) & ~np.isnan(y)
        x, y = x[ok], y[ok]
        if len(x) == 0:
            return cls(prior_rows=prior_rows)
        lam = float(prior_rows)
        theta = np.array([0.0, 1.0])
        prior = np.array([0.0, 1.0])
        design = np.column_stack([np.ones_like(x), x])
        for _ in range(iterations):
            p = sigmoid(design @ theta)
            grad = design.T @ (p - y) + lam * (theta - prior)
            hess = (design * (p * (1 - p))[:, None]).T @ design + lam * np.eye(2) + 1e-9 * np.eye(2)
            step = np.linalg.solve(hess, grad)
            theta = theta - step
            if np.max(np.abs(step)) < 1e-10:
                break
        return cls(a=float(theta[0]), b=float(theta[1]), n=int(len(x)), prior_rows=lam,
                   fitted_through=fitted_through)


def over_outcome(actual: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(decided, over): rows with an actual and a line that is not a push, and 1.0 where the actual
    went over the line. P(over) is fitted and scored on the decided rows only."""
    actual = np.asarray(actual, dtype="float64")
    line = np.asarray(line, dtype="float64")
    decided = ~np.isnan(actual) & ~np.isnan(line) & (actual != line)
    return decided, (actual > line).astype("float64")


def brier(p: np.ndarray, outcome: np.ndarray) -> float:
    p, y = np.asarray(p, dtype="float64"), np.asarray(outcome, dtype="float64")
    return float(np.mean((p - y) ** 2)) if len(p) else float("nan")


def log_loss(p: np.ndarray, outcome: np.ndarray) -> float:
    p = np.clip(np.asarray(p, dtype="float64"), EPS, 1 - EPS)
    y = np.asarray(outcome, dtype="float64")
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) if len(p) else float("nan")


CONFIDENCE_EDGES = (0.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 90.0, 100.0001)


def reliability(confidence: np.ndarray, won: np.ndarray, edges: tuple[float, ...] = CONFIDENCE_EDGES
                ) -> pd.DataFrame:
    """Stated confidence (0-100, of the side taken) vs observed win rate, per bin [lo, hi).

    Columns: bin, lo, hi, n, mean_confidence (0-1), observed (0-1), gap_points (observed - stated,
    x100), wilson_low, wilson_high. ``won`` is 1/0 (pushes left out by the caller)."""
    conf = np.asarray(confidence, dtype="float64")
    won = np.asarray(won, dtype="float64")
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf >= lo) & (conf < hi) & ~np.isnan(won)
        n = int(m.sum())
        hits = int(won[m].sum()) if n else 0
        low, high = wilson_interval(hits, n)
        mean_conf = float(conf[m].mean()) / 100 if n else float("nan")
        observed = hits / n if n else float("nan")
        rows.append({"bin": f"{lo:g}-{min(hi, 100):g}", "lo": lo, "hi": min(hi, 100.0), "n": n,
                     "mean_confidence": mean_conf, "observed": observed,
                     "gap_points": 100 * (observed - mean_conf) if n else float("nan"),
                     "wilson_low": low, "wilson_high": high})
    return pd.DataFrame(rows)


def lean_reliability(confidence: np.ndarray, lean_result: np.ndarray | pd.Series,
                     edges: tuple[float, ...] = CONFIDENCE_EDGES) -> pd.DataFrame:
    """The calibration table: ``reliability`` of the stated confidence of the side the edge points to
    over the rows whose ``lean_result`` is hit or miss (pushes, voids and ungraded rows left out)."""
    result = pd.Series(np.asarray(lean_result, dtype=object)).astype("string").str.lower()
    decided = result.isin(["hit", "miss"]).to_numpy(dtype=bool)
    conf = np.asarray(confidence, dtype="float64")[decided]
    return reliability(conf, result[decided].eq("hit").to_numpy(dtype="float64"), edges)


def calibration_error(table: pd.DataFrame) -> float:
    """Row-weighted mean |observed - stated| over the bins of a reliability table (0-1 scale)."""
    table = table[table["n"] > 0]
    if table.empty:
        return float("nan")
    return float((table["n"] * (table["observed"] - table["mean_confidence"]).abs()).sum() / table["n"].sum())


def expected_calibration_error(confidence: np.ndarray, won: np.ndarray,
                               edges: tuple[float, ...] = CONFIDENCE_EDGES) -> float:
    """Row-weighted mean |observed - stated| over the reliability bins (0-1 scale)."""
    return calibration_error(reliability(confidence, won, edges))
