"""Walk-forward backtest: for each game date with lines, models trained only on earlier games.

For every game date D in [start, end] that has consensus lines in the warehouse:
- the feature rows of D are used as they are (the store is as-of by construction: a row for D only
  uses games before D);
- the models come from the most recent *anchor* <= D: anchors start at the first test date and a
  new one is set when a test date is ``retrain_every_days`` or more after the current anchor; a
  model for anchor A is fit on labelled rows with ``game_date < A`` (same split, validation and
  hyper-parameters as ``nba-props train``), so nothing on/after D is ever seen;
- every player with a line is validated and scored by the same code as the daily job
  (``scoring.build_day_scores``), then graded: did_play -> graded, finished without a box-score
  row (did_play false) -> void, game not finished -> pending (left out of the figures).

Labelled rows carry the consensus line and market columns of their own date (all before the
anchor), so the market-aware system and the calibrators learn only from earlier lines.

The result JSON has, per system: overall figures (MAE model vs line; Brier score and log loss of
P(over) next to the no-vig market's on the same rows; expected calibration error; hit rate with its
Wilson interval; ROI at the recorded best prices), figures per |edge| bucket, per recommended side,
and the reliability table (stated confidence of the lean side vs observed win rate; share of
actuals inside +/- 1 std).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from python_jobs.config import Settings
from python_jobs.ml.features import FeatureSpec, load_feature_spec
from python_jobs.ml.grading import grade_frame
from python_jobs.ml.metrics import (
    brier,
    calibration_error,
    lean_reliability,
    log_loss,
    over_outcome,
    wilson_interval,
)
from python_jobs.ml.params import MlParams, load_ml_params
from python_jobs.ml.predict import LoadedModel
from python_jobs.ml.scoring import build_day_scores, read_lines
from python_jobs.ml.training import (
    FEATURE_STORE,
    attach_history_lines,
    feature_store_columns,
    fit_systems,
    prepare_labelled,
)
from python_jobs.warehouse.connection import connect

log = logging.getLogger(__name__)
EDGE_BUCKETS = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (5.0, math.inf)]
CALIBRATION_TOLERANCE_POINTS = 3.0  # issue #12: a bucket with >= 100 predictions within +/- 3 points
CALIBRATION_MIN_BUCKET = 100
BREAK_EVEN_MINUS_110 = 110 / 210


class BacktestError(ValueError):
    """Nothing to backtest in the requested range."""


def read_backtest_inputs(settings: Settings, spec: FeatureSpec, start: date, end: date
                         ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(labelled rows before ``end`` with their own date's line attached, feature rows of [start,
    end], consensus lines with market columns of [start, end])."""
    cols = feature_store_columns(spec)
    with connect(settings) as con:
        labelled = con.fetch_df(
            f"select {cols} from {FEATURE_STORE} where did_play and actual_points is not null "
            "and game_date < ? order by game_date, player_id", [end])
        test_rows = con.fetch_df(
            f"select {cols} from {FEATURE_STORE} where game_date between ? and ? order by game_date, player_id",
            [start, end])
        history_lines = read_lines(con, before=end)
        lines = read_lines(con, start=start, end=end)
    for frame in (labelled, test_rows):
        frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return attach_history_lines(labelled, history_lines), test_rows, lines


def anchors_for(dates: list[date], retrain_every_days: int) -> dict[date, date]:
    """Map each test date to the anchor date whose model scores it."""
    if retrain_every_days < 1:
        raise ValueError("retrain_every_days must be >= 1")
    mapping: dict[date, date] = {}
    anchor: date | None = None
    for d in sorted(dates):
        if anchor is None or (d - anchor).days >= retrain_every_days:
            anchor = d
        mapping[d] = anchor
    return mapping


