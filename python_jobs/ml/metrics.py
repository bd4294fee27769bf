"""Pure statistics shared by the ML jobs and the report (no I/O; one implementation each).

- ``wilson_interval``: the Wilson score interval of a hit rate, the one Python implementation (the
  report and the backtest use it); the SQL one is the dbt macro ``wilson_bound``
  (macros/grading/grading_rules.sql). tests/python/ml/test_one_rule.py checks both against an
  independent oracle on a grid.
- ``win_profit``: the profit of a winning 1-unit stake at American odds.
- ``MarketCalibrator``: the calibration of P(over), a stacking of the no-vig market and the
  system's raw P(over) shrunk toward the market (docs/ml.md "Calibrated probabilities").
- ``shrunk_stack_weight``: the weight of an out-of-sample correction (market_residual_v1).
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


FISHER_WEIGHT_AT_HALF = 0.25  # p (1 - p) at p = 0.5: one row's information per unit of x^2


@dataclass(frozen=True)
class MarketCalibrator:
    """Calibrated P(over) = sigmoid(a + b_market * logit(p_market) + b_model * logit(p_raw)).

    A stacking of two probability sources, the no-vig market's P(over) and the system's raw P(over),
    fitted by penalised maximum likelihood on held-out lined rows dated before the model's cutoff.
    The prior is the market (a = 0, b_market = 1, b_model = 0) and weighs ``prior_rows`` rows
    (a Zellner-type penalty: ``prior_rows`` x one row's information at p = 0.5 for each coefficient,
    so "rows" mean the same whatever the spread of the inputs). Both source weights are kept >= 0.
    With fewer than ``min_rows`` decided rows there is no evidence: the calibrator *is* the market
    (``version`` 'market'). A missing market probability counts as 0.5 (logit 0).

    A model saved with the former Platt calibrator (method 'platt': sigmoid(a + b logit(p_raw)))
    loads as b_market = 0, b_model = b.
    """

    a: float = 0.0
    b_market: float = 1.0
    b_model: float = 0.0
    n: int = 0
    prior_rows: float = 0.0
    min_rows: int = 0
    fitted_through: str | None = None
    method: str = "market_stack"

    @property
    def version(self) -> str:
        if self.n == 0:
            return "market" if self.method == "market_stack" else "identity"
        payload = json.dumps([self.method, round(self.a, 6), round(self.b_market, 6), round(self.b_model, 6),
                              self.n, self.fitted_through])
        prefix = "stack" if self.method == "market_stack" else "platt"
        return f"{prefix}-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"

    def apply(self, p_raw: np.ndarray, p_market: np.ndarray | None = None) -> np.ndarray:
        raw = logit(p_raw)
        market = np.zeros_like(raw) if p_market is None else logit(np.nan_to_num(
            np.asarray(p_market, dtype="float64"), nan=0.5))
        if self.method == "platt":
            return sigmoid(self.a + self.b_model * raw)
        return sigmoid(self.a + self.b_market * market + self.b_model * raw)

    def to_dict(self) -> dict:
        return {**asdict(self), "version": self.version}

    @classmethod
    def from_dict(cls, data: dict | None) -> MarketCalibrator:
        if not data:
            return cls()
        if data.get("method") == "platt":  # a model saved before issue #12's stacking
            return cls(a=float(data["a"]), b_market=0.0, b_model=float(data["b"]), n=int(data["n"]),
                       prior_rows=float(data.get("prior_rows", 0.0)), fitted_through=data.get("fitted_through"),
                       method="platt")
        return cls(a=float(data["a"]), b_market=float(data["b_market"]), b_model=float(data["b_model"]),
                   n=int(data["n"]), prior_rows=float(data.get("prior_rows", 0.0)),
                   min_rows=int(data.get("min_rows", 0)), fitted_through=data.get("fitted_through"))

    @classmethod
    def fit(cls, p_raw: np.ndarray, p_market: np.ndarray, outcome: np.ndarray, prior_rows: float,
            min_rows: int, fitted_through: str | None = None) -> MarketCalibrator:
        """Penalised logistic regression of the outcome on [1, logit(market), logit(raw)], prior at
        the market; a source weight that comes out negative is fixed at 0 and the rest refit."""
        x_model = logit(p_raw)
        x_market = logit(np.nan_to_num(np.asarray(p_market, dtype="float64"), nan=0.5))
        y = np.asarray(outcome, dtype="float64")
        ok = ~np.isnan(x_model) & ~np.isnan(y)
        x_model, x_market, y = x_model[ok], x_market[ok], y[ok]
        lam = float(prior_rows)
        if len(y) < max(1, int(min_rows)):
            return cls(prior_rows=lam, min_rows=int(min_rows))
        design = np.column_stack([np.ones_like(y), x_market, x_model])
        prior = np.array([0.0, 1.0, 0.0])
        free = [0, 1, 2]
        while True:  # at most three fits: each pass fixes at least one source weight at 0
            theta = _penalised_logistic(design, y, prior, lam, free)
            negative = [j for j in free if j > 0 and theta[j] < 0]
            if not negative:
                break
            free = [j for j in free if j not in negative]
        return cls(a=float(theta[0]), b_market=float(theta[1]), b_model=float(theta[2]), n=int(len(y)),
                   prior_rows=lam, min_rows=int(min_rows), fitted_through=fitted_through)


def _penalised_logistic(design: np.ndarray, y: np.ndarray, prior: np.ndarray, lam: float, free: list[int],
                        iterations: int = 50) -> np.ndarray:
    """Newton's method on the log likelihood + lam/2 (theta - prior)' P (theta - prior), with the
    coefficients outside ``free`` fixed at 0; P = diag(0.25 * mean(x_j^2)) (one row's information
    at p = 0.5), so lam counts rows. Convex: converges from the prior."""
    cols = np.asarray(free)
    x = design[:, cols]
    pri = prior[cols]
    penalty = lam * FISHER_WEIGHT_AT_HALF * np.diag(np.maximum(np.mean(x**2, axis=0), 1e-12))
    theta = pri.copy()
    for _ in range(iterations):
        p = sigmoid(x @ theta)
        grad = x.T @ (p - y) + penalty @ (theta - pri)
        hess = (x * (p * (1 - p))[:, None]).T @ x + penalty + 1e-9 * np.eye(len(cols))
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-10:
            break
    out = np.zeros(design.shape[1])
    out[cols] = theta
    return out


def shrunk_stack_weight(correction: np.ndarray, target: np.ndarray, min_rows: int) -> dict[str, float]:
    """The weight in [0, 1] of an out-of-sample ``correction`` to a base forecast, for ``target`` =
    actual - base (both from held-out rows only).

    Least squares w_hat = sum(c r) / sum(c^2) with its standard error se; the weight is shrunk by the
    signal-to-noise ratio t = w_hat / se: w = clip(w_hat * max(0, 1 - 1/t^2), 0, 1) (positive-part
    James-Stein), so a correction that does not beat noise by more than one standard error gets 0.
    Fewer than ``min_rows`` rows, or no correction at all: 0 (the base forecast)."""
    c = np.asarray(correction, dtype="float64")
    r = np.asarray(target, dtype="float64")
    ok = ~np.isnan(c) & ~np.isnan(r)
    c, r = c[ok], r[ok]
    n = int(len(c))
    ss = float(np.sum(c * c))
    out = {"weight": 0.0, "w_hat": float("nan"), "se": float("nan"), "n": n}
    if n < max(2, int(min_rows)) or ss <= 0:
        return out
    w_hat = float(np.sum(c * r) / ss)
    resid_var = float(np.sum((r - w_hat * c) ** 2) / (n - 1))
    se = math.sqrt(resid_var / ss)
    t2 = (w_hat / se) ** 2 if se > 0 else math.inf
    shrink = max(0.0, 1.0 - 1.0 / t2) if t2 > 0 else 0.0
    out.update(weight=float(min(1.0, max(0.0, w_hat * shrink))), w_hat=w_hat, se=se)
    return out


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
    """The calibration table: ``reliability`` of the stated confidence of the lean side (the side the
    calibrated P(over) favours) over the rows whose ``lean_result`` is hit or miss (pushes, voids and ungraded rows left out)."""
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
