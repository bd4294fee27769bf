"""Pure statistics for the performance page (no I/O; unit-tested on hand-computed cases).

A *graded frame* has one row per graded prediction with at least: ``system_id``, ``game_date``,
``recommendation``, ``line_points``, ``edge``, ``confidence``, ``predicted_points``,
``over_price``, ``under_price``, ``actual_points`` and ``result`` (hit/miss/push/void for bets,
null otherwise, as graded by ``grading.prediction_accuracy``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

BREAK_EVEN_HIT_RATE = 110 / 210  # 52.38%: the hit rate that breaks even at -110 on both sides
DEFAULT_PRICE = -110
EDGE_BUCKETS: list[tuple[float, float]] = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (5.0, math.inf)]
CALIBRATION_BINS = [50.0, 55.0, 60.0, 65.0, 70.0, 80.0, 100.0001]


def wilson_interval(hits: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion; (nan, nan) when n == 0."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def american_profit(price: float | None) -> float:
    """Profit of a winning 1-unit stake at American odds (−110 when the price is unknown)."""
    if price is None or (isinstance(price, float) and math.isnan(price)) or price == 0:
        price = DEFAULT_PRICE
    return price / 100.0 if price > 0 else 100.0 / abs(price)


def edge_bucket_label(lo: float, hi: float) -> str:
    return f"{lo:g}+" if math.isinf(hi) else f"{lo:g}–{hi:g}"


def _side_result(row_side_over: np.ndarray, line: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """'hit' / 'miss' / 'push' for taking the given side; null when not gradable."""
    out = np.full(len(line), None, dtype=object)
    ok = ~np.isnan(line) & ~np.isnan(actual)
    over_wins = actual > line
    under_wins = actual < line
    push = actual == line
    win = np.where(row_side_over, over_wins, under_wins)
    out[ok & push] = "push"
    out[ok & ~push & win] = "hit"
    out[ok & ~push & ~win] = "miss"
    return out


def add_lean(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``lean_side`` (the side the edge points to), its result and its 1-unit profit, for every
    prediction with a line and an actual (used for edge buckets and calibration: they cover every
    lined prediction, not only the ones that cleared the betting thresholds)."""
    df = frame.copy()
    line = pd.to_numeric(df["line_points"], errors="coerce").to_numpy(dtype=float)
    actual = pd.to_numeric(df["actual_points"], errors="coerce").to_numpy(dtype=float)
    edge = pd.to_numeric(df["edge"], errors="coerce").to_numpy(dtype=float)
    is_void = df["result"].astype("string").str.lower().eq("void").fillna(False).to_numpy(dtype=bool)
    actual = np.where(is_void, np.nan, actual)
    side_over = edge >= 0
    df["lean_side"] = np.where(np.isnan(line), None, np.where(side_over, "OVER", "UNDER"))
    df["lean_result"] = _side_result(side_over, line, actual)
    price = np.where(side_over, pd.to_numeric(df["over_price"], errors="coerce"),
                     pd.to_numeric(df["under_price"], errors="coerce"))
    profit = np.array([american_profit(p) for p in price])
    df["lean_profit"] = np.select(
        [df["lean_result"].eq("hit").to_numpy(dtype=bool), df["lean_result"].eq("miss").to_numpy(dtype=bool)],
        [profit, -1.0], default=0.0)
    return df


def bet_profit(frame: pd.DataFrame) -> pd.Series:
    """1-unit profit of each graded bet at its recorded price (0 for push/void/not a bet)."""
    res = frame["result"].astype("string").str.lower()
    over = frame["recommendation"].eq("OVER")
    price = pd.to_numeric(frame["over_price"], errors="coerce").where(over,
                                                                    pd.to_numeric(frame["under_price"], errors="coerce"))
    win = price.map(american_profit)
    return pd.Series(np.select([res.eq("hit").fillna(False), res.eq("miss").fillna(False)], [win, -1.0], 0.0),
                     index=frame.index)


