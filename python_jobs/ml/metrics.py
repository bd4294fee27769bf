"""Pure statistics shared by the ML jobs and the report (no I/O; one implementation each).

- ``wilson_interval``: the Wilson score interval of a hit rate, the one Python implementation (the
  report and the backtest use it); the SQL one is the dbt macro ``wilson_bound``
  (macros/grading/grading_rules.sql). tests/python/ml/test_one_rule.py checks both against an
  independent oracle on a grid.
- ``win_profit``: the profit of a winning 1-unit stake at American odds.
- ``MarketCalibrator``: the calibration of P(over), a stacking of the no-vig market and the
  system's raw P(over) shrunk toward the market (docs/ml.md "Calibrated probabilities").
- The evidence rule, one place for every departure from the market (docs/ml.md "The evidence
  rule"): ``walk_forward_held_out`` (a departure fitted on earlier dates only predicts each date),
  its weight from those held-out predictions **in the loss the output is judged by** —
  ``absolute_stack_weight`` (absolute error: every weight that moves a point forecast, i.e.
  market_residual_v1's implied-median shift and ridge correction) and ``logistic_stack_weight``
  (the logistic likelihood, by steps of the least-squares ``shrunk_stack_weight``: the departure of
  P(over) from the no-vig probability in ``MarketCalibrator``) — each shrunk by its t-ratio with
  the one ``james_stein_weight`` and 0 below the one minimum ``enough_evidence``, and
  ``toward_prior`` (parameters = prior + weight x (fit - prior)).
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
from collections.abc import Callable
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


MARKET_PRIOR = (0.0, 1.0, 0.0)  # (a, b_market, b_model) of the calibrator that states the market


@dataclass(frozen=True)
class MarketCalibrator:
    """Calibrated P(over) = sigmoid(a + b_market * logit(p_market) + b_model * logit(p_raw)).

    A stacking of two probability sources, the no-vig market's P(over) and the system's raw P(over).
    ``fit_stack`` is the penalised maximum-likelihood fit on decided lined rows (prior at the market
    (a = 0, b_market = 1, b_model = 0) worth ``prior_rows`` rows, a Zellner-type penalty; both
    source weights >= 0). ``fit`` applies the evidence rule to it: the stack's departure from the
    market is shrunk toward the market by ``logistic_stack_weight`` of its walk-forward held-out
    departures (``weight``), so (a, b_market, b_model) = prior + weight x (stack - prior). Weight 0
    (no or too little held-out evidence) = the market exactly: ``apply`` then returns the no-vig
    probability itself (``version`` 'market'). A missing market probability counts as 0.5.

    ``stack`` keeps the unshrunk fit, ``evidence`` the weight's statistics (w_hat, se, n held-out
    rows, held_out_through). A model saved with the former Platt calibrator (method 'platt':
    sigmoid(a + b logit(p_raw))) loads as b_market = 0, b_model = b; one saved with the stack before
    the evidence rule loads with its coefficients as saved.
    """

    a: float = 0.0
    b_market: float = 1.0
    b_model: float = 0.0
    n: int = 0
    prior_rows: float = 0.0
    min_rows: int = 0
    fitted_through: str | None = None
    method: str = "market_stack"
    weight: float = 0.0
    stack: tuple[float, float, float] | None = None
    evidence: dict | None = None

    @property
    def is_market(self) -> bool:
        return self.method == "market_stack" and (self.a, self.b_market, self.b_model) == MARKET_PRIOR

    @property
    def version(self) -> str:
        if self.is_market:
            return "market"
        if self.n == 0 and self.method != "market_stack":
            return "identity"
        payload = json.dumps([self.method, round(self.a, 6), round(self.b_market, 6), round(self.b_model, 6),
                              self.n, self.fitted_through])
        prefix = "stack" if self.method == "market_stack" else "platt"
        return f"{prefix}-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"

    def apply(self, p_raw: np.ndarray, p_market: np.ndarray | None = None) -> np.ndarray:
        raw = logit(p_raw)
        market_p = np.full(raw.shape, 0.5) if p_market is None else np.nan_to_num(
            np.asarray(p_market, dtype="float64"), nan=0.5)
        if self.method == "platt":
            return sigmoid(self.a + self.b_model * raw)
        if self.is_market:  # the market itself, not sigmoid(logit(.)) of it
            return market_p.copy()
        return sigmoid(self.a + self.b_market * logit(market_p) + self.b_model * raw)

    def to_dict(self) -> dict:
        out = {**asdict(self), "version": self.version}
        out["stack"] = list(self.stack) if self.stack is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict | None) -> MarketCalibrator:
        if not data:
            return cls()
        if data.get("method") == "platt":  # a model saved before issue #12's stacking
            return cls(a=float(data["a"]), b_market=0.0, b_model=float(data["b"]), n=int(data["n"]),
                       prior_rows=float(data.get("prior_rows", 0.0)), fitted_through=data.get("fitted_through"),
                       method="platt")
        stack = data.get("stack")
        return cls(a=float(data["a"]), b_market=float(data["b_market"]), b_model=float(data["b_model"]),
                   n=int(data["n"]), prior_rows=float(data.get("prior_rows", 0.0)),
                   min_rows=int(data.get("min_rows", 0)), fitted_through=data.get("fitted_through"),
                   weight=float(data.get("weight", 1.0 if int(data["n"]) else 0.0)),
                   stack=tuple(float(v) for v in stack) if stack is not None else None,
                   evidence=data.get("evidence"))

    @staticmethod
    def fit_stack(p_raw: np.ndarray, p_market: np.ndarray, outcome: np.ndarray, prior_rows: float
                  ) -> np.ndarray:
        """(a, b_market, b_model): penalised logistic regression of the outcome on [1, logit(market),
        logit(raw)], prior at the market; a source weight that comes out negative is fixed at 0 and
        the rest refit. Rows with a NaN raw probability or outcome are left out."""
        x_model = logit(p_raw)
        x_market = logit(np.nan_to_num(np.asarray(p_market, dtype="float64"), nan=0.5))
        y = np.asarray(outcome, dtype="float64")
        ok = ~np.isnan(x_model) & ~np.isnan(y)
        x_model, x_market, y = x_model[ok], x_market[ok], y[ok]
        prior = np.array(MARKET_PRIOR)
        if len(y) == 0:
            return prior
        design = np.column_stack([np.ones_like(y), x_market, x_model])
        free = [0, 1, 2]
        while True:  # at most three fits: each pass fixes at least one source weight at 0
            theta = _penalised_logistic(design, y, prior, float(prior_rows), free)
            negative = [j for j in free if j > 0 and theta[j] < 0]
            if not negative:
                return theta
            free = [j for j in free if j not in negative]

    @classmethod
    def fit(cls, p_raw: np.ndarray, p_market: np.ndarray, outcome: np.ndarray, dates: np.ndarray,
            prior_rows: float, min_rows: int, evidence_min_rows: int, fitted_through: str | None = None
            ) -> MarketCalibrator:
        """The stack on every row (``min_rows`` decided rows at least, else the market), shrunk toward
        the market by the evidence rule: every date with >= ``min_rows`` rows on earlier dates is
        predicted by the stack fitted on those earlier rows only; the held-out departure is
        c = logit(stack) - logit(market) and its weight is ``logistic_stack_weight`` (the rule of
        ``shrunk_stack_weight`` at the logistic likelihood), at least ``evidence_min_rows`` held-out
        rows."""
        p_raw = np.asarray(p_raw, dtype="float64")
        market = np.nan_to_num(np.asarray(p_market, dtype="float64"), nan=0.5)
        y = np.asarray(outcome, dtype="float64")
        ok = ~np.isnan(p_raw) & ~np.isnan(y)
        p_raw, market, y = p_raw[ok], market[ok], y[ok]
        day = np.asarray(dates, dtype=object)[ok]
        lam = float(prior_rows)
        if len(y) < max(1, int(min_rows)):
            return cls(prior_rows=lam, min_rows=int(min_rows))
        full = cls.fit_stack(p_raw, market, y, lam)

        def departure(before: np.ndarray, today: np.ndarray) -> np.ndarray:
            theta = cls.fit_stack(p_raw[before], market[before], y[before], lam)
            stacked = cls(a=theta[0], b_market=theta[1], b_model=theta[2], n=1)
            return logit(stacked.apply(p_raw[today], market[today])) - logit(market[today])

        held, c = walk_forward_held_out(day, int(min_rows), departure)
        ev = logistic_stack_weight(c, market[held], y[held], int(evidence_min_rows))
        theta = toward_prior(np.array(MARKET_PRIOR), full, ev["weight"])
        evidence = evidence_record(ev)
        evidence.update(min_rows=int(evidence_min_rows),
                        held_out_through=str(max(day[held])) if held.any() else None)
        return cls(a=float(theta[0]), b_market=float(theta[1]), b_model=float(theta[2]), n=int(len(y)),
                   prior_rows=lam, min_rows=int(min_rows), fitted_through=fitted_through,
                   weight=float(ev["weight"]), stack=tuple(float(v) for v in full), evidence=evidence)


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


def enough_evidence(n: int, min_rows: int) -> bool:
    """The evidence rule's minimum, for every weight: at least ``min_rows`` held-out rows (and 2, so
    that a standard error exists). Below it a departure gets weight 0."""
    return n >= max(2, int(min_rows))


def james_stein_weight(w_hat: float, t: float) -> float:
    """The evidence rule's shrinkage, for every weight: w = clip(w_hat * max(0, 1 - 1/t^2), 0, 1)
    (positive-part James-Stein by the t-ratio ``t`` of the evidence), so a departure whose evidence
    does not beat noise by more than one standard error gets 0. ``t`` NaN or 0: 0."""
    t2 = t * t if not math.isnan(t) else 0.0
    shrink = max(0.0, 1.0 - 1.0 / t2) if t2 > 0 else 0.0
    return float(min(1.0, max(0.0, w_hat * shrink)))


def shrunk_stack_weight(correction: np.ndarray, target: np.ndarray, min_rows: int,
                        weights: np.ndarray | None = None) -> dict[str, float]:
    """The evidence rule in squared error (the steps of ``logistic_stack_weight``): the weight in
    [0, 1] of an out-of-sample ``correction`` for ``target`` = actual - base (held-out rows only).

    (Weighted) least squares w_hat = sum(v c r) / sum(v c^2) (v = ``weights``, default 1) with its
    standard error se; t = w_hat / se and the weight is ``james_stein_weight``. Fewer than
    ``min_rows`` rows (``enough_evidence``), or no correction at all: 0 (the base forecast)."""
    c = np.asarray(correction, dtype="float64")
    r = np.asarray(target, dtype="float64")
    v = np.ones_like(c) if weights is None else np.asarray(weights, dtype="float64")
    ok = ~np.isnan(c) & ~np.isnan(r) & ~np.isnan(v)
    c, r, v = c[ok], r[ok], v[ok]
    n = int(len(c))
    ss = float(np.sum(v * c * c))
    out = {"weight": 0.0, "w_hat": float("nan"), "se": float("nan"), "n": n}
    if not enough_evidence(n, min_rows) or ss <= 0:
        return out
    w_hat = float(np.sum(v * c * r) / ss)
    resid_var = float(np.sum(v * (r - w_hat * c) ** 2) / (n - 1))
    se = math.sqrt(resid_var / ss)
    out.update(weight=james_stein_weight(w_hat, w_hat / se if se > 0 else math.inf), w_hat=w_hat, se=se)
    return out


def least_absolute_weight(correction: np.ndarray, target: np.ndarray) -> float:
    """argmin over w of sum |r - w c|: the weighted median of r / c with weights |c| (rows with c = 0
    do not depend on w). Ties: when the minimum is a whole interval [lo, hi] (the cumulative weight
    reaches exactly half at lo), the point of it nearest 0 (the prior: no departure among equally
    good ones). No correction: 0."""
    c = np.asarray(correction, dtype="float64")
    r = np.asarray(target, dtype="float64")
    moves = c != 0
    if not moves.any():
        return 0.0
    ratio = r[moves] / c[moves]
    order = np.argsort(ratio, kind="stable")
    ratio = ratio[order]
    cum = np.cumsum(np.abs(c[moves])[order])
    half = cum[-1] / 2
    lo = float(ratio[np.searchsorted(cum, half, side="left")])  # first with cumulative weight >= half
    hi = float(ratio[np.searchsorted(cum, half, side="right")])  # first with cumulative weight > half
    if lo <= 0.0 <= hi:
        return 0.0
    return lo if lo > 0 else hi


def absolute_stack_weight(correction: np.ndarray, target: np.ndarray, min_rows: int) -> dict[str, float]:
    """The evidence rule in absolute error, for every weight that moves a point forecast (judged by
    MAE, whose optimum is the median): the weight in [0, 1] of an out-of-sample ``correction`` c
    for ``target`` r = actual - base (held-out rows only).

    w_hat = ``least_absolute_weight`` (the weighted median of r / c, weights |c|); the evidence is the
    paired gain in absolute error of applying w_hat vs not, d = |r| - |r - w_hat c|, t = mean(d) /
    se(mean(d)) (no gain: t = 0), and the weight is ``james_stein_weight``(w_hat, t). Fewer than
    ``min_rows`` rows (``enough_evidence``), or no correction at all: 0 (the base forecast)."""
    c = np.asarray(correction, dtype="float64")
    r = np.asarray(target, dtype="float64")
    ok = ~np.isnan(c) & ~np.isnan(r)
    c, r = c[ok], r[ok]
    n = int(len(c))
    out = {"weight": 0.0, "w_hat": float("nan"), "gain": float("nan"), "gain_se": float("nan"),
           "t": float("nan"), "n": n}
    if not enough_evidence(n, min_rows) or not np.any(c):
        return out
    w_hat = least_absolute_weight(c, r)
    gain = np.abs(r) - np.abs(r - w_hat * c)
    mean, se = float(gain.mean()), float(gain.std(ddof=1) / math.sqrt(n))
    t = (mean / se if se > 0 else math.inf) if mean > 0 else 0.0
    out.update(weight=james_stein_weight(w_hat, t), w_hat=w_hat, gain=mean, gain_se=se, t=t)
    return out


def logistic_stack_weight(departure: np.ndarray, market: np.ndarray, outcome: np.ndarray, min_rows: int,
                          iterations: int = 50) -> dict[str, float]:
    """``shrunk_stack_weight`` for a departure c in logit space from a market probability m, for a
    0/1 ``outcome``: P = sigmoid(logit(m) + w c). w_hat is the maximum-likelihood w, found by
    iteratively reweighted least squares whose every step is ``shrunk_stack_weight``'s least squares
    (working response (y - p) / (p (1 - p)) + w c, weights p (1 - p)); at convergence its se is the
    Wald standard error and the weight is the same t-ratio shrinkage of w_hat, in [0, 1]."""
    c = np.asarray(departure, dtype="float64")
    base = logit(np.asarray(market, dtype="float64"))
    y = np.asarray(outcome, dtype="float64")
    w = 0.0
    out = shrunk_stack_weight(c, y, min_rows)  # fewer than min_rows rows or no departure: weight 0
    if not enough_evidence(out["n"], min_rows) or not np.any(c):
        return out
    for _ in range(iterations):
        p = np.clip(sigmoid(base + w * c), EPS, 1 - EPS)
        info = p * (1 - p)
        out = shrunk_stack_weight(c, (y - p) / info + w * c, min_rows, weights=info)
        step = out["w_hat"] - w
        w = out["w_hat"]
        if abs(step) < 1e-10:
            break
    return out


def evidence_record(stats: dict) -> dict:
    """An evidence rule's statistics as stored with the model (JSON): a NaN (no estimate) as None."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in stats.items()}


def toward_prior(prior: np.ndarray, fitted: np.ndarray, weight: float) -> np.ndarray:
    """Parameters of a departure used at ``weight``: prior + weight x (fitted - prior); weight 0 is
    the prior exactly."""
    prior = np.asarray(prior, dtype="float64")
    if weight == 0:
        return prior.copy()
    return prior + float(weight) * (np.asarray(fitted, dtype="float64") - prior)


def walk_forward_held_out(dates: np.ndarray, min_fit_rows: int,
                          predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Held-out predictions by date: for every date with at least ``min_fit_rows`` rows on earlier
    dates, ``predict(before, today)`` (boolean masks; it may fit only on ``before``) predicts that
    date's rows. Returns (held, values): the mask of the held-out rows and their predictions in row
    order. Nothing of a date or later enters its own prediction's fit."""
    dates = np.asarray(dates, dtype=object)
    held = np.zeros(len(dates), dtype=bool)
    values = np.full(len(dates), np.nan)
    for d in sorted(set(dates)):
        before = dates < d
        if int(before.sum()) < max(1, int(min_fit_rows)):
            continue
        today = dates == d
        values[today] = predict(before, today)
        held |= today
    return held, values[held]


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
