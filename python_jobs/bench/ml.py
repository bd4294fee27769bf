"""ML benchmark: training time, scoring rows/s, backtest seconds per game date.

Runs on its own warehouse: the 2024-25 season and every bundled prop line are ingested through
replay and built through Phase 4 (setup, not timed in the figures), then:
- ``train_seconds``: ``nba-props train`` (all systems, cutoff BENCH_DATE, settings.threads);
- ``score_rows_per_second``: the current models score every feature row of the season (pure
  scoring: features -> predictions, recommendation maths included);
- ``score_date_seconds``: ``score_date`` for BENCH_DATE (read, validate, score, insert, dbt phase5);
- ``backtest_seconds_per_game_date``: walk-forward backtest over BACKTEST_START..BACKTEST_END
  with weekly retraining.
"""

from __future__ import annotations

import time
from datetime import date

from python_jobs.config import Settings
from python_jobs.dbt_runner import run_dbt

SEASON = "2024-25"
BENCH_DATE = date(2025, 3, 12)
BACKTEST_START = date(2025, 3, 12)
BACKTEST_END = date(2025, 3, 26)


def run(settings: Settings) -> dict[str, float | int | str]:
    from python_jobs.ingest import ingest_history
    from python_jobs.ml.backtest import backtest
    from python_jobs.ml.features import load_feature_spec
    from python_jobs.ml.params import load_ml_params
    from python_jobs.ml.predict import score_frame
    from python_jobs.ml.registry import ModelRegistry
    from python_jobs.ml.scoring import score_date
    from python_jobs.ml.training import FEATURE_STORE, feature_store_columns, train
    from python_jobs.ml.validation import validate_feature_rows
    from python_jobs.warehouse.connection import connect

    setup_started = time.perf_counter()
    ingest_history(settings, seasons=[SEASON])
    run_dbt(["build", "--selector", "through_phase4"], settings)
    setup_seconds = time.perf_counter() - setup_started

    started = time.perf_counter()
    report = train(settings, cutoff=BENCH_DATE)
    train_seconds = time.perf_counter() - started

    spec, params = load_feature_spec(settings.home), load_ml_params(settings.home)
    models = list(ModelRegistry(settings.models_dir).load(None, spec, params, threads=settings.threads).values())
    with connect(settings) as con:
        rows = con.fetch_df(f"select {feature_store_columns(spec)} from {FEATURE_STORE}")
    valid, _ = validate_feature_rows(rows, spec, params)
    valid = valid.assign(consensus_line_points=20.5, bookmaker_keys="bench", over_price=-110, under_price=-110)
    started = time.perf_counter()
    scored = score_frame(valid, models, params)
    score_seconds = time.perf_counter() - started

    started = time.perf_counter()
    day = score_date(settings, BENCH_DATE, correlation_id="bench")
    score_date_seconds = time.perf_counter() - started

    result = backtest(settings, BACKTEST_START, BACKTEST_END, retrain_every_days=7)
    return {
        "setup_ingest_and_build_seconds": round(setup_seconds, 1),
        "train_seconds": round(train_seconds, 2),
        "train_rows": int(report.models["catboost_v1"]["n_train_rows"]),
        "validation_rows": int(report.models["catboost_v1"]["n_validation_rows"]),
        "catboost_fit_seconds": float(report.models["catboost_v1"]["fit_seconds"]),
        "catboost_validation_mae": float(report.models["catboost_v1"]["validation_mae"]),
        "score_rows": len(scored),
        "score_rows_per_second": round(len(scored) / score_seconds, 0),
        "score_date_seconds": round(score_date_seconds, 2),
        "score_date_rows": day.n_predictions,
        "backtest_game_dates": int(result["n_game_dates"]),
        "backtest_seconds": float(result["seconds"]),
        "backtest_seconds_per_game_date": float(result["seconds_per_game_date"]),
        "threads": settings.threads,
    }
