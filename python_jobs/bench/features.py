"""Benchmark of Phases 3 and 4 (docs/features.md, "Figures").

Two scenarios, each in its own warehouse under ``settings.warehouse_dir``: the history up to
2025-03-12 is landed (ten seasons, or 2024-25 only), Phases 2-4 are built from scratch, then the
morning of 2025-03-14 is landed (results of 2025-03-13, its lines and slate) and Phases 3+4 run
incrementally. Timed: ingest, Phase 2, the full Phase 3+4 run and the one-day incremental
Phase 3+4 run (dbt ``build`` without tests: models and the registry snapshot, in-process; data tests are timed separately as ``test`` seconds).
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from python_jobs.config import Settings
from python_jobs.dbt_runner import run_dbt
from python_jobs.warehouse.connection import connect

DAY = date(2025, 3, 13)
PHASES_3_4 = ["--select", "tag:phase3", "tag:phase4"]
MODELS_ONLY = ["--exclude-resource-type", "test"]


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return round(time.perf_counter() - started, 3)


def _scenario(base: Settings, name: str, seasons: list[str] | None) -> dict[str, float | int]:
    from python_jobs.ingest import ingest_history, land_day

    warehouse_dir = base.warehouse_dir / name
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=base.home, warehouse_dir=warehouse_dir, dbt_target=base.dbt_target,
                        duckdb_path=warehouse_dir / "nba_props.duckdb")
    out: dict[str, float | int] = {}
    out["ingest_seconds"] = _timed(lambda: ingest_history(settings, seasons=seasons, until=DAY - timedelta(days=1)))
    out["phase2_seconds"] = _timed(lambda: run_dbt(
        ["build", "--select", "tag:phase2", "--exclude-resource-type", "test"], settings))
    out["phase34_full_seconds"] = _timed(lambda: run_dbt(["build", *PHASES_3_4, *MODELS_ONLY], settings))
    out["through_phase4_seconds"] = round(
        out["ingest_seconds"] + out["phase2_seconds"] + out["phase34_full_seconds"], 3)
    land_day(settings, DAY + timedelta(days=1))
    run_dbt(["run", "--select", "tag:phase2"], settings)
    out["phase34_one_day_incremental_seconds"] = _timed(lambda: run_dbt(["build", *PHASES_3_4, *MODELS_ONLY], settings))
    out["phase34_tests_seconds"] = _timed(lambda: run_dbt(["test", *PHASES_3_4], settings))
    with connect(settings) as con:
        out["feature_rows"] = con.fetchone("select count(*) from precompute.ml_feature_store")[0]
        out["player_game_rows"] = con.fetchone("select count(*) from analytics.player_game_summary")[0]
    return out


def run(settings: Settings) -> dict[str, float | int | str]:
    ten = _scenario(settings, "ten_seasons", None)
    one = _scenario(settings, "one_season", ["2024-25"])
    figures: dict[str, float | int | str] = {f"ten_seasons_{k}": v for k, v in ten.items()}
    figures.update({f"one_season_{k}": v for k, v in one.items()})
    figures["incremental_ratio_ten_vs_one_season"] = round(
        ten["phase34_one_day_incremental_seconds"] / one["phase34_one_day_incremental_seconds"], 3)
    figures["incremental_day"] = str(DAY)
    return figures