def walk_forward(labelled: pd.DataFrame, test_rows: pd.DataFrame, lines: pd.DataFrame,
                 spec: FeatureSpec, params: MlParams, *, threads: int, retrain_every_days: int = 7,
                 systems: list[str] | None = None, on_date: Callable[[int, int, str], None] | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """Score every (date, player with a line) walk-forward; returns (graded predictions, rejects, anchors).
    ``on_date(done, total, date)`` follows the scored dates (the CLI's progress bar)."""
    dates = sorted(set(lines["game_date"]))
    if not dates:
        raise BacktestError("no consensus lines in the range: nothing to backtest")
    mapping = anchors_for(dates, retrain_every_days)
    accepted_labelled, _ = prepare_labelled(labelled, spec, params)
    accepted_dates = pd.to_datetime(accepted_labelled["game_date"]).dt.date
    predictions, rejects, anchor_log = [], [], []
    for anchor in sorted(set(mapping.values())):
        started = time.perf_counter()
        mask = accepted_dates < anchor
        if params.training_lookback_days:
            mask &= accepted_dates >= anchor - timedelta(days=params.training_lookback_days)
        fitted = fit_systems(accepted_labelled.loc[mask.to_numpy()].reset_index(drop=True), spec, params,
                             threads=threads, system_ids=systems)
        models = [LoadedModel(sid, f"backtest-{anchor}", r.model, r.residual_std, r.std_buckets,
                              calibrator=r.calibrator)
                  for sid, r in fitted.items() if not systems or sid in systems]
        window = next(iter(fitted.values())).window
        anchor_dates = [d for d, a in mapping.items() if a == anchor]
        for d in anchor_dates:
            day_lines = lines.loc[lines["game_date"] == d].drop(columns=["game_date"])
            day_rows = test_rows.loc[(test_rows["game_date"] == d) & test_rows["player_id"].isin(day_lines["player_id"])]
            scores, day_rejects = build_day_scores(day_rows.reset_index(drop=True), day_lines.reset_index(drop=True),
                                                   models, spec, params, d)
            market = day_lines[["player_id", "no_vig_over_probability"]]
            outcome = day_rows[["player_id", "is_upcoming", "did_play", "actual_points"]].merge(
                market, on="player_id", how="left", validate="one_to_one")
            predictions.append(scores.merge(outcome, on="player_id", how="left", validate="many_to_one"))
            rejects.append(day_rejects)
            if on_date is not None:
                on_date(len(rejects), len(dates), str(d))
        anchor_log.append({
            "anchor": str(anchor), "dates": [str(d) for d in anchor_dates],
            "training_window": window, "fit_seconds": round(time.perf_counter() - started, 2),
            "validation_mae": {sid: round(r.validation_mae, 3) for sid, r in fitted.items()},
            "calibration": {sid: r.calibrator.to_dict() for sid, r in fitted.items()},
            "correction_weights": {sid: r.hyperparameters["stack"] for sid, r in fitted.items()
                                   if "stack" in r.hyperparameters},
        })
        log.info("backtest anchor %s: %d dates, validation MAE %s", anchor, len(anchor_dates),
                 anchor_log[-1]["validation_mae"])
    graded = grade(pd.concat(predictions, ignore_index=True))
    all_rejects = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame()
    return graded, all_rejects, anchor_log


def grade(pred: pd.DataFrame) -> pd.DataFrame:
    """Add grade_status (from did_play / is_upcoming: graded, void or pending), then errors,
    bet/lean results and profit by the SQL grading rules of prediction_accuracy (macro
    grade_predictions via ml.grading.grade_frame; a bet is priced at its best_price when recorded)."""
    pred = pred.copy()
    played = pred["did_play"].astype("boolean")
    upcoming = pred["is_upcoming"].astype("boolean").fillna(True)
    pred["grade_status"] = np.where(played.fillna(False), "graded",
                                    np.where(~upcoming & ~played.fillna(True), "void", "pending"))
    return grade_frame(pred)


def wilson(hits: int, n: int) -> tuple[float | None, float | None]:
    """metrics.wilson_interval with None (JSON null) for an empty sample."""
    low, high = wilson_interval(hits, n)
    return (None, None) if n == 0 else (low, high)


def probability_scores(df: pd.DataFrame) -> dict[str, Any]:
    """Brier score and log loss of the system's P(over) and of the no-vig market's, on the graded
    lined rows that were not a push and have both; expected calibration error of the lean side."""
    graded = df.loc[(df["grade_status"] == "graded") & df["line_points"].notna()]
    decided, over = over_outcome(graded["actual_points"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan),
                                 graded["line_points"].astype("float64").to_numpy())
    p = graded["p_over"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan) \
        if "p_over" in graded.columns else np.full(len(graded), np.nan)
    market = graded["no_vig_over_probability"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan) \
        if "no_vig_over_probability" in graded.columns else np.full(len(graded), np.nan)
    ok = decided & ~np.isnan(p) & ~np.isnan(market)
    table = lean_reliability(graded["confidence"].astype("float64").to_numpy(), graded["lean_result"].to_numpy())

    def r(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 4)

    return {
        "n_probability_rows": int(ok.sum()),
        "brier": r(brier(p[ok], over[ok])), "brier_market": r(brier(market[ok], over[ok])),
        "log_loss": r(log_loss(p[ok], over[ok])), "log_loss_market": r(log_loss(market[ok], over[ok])),
        "ece": r(calibration_error(table)),
    }


def summarize(df: pd.DataFrame) -> dict[str, Any]:
    """Figures over the graded/void rows of ``df`` (pending rows are left out)."""
    done = df.loc[df["grade_status"].isin(["graded", "void"])]
    graded = done.loc[done["grade_status"] == "graded"]
    bets = done.loc[done["recommendation"].isin(["OVER", "UNDER"])]
    hits = int((bets["bet_result"] == "hit").sum())
    misses = int((bets["bet_result"] == "miss").sum())
    pushes = int((bets["bet_result"] == "push").sum())
    priced = bets.loc[bets["bet_result"].isin(["hit", "miss", "push"]) & bets["profit_units"].notna()]
    lean_hits = int((done["lean_result"] == "hit").sum())
    lean_misses = int((done["lean_result"] == "miss").sum())
    low, high = wilson(hits, hits + misses)
    lean_low, lean_high = wilson(lean_hits, lean_hits + lean_misses)

    def r(x: float | None, nd: int = 4) -> float | None:
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), nd)

    return {
        "n_predictions": len(graded),
        "n_void": int((done["grade_status"] == "void").sum()),
        "n_bets": int(((bets["grade_status"] == "graded")).sum()),
        "hits": hits, "misses": misses, "pushes": pushes,
        "hit_rate": r(hits / (hits + misses) if hits + misses else None),
        "wilson_low": r(low), "wilson_high": r(high),
        "roi": r(priced["profit_units"].sum() / len(priced) if len(priced) else None),
        "profit_units": r(float(priced["profit_units"].sum()), 2),
        "mae_model": r(graded["absolute_error"].mean() if len(graded) else None, 3),
        "mae_line": r(graded["line_absolute_error"].mean() if len(graded) else None, 3),
        "lean_hits": lean_hits, "lean_misses": lean_misses,
        "lean_hit_rate": r(lean_hits / (lean_hits + lean_misses) if lean_hits + lean_misses else None),
        "lean_wilson_low": r(lean_low), "lean_wilson_high": r(lean_high),
        **probability_scores(done),
    }


