"""End-to-end build benchmark: ten seasons through Phase 4, and a one-day incremental run
with one season vs ten seasons of history (the cost must not grow with history)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from python_jobs.config import PROJECT_ROOT, Settings
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


def _fresh_worker(warehouse_dir: str) -> None:
    """``python -m python_jobs.bench.build WAREHOUSE_DIR``: ingest ten seasons and build through
    Phase 4 in this (fresh) process; prints the three figures as JSON."""
    started = time.perf_counter()
    from python_jobs.ingest import ingest_history

    settings = Settings(home=PROJECT_ROOT, warehouse_dir=Path(warehouse_dir), dbt_target="dev", duckdb_path=None)
    ingest = _timed(ingest_history, settings)
    build = _timed(_build, settings)
    print(json.dumps({"ingest": ingest, "build": build, "total": time.perf_counter() - started}))


def _fresh_run(warehouse_dir: Path, cache_dir: Path) -> dict[str, float]:
    """One fresh worker process on a new warehouse, timed from outside; its inner figures."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBA_PROPS_")}
    env |= {"PYTHONPATH": str(PROJECT_ROOT), "NBA_PROPS_CACHE_DIR": str(cache_dir)}
    started = time.perf_counter()
    before = os.times()
    proc = subprocess.run([sys.executable, "-m", "python_jobs.bench.build", str(warehouse_dir)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"fresh-process build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"wall": wall, "cpu": cpu, **inner}


WARM_RUNS = 3  # the shared machine's noise: the best of three is the figure


def fresh_process(settings: Settings) -> dict[str, object]:
    """Ten seasons through Phase 4 in a fresh Python process (imports, dbt's first parse included),
    timed from outside the process: first with an empty cache directory (a fresh clone's first
    run: the replay bundle's CSVs are parsed, dbt renders the raw layer and parses the whole
    project), then ``WARM_RUNS`` times, each on a new warehouse with the cache that run filled
    (every later run on the machine: a new warehouse starts from dbt's kept saved parse); the
    best of those is the figure, every run's wall seconds and load average are reported."""
    cache = settings.warehouse_dir / "fresh_process_cache"
    shutil.rmtree(cache, ignore_errors=True)
    cold = _fresh_run(settings.warehouse_dir / "fresh_process_cold", cache)
    runs = []
    for i in range(WARM_RUNS):
        shutil.rmtree(settings.warehouse_dir / f"fresh_process_{i}", ignore_errors=True)
        runs.append({**_fresh_run(settings.warehouse_dir / f"fresh_process_{i}", cache),
                     "load_average_1min": round(os.getloadavg()[0], 2)})
    warm = min(runs, key=lambda r: r["wall"])
    return {"fresh_process_ten_season_through_phase4_seconds": round(warm["wall"], 3),
            "fresh_process_runs": [{"wall_seconds": round(r["wall"], 3), "cpu_seconds": round(r["cpu"], 3),
                                    "load_average_1min_after": r["load_average_1min"]} for r in runs],
            "fresh_process_ingest_seconds": round(warm["ingest"], 3),
            "fresh_process_build_seconds": round(warm["build"], 3),
            "fresh_process_cpu_seconds": round(warm["cpu"], 3),
            "fresh_process_cold_cache_seconds": round(cold["wall"], 3),
            "fresh_process_cold_cache_ingest_seconds": round(cold["ingest"], 3),
            "fresh_process_cold_cache_build_seconds": round(cold["build"], 3),
            "fresh_process_cold_cache_cpu_seconds": round(cold["cpu"], 3),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "target_fresh_process_seconds": 20}


def run(settings: Settings) -> dict[str, object]:
    from python_jobs.ingest import ingest_history

    figures = fresh_process(settings)   # first: nothing of dbt or the replay bundle is loaded in this process
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
        **figures,
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


if __name__ == "__main__":
    # the process settings of the CLI's own process (python_jobs.cli.run): what a user's
    # `nba-props ...` command runs with
    from python_jobs.runtime import run_batch_process

    run_batch_process(lambda: _fresh_worker(sys.argv[1]))