def summarise(group: pd.DataFrame) -> dict[str, float | int]:
    """Counts, hit rate with its Wilson interval, MAE model vs line, ROI of the bets of a group."""
    res = group["result"].astype("string").str.lower()
    is_bet = group["recommendation"].isin(["OVER", "UNDER"])
    hits = int((res.eq("hit") & is_bet).sum())
    misses = int((res.eq("miss") & is_bet).sum())
    pushes = int((res.eq("push") & is_bet).sum())
    voids = int(res.eq("void").sum())
    decided = hits + misses
    low, high = wilson_interval(hits, decided)
    actual = pd.to_numeric(group["actual_points"], errors="coerce").where(~res.eq("void").fillna(False))
    predicted = pd.to_numeric(group["predicted_points"], errors="coerce")
    line = pd.to_numeric(group["line_points"], errors="coerce")
    lined = actual.notna() & line.notna()
    profit = bet_profit(group)
    return {
        "n_predictions": int(len(group)),
        "n_with_line": int(line.notna().sum()),
        "n_bets": int(is_bet.sum()),
        "hits": hits, "misses": misses, "pushes": pushes, "voids": voids,
        "hit_rate": hits / decided if decided else float("nan"),
        "wilson_low": low, "wilson_high": high,
        "mae_model": float((predicted[lined] - actual[lined]).abs().mean()) if lined.any() else float("nan"),
        "mae_line": float((line[lined] - actual[lined]).abs().mean()) if lined.any() else float("nan"),
        "roi": float(profit[is_bet].sum() / decided) if decided else float("nan"),
    }


def by_system(frame: pd.DataFrame) -> pd.DataFrame:
    rows = [{"system_id": s, **summarise(g)} for s, g in frame.groupby("system_id", sort=True)]
    return pd.DataFrame(rows)


def cumulative_hit_rate(frame: pd.DataFrame) -> pd.DataFrame:
    """Per system and date: cumulative hits and decided bets to that date, hit rate and Wilson band."""
    res = frame["result"].astype("string").str.lower()
    is_bet = frame["recommendation"].isin(["OVER", "UNDER"])
    df = pd.DataFrame({
        "system_id": frame["system_id"], "game_date": frame["game_date"],
        "hit": (res.eq("hit") & is_bet).astype(int), "decided": (res.isin(["hit", "miss"]) & is_bet).astype(int),
    })
    daily = df.groupby(["system_id", "game_date"], sort=True)[["hit", "decided"]].sum().reset_index()
    daily["cum_hits"] = daily.groupby("system_id")["hit"].cumsum()
    daily["cum_decided"] = daily.groupby("system_id")["decided"].cumsum()
    daily = daily[daily["cum_decided"] > 0].copy()
    bands = [wilson_interval(int(h), int(n)) for h, n in zip(daily["cum_hits"], daily["cum_decided"], strict=True)]
    daily["hit_rate"] = daily["cum_hits"] / daily["cum_decided"]
    daily["wilson_low"] = [b[0] for b in bands]
    daily["wilson_high"] = [b[1] for b in bands]
    return daily.reset_index(drop=True)


def by_edge_bucket(frame: pd.DataFrame) -> pd.DataFrame:
    """Per system and |edge| bucket, taking the side the edge points to on every lined prediction."""
    df = add_lean(frame)
    df = df[df["lean_side"].notna()]
    absedge = pd.to_numeric(df["edge"], errors="coerce").abs()
    rows = []
    for system_id, g in df.groupby("system_id", sort=True):
        a = absedge.loc[g.index]
        for lo, hi in EDGE_BUCKETS:
            b = g[(a >= lo) & (a < hi)]
            hits = int(b["lean_result"].eq("hit").sum())
            decided = hits + int(b["lean_result"].eq("miss").sum())
            low, high = wilson_interval(hits, decided)
            rows.append({
                "system_id": system_id, "edge_bucket": edge_bucket_label(lo, hi), "n_predictions": int(len(b)),
                "hits": hits, "pushes": int(b["lean_result"].eq("push").sum()), "decided": decided,
                "hit_rate": hits / decided if decided else float("nan"), "wilson_low": low, "wilson_high": high,
                "roi": float(b["lean_profit"].sum() / decided) if decided else float("nan"),
            })
    return pd.DataFrame(rows)


def calibration(frame: pd.DataFrame) -> pd.DataFrame:
    """Per system and confidence bin: mean stated confidence vs observed win rate of the lean side
    (confidence is 100 x the model's probability that this side wins, so a calibrated system sits
    on the diagonal)."""
    df = add_lean(frame)
    df = df[df["lean_result"].isin(["hit", "miss"])].copy()
    df["confidence"] = pd.to_numeric(df["confidence"], errors="coerce")
    df["bin"] = pd.cut(df["confidence"], bins=[0.0, *CALIBRATION_BINS], right=False)
    rows = []
    for (system_id, interval), g in df.groupby(["system_id", "bin"], sort=True, observed=True):
        rows.append({
            "system_id": system_id, "bin": f"{interval.left:g}–{min(interval.right, 100):g}",
            "n": int(len(g)), "mean_confidence": float(g["confidence"].mean()) / 100.0,
            "observed": float(g["lean_result"].eq("hit").mean()),
        })
    return pd.DataFrame(rows, columns=["system_id", "bin", "n", "mean_confidence", "observed"])