def calibration(df: pd.DataFrame) -> dict[str, Any]:
    """Reliability of the stated confidence (lean side, every graded lined prediction) and whether
    every bucket with >= CALIBRATION_MIN_BUCKET rows is within CALIBRATION_TOLERANCE_POINTS."""
    graded = df.loc[df["grade_status"] == "graded"]
    table = lean_reliability(graded["confidence"].astype("float64").to_numpy(), graded["lean_result"].to_numpy())
    rows = []
    for rec in table.to_dict("records"):
        big = rec["n"] >= CALIBRATION_MIN_BUCKET
        rows.append({
            "confidence_bucket": rec["bin"], "n": rec["n"],
            "mean_predicted_probability": None if rec["n"] == 0 else round(rec["mean_confidence"], 4),
            "observed_win_rate": None if rec["n"] == 0 else round(rec["observed"], 4),
            "gap_points": None if rec["n"] == 0 else round(rec["gap_points"], 2),
            "within_tolerance": (abs(rec["gap_points"]) <= CALIBRATION_TOLERANCE_POINTS) if big else None,
        })
    inside = (np.abs(graded["actual_points"].astype("float64") - graded["predicted_points"]) <= graded["prediction_std"])
    checked = [r["within_tolerance"] for r in rows if r["within_tolerance"] is not None]
    return {
        "by_confidence": rows,
        "buckets_checked": len(checked),
        "all_checked_buckets_within_tolerance": all(checked) if checked else None,
        "share_within_1_std": round(float(inside.mean()), 4) if len(graded) else None,
        "expected_share_within_1_std": 0.6827,
        "mean_signed_error": round(float((graded["actual_points"].astype("float64") - graded["predicted_points"]).mean()), 3)
        if len(graded) else None,
    }


