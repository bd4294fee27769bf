"""End-to-end build benchmark: ten seasons through Phase 4, and a one-day incremental run
with one season vs ten seasons of history (the cost must not grow with history)."""

from __future__ import annotations

import time
from datetime import date, timedelta

from python_jobs.config import Settings
from python_jobs.dbt_runner import run_dbt

INCREMENTAL_DAY = date(2025, 3, 19)


def _timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def _build(settings: Settings, run_date: date | None = None) -> None:
    vars_ = {"run_date": run_date.isoformat()} if run_date else None
    run_dbt(["build", "--selector", "through_phase4"], settings, vars=vars_)


def _one_day(settings: Settings, seasons: list[str] | None) -> dict[str, float]:
    from python_jobs.ingest import ingest_history, land_day

    ingest_history(settings, seasons=seasons, until=INCREMENTAL_DAY - timedelta(days=1))
    _build(settings)
    land = _timed(land_day, settings, INCREMENTAL_DAY)
    build = _timed(_build, settings, INCREMENTAL_DAY)
    return {"land_seconds": round(land, 3), "build_seconds": round(build, 3), "total_seconds": round(land + build, 3)}


def run(settings: Settings) -> dict[str, object]:
    from python_jobs.ingest import ingest_history

    # warm the in-process dbt (import + first parse) so the figures below are the per-run cost
    warm = _timed(run_dbt, ["parse"], settings)

    full = settings.model_copy(update={"warehouse_dir": settings.warehouse_dir / "full"})
    full.warehouse_dir.mkdir(parents=True, exist_ok=True)
    ingest = _timed(ingest_history, full)
    build = _timed(_build, full)

    ten = settings.model_copy(update={"warehouse_dir": settings.warehouse_dir / "ten_seasons"})
    one = settings.model_copy(update={"warehouse_dir": settings.warehouse_dir / "one_season"})
    for s in (ten, one):
        s.warehouse_dir.mkdir(parents=True, exist_ok=True)
    day_ten = _one_day(ten, None)
    day_one = _one_day(one, ["2024-25"])
    return {
        "dbt_import_and_first_parse_seconds": round(warm, 3),
        "full_ten_season_ingest_seconds": round(ingest, 3),
        "full_ten_season_build_through_phase4_seconds": round(build, 3),
        "full_ten_season_total_seconds": round(ingest + build, 3),
        "target_full_total_seconds": 30,
        "one_day_incremental_ten_seasons": day_ten,
        "one_day_incremental_one_season": day_one,
        "one_day_ratio_ten_vs_one": round(day_ten["total_seconds"] / day_one["total_seconds"], 3),
        "target_one_day_ratio": 1.2,
        "incremental_day": INCREMENTAL_DAY.isoformat(),
    }
