"""Pure statistics for the performance page (no I/O; unit-tested on hand-computed cases).

A *graded frame* has one row per graded (or void) prediction with at least: ``system_id``,
``game_date``, ``recommendation``, ``line_points``, ``edge``, ``confidence``,
``predicted_points``, ``over_price``, ``under_price``, ``actual_points`` and ``result``
(hit/miss/push/void for OVER/UNDER bets, null otherwise — ``bet_result`` of
``grading.prediction_accuracy``). Optional: ``lean_side``/``lean_result`` (the side the calibrated
``p_over`` favours, graded the same way) and ``profit_units``; when absent they are derived by the
grading macro itself (ml.grading.grade_frame; the lean side needs ``p_over``).

Definitions (the same as ``grading.system_daily_performance`` and the backtest JSON):
hit rate = hits / (hits + misses); ROI = profit of 1-unit bets at the recorded price / bets
settled (hits + misses + pushes); MAE over graded predictions that have a line.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from python_jobs.ml.metrics import lean_reliability, reliability, wilson_interval, win_profit

__all__ = ["reliability", "wilson_interval", "win_profit"]  # re-exported: one implementation each

BREAK_EVEN_HIT_RATE = 110 / 210  # 52.38%: the hit rate that breaks even at -110 on both sides
EDGE_BUCKETS: list[tuple[float, float]] = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (5.0, math.inf)]


def numeric(series: pd.Series) -> np.ndarray:
    """A float array with NaN for null / NA / non-numeric values."""
    return pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def text(series: pd.Series) -> pd.Series:
    """Lower-case strings, '' for null (safe to compare without NA ambiguity)."""
    return series.astype("string").str.lower().fillna("")


def edge_bucket_label(lo: float, hi: float) -> str:
    return f"{lo:g}+" if math.isinf(hi) else f"{lo:g}–{hi:g}"


def sql_graded(frame: pd.DataFrame) -> pd.DataFrame:
    """The grading columns of ``frame`` by the one grading rule (the SQL macro grade_predictions,
    through ml.grading.grade_frame), for frames that lack them. ``grade_status`` defaults to
    'void' where ``result`` says so, else 'graded' where the actual points are known."""
    from python_jobs.ml.grading import grade_frame

    df = frame
    if "grade_status" not in df.columns:
        void = text(df["result"]).eq("void").to_numpy(dtype=bool) if "result" in df.columns else np.zeros(len(df), bool)
        known = ~np.isnan(numeric(df["actual_points"]))
        df = df.assign(grade_status=np.where(void, "void", np.where(known, "graded", None)).astype(object))
    return grade_frame(df)


def with_lean(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``lean_side`` and ``lean_result`` (kept when present, else by the one grading rule) and
    ``lean_profit`` (1 unit at the lean side's price; NaN when that price is unknown)."""
    df = frame.copy()
    if "lean_side" not in df.columns or "lean_result" not in df.columns:
        graded = sql_graded(df)
        for c in ("lean_side", "lean_result"):
            if c not in df.columns:
                df[c] = graded[c].astype(object).where(graded[c].notna(), None)
    side = df["lean_side"].to_numpy(dtype=object)
    result = text(df["lean_result"])
    price = np.where(side == "OVER", numeric(df["over_price"]), numeric(df["under_price"]))
    df["lean_profit"] = np.select([result.eq("hit").to_numpy(), result.eq("miss").to_numpy(),
                                   result.isin(["push", "void"]).to_numpy()], [win_profit(price), np.where(np.isnan(win_profit(price)), np.nan, -1.0), 0.0], np.nan)
    return df


def bet_profit(frame: pd.DataFrame) -> np.ndarray:
    """1-unit profit of each graded bet at its recorded price: ``profit_units`` of the grading
    (computed by the one grading rule when the frame lacks it)."""
    if "profit_units" in frame.columns:
        return numeric(frame["profit_units"])
    return numeric(sql_graded(frame)["profit_units"])