def report(graded: pd.DataFrame, rejects: pd.DataFrame, anchors: list[dict[str, Any]]) -> dict[str, Any]:
    systems: dict[str, Any] = {}
    for sid, df in graded.groupby("system_id", sort=True):
        abs_edge = df["edge"].abs()
        buckets = {}
        for lo, hi in EDGE_BUCKETS:
            label = f"{lo:g}-{hi:g}" if math.isfinite(hi) else f"{lo:g}+"
            buckets[label] = summarize(df.loc[(abs_edge >= lo) & (abs_edge < hi)])
        systems[str(sid)] = {
            "overall": summarize(df),
            "edge_buckets": buckets,
            "by_side": {side: summarize(df.loc[df["recommendation"] == side]) for side in ("OVER", "UNDER")},
            "calibration": calibration(df),
        }
    per_date = [
        {"game_date": str(d), "system_id": str(sid), **summarize(grp)}
        for (d, sid), grp in graded.groupby(["game_date", "system_id"], sort=True)
    ]
    return {
        "break_even_hit_rate_at_minus_110": round(BREAK_EVEN_MINUS_110, 4),
        "calibration_tolerance_points": CALIBRATION_TOLERANCE_POINTS,
        "calibration_min_bucket": CALIBRATION_MIN_BUCKET,
        "n_game_dates": int(graded["game_date"].nunique()),
        "n_graded_game_dates": int(graded.loc[graded["grade_status"] == "graded", "game_date"].nunique()),
        "n_pending_predictions": int((graded["grade_status"] == "pending").sum()),
        "per_date": per_date,
        "anchors": anchors,
        "rejects": {str(k): int(v) for k, v in
                    (rejects.drop_duplicates(["player_id", "game_date", "reason_code"])["reason_code"]
                     .value_counts().items() if not rejects.empty else [])},
        "systems": systems,
    }


PREDICTION_FIELDS = [
    "game_date", "system_id", "model_version", "player_id", "line_points", "over_price", "under_price",
    "predicted_points", "prediction_std", "edge", "confidence", "recommendation", "p_over",
    "calibration_version", "no_vig_over_probability", "best_book", "best_price", "expected_value", "grade_status",
    "actual_points", "absolute_error", "line_absolute_error", "bet_result", "lean_result", "profit_units",
]


def prediction_records(graded: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (NaN -> None, dates as ISO strings)."""
    frame = graded[PREDICTION_FIELDS].sort_values(["game_date", "system_id", "player_id"])
    records = []
    for row in frame.to_dict("records"):
        out = {}
        for k, v in row.items():
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                out[k] = None
            elif k == "game_date":
                out[k] = str(v)
            elif isinstance(v, np.integer):
                out[k] = int(v)
            elif isinstance(v, np.floating):
                out[k] = float(v)
            else:
                out[k] = v
        records.append(out)
    return records


def backtest(settings: Settings, start: date, end: date, *, retrain_every_days: int = 7,
             systems: list[str] | None = None, output: Path | None = None,
             spec: FeatureSpec | None = None, params: MlParams | None = None,
             include_predictions: bool = False,
             on_date: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Run the walk-forward backtest on whatever the warehouse holds; optionally write JSON.

    ``include_predictions`` adds every graded prediction row (``predictions``) to the result.
    """
    if end < start:
        raise BacktestError(f"end {end} is before start {start}")
    started = time.perf_counter()
    spec = spec or load_feature_spec(settings.home)
    params = params or load_ml_params(settings.home)
    labelled, test_rows, lines = read_backtest_inputs(settings, spec, start, end)
    graded, rejects, anchors = walk_forward(labelled, test_rows, lines, spec, params, threads=settings.threads,
                                            retrain_every_days=retrain_every_days, systems=systems,
                                            on_date=on_date)
    result = {
        "generated_at": settings.utcnow().isoformat(),
        "start": str(start), "end": str(end), "retrain_every_days": retrain_every_days,
        "feature_hash": spec.hash, "features": spec.names,
        "params": {k: v for k, v in asdict(params).items()},
        **report(graded, rejects, anchors),
    }
    if include_predictions:
        result["predictions"] = prediction_records(graded)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["seconds_per_game_date"] = round(result["seconds"] / max(1, result["n_game_dates"]), 2)
    if output is not None:
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_suffix(output.suffix + ".tmp")
        tmp.write_text(json.dumps(result, indent=2, default=str))
        tmp.replace(output)
    return result
