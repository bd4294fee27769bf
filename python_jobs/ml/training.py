"""Training: time-based split, deterministic fits, artifacts registered with their metadata.

``fit_systems`` is the one fitting routine, used by ``train`` (which persists to the registry) and
by the walk-forward backtest (which keeps the models in memory).

Split: labelled rows (``did_play`` and ``actual_points`` known) with ``game_date < cutoff`` that
pass the same validation as scoring rows. The validation window is chosen by a count of rows, not
of days: the latest whole game dates that together hold at least min(``ml_validation_rows``,
``ml_validation_max_share`` x rows) labelled rows (at a season start a 21-day window held 34 rows);
everything earlier is the training window. The validation window measures MAE and the residual
spread used for ``prediction_std``, and its rows that had a consensus line fit the
calibrator of P(over) (metrics.MarketCalibrator: only dates before the cutoff); then, by default,
the model is refit on train+validation with the same hyper-parameters so the most recent games are
learned too. Labelled rows carry the consensus line and market columns of their date when there
was one (``attach_history_lines``); systems that ``needs_line`` fit on those rows only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from python_jobs.config import Settings
from python_jobs.ml.features import FeatureSpec, load_feature_spec
from python_jobs.ml.metrics import MarketCalibrator, over_outcome
from python_jobs.ml.params import MlParams, load_ml_params
from python_jobs.ml.predict import raw_p_over, residual_spread
from python_jobs.ml.registry import ModelRegistry
from python_jobs.ml.systems import FitContext, Model, get_system, resolve_order
from python_jobs.ml.validation import validate_feature_rows
from python_jobs.warehouse.connection import connect

log = logging.getLogger(__name__)
EASTERN = ZoneInfo("America/New_York")
FEATURE_STORE = "precompute.ml_feature_store"
META_COLUMNS = [
    "feature_row_id", "player_id", "player_name", "game_date", "game_id", "season", "team_id",
    "is_upcoming", "did_play", "actual_points", "features_computed_at", "feature_source_max_date",
    "feature_quality_score", "missing_features", "is_stale", "stale_reason",
]


class TrainingDataError(ValueError):
    """Not enough labelled rows before the cutoff to train and validate."""


@dataclass
class FitResult:
    system_id: str
    model: Model
    validation_mae: float
    validation_rmse: float
    residual_std: float
    std_buckets: list[list[float]]
    window: dict[str, Any]
    fit_seconds: float
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    calibrator: MarketCalibrator = field(default_factory=MarketCalibrator)


def feature_store_columns(spec: FeatureSpec) -> str:
    """Quoted column list (identifiers come from the validated spec, never from user input)."""
    cols = list(dict.fromkeys([*META_COLUMNS, *spec.names]))
    return ", ".join(f'"{c}"' for c in cols)


def read_labelled_rows(con, spec: FeatureSpec, before: date, since: date | None = None) -> pd.DataFrame:
    sql = (
        f"select {feature_store_columns(spec)} from {FEATURE_STORE} "
        "where did_play and actual_points is not null and game_date < ?"
    )
    params: list[Any] = [before]
    if since is not None:
        sql += " and game_date >= ?"
        params.append(since)
    return con.fetch_df(sql + " order by game_date, player_id", params)


def split_by_rows(frame: pd.DataFrame, validation_rows: int, max_share: float = 0.25
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation): validation = the latest whole game dates holding at least
    min(validation_rows, max_share * len(frame)) rows; train = every earlier date."""
    dates = pd.to_datetime(frame["game_date"]).dt.date
    target = max(1, min(int(validation_rows), int(max_share * len(frame))))
    per_date = dates.value_counts().sort_index(ascending=False)
    cumulative = per_date.cumsum()
    reached = cumulative[cumulative >= target]
    valid_start = reached.index[0] if len(reached) else per_date.index[-1]
    is_valid = (dates >= valid_start).to_numpy()
    train, valid = frame.loc[~is_valid], frame.loc[is_valid]
    if train.empty or valid.empty:
        raise TrainingDataError(
            f"row-count split left {len(train)} training and {len(valid)} validation rows "
            f"(target {target} validation rows from {valid_start})"
        )
    return train.reset_index(drop=True), valid.reset_index(drop=True)


