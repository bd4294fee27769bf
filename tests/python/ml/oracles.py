"""Independent oracles of the evidence rule, written from its definition (docs/ml.md "Issue #12,
fourth method"), not from ml/metrics.py: brute force over every candidate weight, plain pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd


def least_absolute_by_brute_force(c: np.ndarray, r: np.ndarray) -> float:
    """argmin over w of sum |r - w c|, by evaluating the loss at 0 and at every breakpoint r_i / c_i
    (the loss is piecewise linear, so a minimum is at one of them); among equal minima (within float
    rounding) the one nearest 0."""
    c, r = np.asarray(c, dtype=float), np.asarray(r, dtype=float)
    candidates = np.unique(np.concatenate([[0.0], r[c != 0] / c[c != 0]]))
    loss = np.concatenate([np.abs(r[None, :] - chunk[:, None] * c[None, :]).sum(axis=1)
                           for chunk in np.array_split(candidates, max(1, len(candidates) // 500))])
    best = candidates[loss <= loss.min() + 1e-9 * max(1.0, loss.min())]
    return float(best[np.argmin(np.abs(best))])


def absolute_weight_by_hand(c: np.ndarray, r: np.ndarray, min_rows: int = 500) -> dict[str, float]:
    """The weight of a departure c for r = actual - base in absolute error: w_hat by brute force, the
    paired gain d = |r| - |r - w_hat c| (pandas mean and standard error), t = mean / se (0 without a
    gain), weight = clip(w_hat (1 - 1/t^2)^+, 0, 1); 0 below ``min_rows`` rows."""
    c, r = np.asarray(c, dtype=float), np.asarray(r, dtype=float)
    if len(c) < min_rows:
        return {"weight": 0.0, "w_hat": float("nan"), "t": float("nan")}
    w_hat = least_absolute_by_brute_force(c, r)
    d = pd.Series(np.abs(r) - np.abs(r - w_hat * c))
    se = d.std() / np.sqrt(len(d))
    t = d.mean() / se if d.mean() > 0 else 0.0
    shrink = 1 - 1 / t**2 if t > 1 else 0.0
    return {"weight": min(1.0, max(0.0, w_hat * shrink)), "w_hat": w_hat, "t": float(t)}


def least_squares_weight_by_hand(c: np.ndarray, r: np.ndarray, min_rows: int = 500) -> float:
    """The squared-error rule (the third method's), for contrast: least squares through the origin,
    its standard error, the same t-ratio shrinkage, clipped to [0, 1]; 0 below ``min_rows`` rows."""
    c, r = np.asarray(c, dtype=float), np.asarray(r, dtype=float)
    if len(c) < min_rows:
        return 0.0
    w_hat = (c * r).sum() / (c * c).sum()
    se = np.sqrt(((r - w_hat * c) ** 2).sum() / (len(c) - 1) / (c * c).sum())
    return float(min(1.0, max(0.0, w_hat * max(0.0, 1 - (se / w_hat) ** 2))))