def summarise(group: pd.DataFrame) -> dict[str, float | int]:
    """Counts, hit rate with its Wilson interval, MAE model vs line, ROI of the bets of a group."""
    res = text(group["result"])
    is_bet = group["recommendation"].astype("string").isin(["OVER", "UNDER"]).fillna(False).to_numpy(dtype=bool)
    hits = int((res.eq("hit").to_numpy() & is_bet).sum())
    misses = int((res.eq("miss").to_numpy() & is_bet).sum())
    pushes = int((res.eq("push").to_numpy() & is_bet).sum())
    voids = int(res.eq("void").sum())
    decided = hits + misses
    low, high = wilson_interval(hits, decided)
    actual = numeric(group["actual_points"])
    predicted = numeric(group["predicted_points"])
    line = numeric(group["line_points"])
    lined = ~np.isnan(actual) & ~np.isnan(line) & ~np.isnan(predicted)
    profit = bet_profit(group)
    settled = is_bet & res.isin(["hit", "miss", "push"]).to_numpy() & ~np.isnan(profit)
    return {
        "n_predictions": int(len(group)),
        "n_with_line": int((~np.isnan(line)).sum()),
        "n_bets": int(is_bet.sum()),
        "hits": hits, "misses": misses, "pushes": pushes, "voids": voids,
        "hit_rate": hits / decided if decided else float("nan"),
        "wilson_low": low, "wilson_high": high,
        "mae_model": float(np.abs(predicted[lined] - actual[lined]).mean()) if lined.any() else float("nan"),
        "mae_line": float(np.abs(line[lined] - actual[lined]).mean()) if lined.any() else float("nan"),
        "roi": float(profit[settled].sum() / settled.sum()) if settled.any() else float("nan"),
    }


def by_system(frame: pd.DataFrame) -> pd.DataFrame:
    rows = [{"system_id": s, **summarise(g)} for s, g in frame.groupby("system_id", sort=True)]
    return pd.DataFrame(rows)


def cumulative_hit_rate(frame: pd.DataFrame) -> pd.DataFrame:
    """Per system and date: cumulative hits and decided bets to that date, hit rate and Wilson band."""
    res = text(frame["result"])
    is_bet = frame["recommendation"].astype("string").isin(["OVER", "UNDER"]).fillna(False)
    df = pd.DataFrame({
        "system_id": frame["system_id"].to_numpy(), "game_date": frame["game_date"].to_numpy(),
        "hit": (res.eq("hit") & is_bet).astype(int).to_numpy(),
        "decided": (res.isin(["hit", "miss"]) & is_bet).astype(int).to_numpy(),
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
    """Per system and |edge| bucket, taking the lean side (the side p_over favours) on every lined
    prediction."""
    df = with_lean(frame)
    df = df[df["lean_side"].notna()]
    absedge = np.abs(numeric(df["edge"]))
    result = text(df["lean_result"]).to_numpy()
    profit = df["lean_profit"].to_numpy(dtype=float)
    systems = df["system_id"].to_numpy()
    rows = []
    for system_id in sorted(set(systems)):
        for lo, hi in EDGE_BUCKETS:
            m = (systems == system_id) & (absedge >= lo) & (absedge < hi)
            hits = int((m & (result == "hit")).sum())
            misses = int((m & (result == "miss")).sum())
            pushes = int((m & (result == "push")).sum())
            decided = hits + misses
            settled = m & np.isin(result, ["hit", "miss", "push"]) & ~np.isnan(profit)
            low, high = wilson_interval(hits, decided)
            rows.append({
                "system_id": system_id, "edge_bucket": edge_bucket_label(lo, hi), "n_predictions": int(m.sum()),
                "hits": hits, "misses": misses, "pushes": pushes, "decided": decided,
                "hit_rate": hits / decided if decided else float("nan"), "wilson_low": low, "wilson_high": high,
                "roi": float(profit[settled].sum() / settled.sum()) if settled.any() else float("nan"),
            })
    return pd.DataFrame(rows, columns=["system_id", "edge_bucket", "n_predictions", "hits", "misses", "pushes",
                                       "decided", "hit_rate", "wilson_low", "wilson_high", "roi"])


def calibration(frame: pd.DataFrame) -> pd.DataFrame:
    """Per system and confidence bin: mean stated confidence vs observed win rate of the lean side
    (confidence is 100 x the calibrated probability that this side wins, so a calibrated system sits
    on the diagonal). The table is metrics.lean_reliability, the backtest's too."""
    df = with_lean(frame)
    tables = []
    for system_id, g in df.groupby("system_id", sort=True):
        table = lean_reliability(numeric(g["confidence"]), text(g["lean_result"]).to_numpy())
        table = table[table["n"] > 0].assign(system_id=system_id, bin=lambda t: t["bin"].str.replace("-", "–"))
        tables.append(table)
    columns = ["system_id", "bin", "n", "mean_confidence", "observed", "wilson_low", "wilson_high"]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]