def lined(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that carry a consensus line."""
    if "consensus_line_points" not in frame.columns:
        return frame.iloc[0:0]
    return frame.loc[frame["consensus_line_points"].notna()].reset_index(drop=True)


def fit_calibrator(model: Model, std_source: tuple[float, list[list[float]]], valid: pd.DataFrame,
                   params: MlParams) -> MarketCalibrator:
    """Calibrator of P(over) (metrics.MarketCalibrator: the no-vig market and the held-out model's raw
    P(over) stacked, prior at the market, its departure from the market weighted by the evidence rule
    on walk-forward held-out dates) on the validation rows that had a line (pushes left out); every
    one of them is dated before the cutoff and unseen by ``model``."""
    rows = lined(valid)
    if rows.empty:
        return MarketCalibrator(prior_rows=params.calibration_prior_rows, min_rows=params.calibration_min_rows)
    from python_jobs.ml.predict import LoadedModel

    spread = LoadedModel("_", "_", model, std_source[0], std_source[1])
    predicted = model.predict(rows)
    line = rows["consensus_line_points"].astype("float64").to_numpy()
    decided, over = over_outcome(rows["actual_points"].astype("float64").to_numpy(), line)
    p_raw = raw_p_over(predicted, spread.std_for(predicted), line)
    through = str(max(pd.to_datetime(rows["game_date"]).dt.date))
    market = pd.to_numeric(rows["no_vig_over_probability"], errors="coerce").to_numpy(dtype="float64") \
        if "no_vig_over_probability" in rows.columns else np.full(len(rows), np.nan)
    dates = pd.to_datetime(rows["game_date"]).dt.date.to_numpy()
    return MarketCalibrator.fit(p_raw[decided], market[decided], over[decided], dates[decided],
                                params.calibration_prior_rows, params.calibration_min_rows,
                                evidence_min_rows=params.market_stack_min_rows, fitted_through=through)


def fit_systems(labelled: pd.DataFrame, spec: FeatureSpec, params: MlParams, *, threads: int,
                system_ids: list[str] | None = None, refit_full: bool = True) -> dict[str, FitResult]:
    """Fit every requested system (dependencies first) on rows that already passed validation."""
    if labelled.empty:
        raise TrainingDataError("no labelled feature rows to train on")
    train, valid = split_by_rows(labelled, params.validation_rows, params.validation_max_share)
    window = {
        "train_start": str(min(pd.to_datetime(train["game_date"]).dt.date)),
        "train_end": str(max(pd.to_datetime(train["game_date"]).dt.date)),
        "validation_start": str(min(pd.to_datetime(valid["game_date"]).dt.date)),
        "validation_end": str(max(pd.to_datetime(valid["game_date"]).dt.date)),
        "n_train": len(train),
        "n_validation": len(valid),
        "n_validation_lined": len(lined(valid)),
        "refit_on_train_and_validation": refit_full,
    }
    held_out: dict[str, Model] = {}
    final: dict[str, Model] = {}
    results: dict[str, FitResult] = {}
    for sid in resolve_order(system_ids):
        system = get_system(sid)
        started = time.perf_counter()
        sys_train, sys_valid = (lined(train), lined(valid)) if system.needs_line else (train, valid)
        ctx = FitContext(spec, params, threads, deps={d: held_out[d] for d in system.depends_on})
        held_out[sid] = system.fit(sys_train, ctx)
        if sys_valid.empty:  # a line-only system before any line: its spread is the line-free baseline's
            eval_rows = valid
            predicted = _line_free_projection(valid)
        else:
            eval_rows = sys_valid
            predicted = held_out[sid].predict(sys_valid)
        actual = eval_rows["actual_points"].astype("float64").to_numpy()
        rmse, buckets = residual_spread(predicted, actual)
        calibrator = fit_calibrator(held_out[sid], (rmse, buckets), valid, params)
        if refit_full:
            ctx_full = FitContext(spec, params, threads, deps={d: final[d] for d in system.depends_on})
            full = pd.concat([train, valid], ignore_index=True)
            final[sid] = system.fit(lined(full) if system.needs_line else full, ctx_full)
        else:
            final[sid] = held_out[sid]
        results[sid] = FitResult(
            system_id=sid,
            model=final[sid],
            validation_mae=float(np.mean(np.abs(actual - predicted))),
            validation_rmse=rmse,
            residual_std=rmse,
            std_buckets=buckets,
            window=window,
            fit_seconds=round(time.perf_counter() - started, 3),
            hyperparameters=dict(final[sid].hyperparameters),
            calibrator=calibrator,
        )
        log.info("fitted %s: validation MAE %.3f (n=%d), calibration %s", sid, results[sid].validation_mae,
                 len(eval_rows), calibrator.version)
    return results


def _line_free_projection(frame: pd.DataFrame) -> np.ndarray:
    """The first of the line-free projections present (for the spread of a line-only system that
    has no lined validation rows yet)."""
    for name in ("projected_points", "points_avg_blended", "points_avg_season"):
        if name in frame.columns:
            return frame[name].astype("Float64").to_numpy(dtype="float64", na_value=0.0)
    raise TrainingDataError("no line-free projection column to measure the spread of a line-only system")


def attach_history_lines(labelled: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Left-join each labelled row's consensus line and market columns of its date (one per key)."""
    if lines.empty:
        return labelled
    keyed = lines.assign(game_date=pd.to_datetime(lines["game_date"]).dt.date)
    out = labelled.assign(game_date=pd.to_datetime(labelled["game_date"]).dt.date)
    cols = [c for c in keyed.columns if c not in out.columns or c in ("player_id", "game_date")]
    return out.merge(keyed[cols], on=["player_id", "game_date"], how="left", validate="many_to_one")


def prepare_labelled(raw_rows: pd.DataFrame, spec: FeatureSpec, params: MlParams) -> tuple[pd.DataFrame, dict[str, int]]:
    """Apply the scoring validation to training rows; return accepted rows and reject counts."""
    accepted, rejects = validate_feature_rows(raw_rows, spec, params)
    counts = rejects["reason_code"].value_counts().to_dict() if not rejects.empty else {}
    return accepted, {str(k): int(v) for k, v in counts.items()}


@dataclass
class TrainReport:
    cutoff: date
    models: dict[str, dict[str, Any]]
    rejected_training_rows: dict[str, int]
    seconds: float


def eastern_today(settings: Settings) -> date:
    return settings.eastern_today()


def train(settings: Settings, *, systems: list[str] | None = None, cutoff: date | None = None,
          spec: FeatureSpec | None = None, params: MlParams | None = None,
          refit_full: bool = True) -> TrainReport:
    """Train the systems on rows before ``cutoff`` (default: today, US/Eastern) and register them."""
    started = time.perf_counter()
    spec = spec or load_feature_spec(settings.home)
    params = params or load_ml_params(settings.home)
    cutoff = cutoff or eastern_today(settings)
    since = cutoff - timedelta(days=params.training_lookback_days) if params.training_lookback_days else None
    with connect(settings) as con:
        raw_rows = read_labelled_rows(con, spec, cutoff, since)
        from python_jobs.ml.scoring import read_lines

        history_lines = read_lines(con, before=cutoff)
    labelled, rejected = prepare_labelled(attach_history_lines(raw_rows, history_lines), spec, params)
    results = fit_systems(labelled, spec, params, threads=settings.threads, system_ids=systems,
                          refit_full=refit_full)
    registry = ModelRegistry(settings.models_dir)
    created_at = settings.utcnow().isoformat()
    versions: dict[str, str] = {}
    summary: dict[str, dict[str, Any]] = {}
    for sid in resolve_order(systems):
        res = results[sid]
        metadata = {
            "created_at": created_at,
            "cutoff": str(cutoff),
            "training_window": res.window,
            "features": spec.names,
            "feature_hash": spec.hash,
            "categorical_features": spec.categorical_names,
            "hyperparameters": res.hyperparameters,
            "validation_mae": round(res.validation_mae, 4),
            "validation_rmse": round(res.validation_rmse, 4),
            "residual_std": round(res.residual_std, 4),
            "std_buckets": res.std_buckets,
            "rejected_training_rows": rejected,
            "fit_seconds": res.fit_seconds,
            "threads": settings.threads,
            "component_versions": {d: versions[d] for d in get_system(sid).depends_on},
            "calibration": res.calibrator.to_dict(),
            "calibration_version": res.calibrator.version,
        }
        reg = registry.register(res.model, metadata)
        versions[sid] = reg.version
        summary[sid] = {"version": reg.version, "validation_mae": metadata["validation_mae"],
                        "residual_std": metadata["residual_std"], "fit_seconds": res.fit_seconds,
                        "n_train_rows": res.window["n_train"], "n_validation_rows": res.window["n_validation"],
                        "training_window": res.window, "directory": str(reg.directory),
                        "calibration_version": res.calibrator.version}
    return TrainReport(cutoff, summary, rejected, round(time.perf_counter() - started, 2))
