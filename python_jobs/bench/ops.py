"""Ops benchmark: what orchestration costs on top of the work.

- ``dbt_*``: dbt's fixed per-invocation cost: a fresh process that imports dbt and builds an
  empty selection (what every `dbt` command-line call pays), the first in-process invocation
  (import + parse) and a repeated in-process empty build / parse (what ``run_dbt`` pays per phase
  once warm).
- ``noop_*``: orchestration alone, one game date with 11 no-op steps, each in a fresh process:
  bare ``run_day`` vs the same steps inside a Prefect flow in ephemeral mode (temporary server
  start included), plus the per-step overhead of a Prefect task once the server is up.

One whole game date (``nba-props run-day`` and the served Prefect deployment) is ``bench/day.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.dbt_runner import run_dbt

DAY = date(2025, 3, 19)
N_NOOP_STEPS = 11
EMPTY_SELECTION = ["build", "--select", "tag:nba_props_bench_no_such_tag"]


def _timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def _env(settings: Settings) -> dict[str, str]:
    # the child's database is named explicitly: a path set in this environment must not redirect it
    return {**os.environ, "NBA_PROPS_DUCKDB_PATH": str(settings.database_path),
            "NBA_PROPS_WAREHOUSE_DIR": str(settings.warehouse_dir),
            "NBA_PROPS_DBT_TARGET": settings.dbt_target, "PYTHONPATH": str(PROJECT_ROOT),
            "PREFECT_HOME": str(settings.warehouse_dir / "prefect")}


def _run_process(args: list[str], settings: Settings) -> float:
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=PROJECT_ROOT, env=_env(settings), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 2):  # 2 = finished with a failing SLO: the run itself completed
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds


def _sub(settings: Settings, name: str) -> Settings:
    sub = settings.model_copy(update={"warehouse_dir": settings.warehouse_dir / name})
    sub.warehouse_dir.mkdir(parents=True, exist_ok=True)
    return sub


# --------------------------------------------------------------------------- no-op steps
def noop_steps():
    from python_jobs.pipeline import Step, StepOutcome

    return [Step(f"noop{i}", f"phase{i}", lambda ctx: StepOutcome(rows_out=0)) for i in range(N_NOOP_STEPS)]


def _worker(mode: str, warehouse_dir: str, repeat: int) -> None:
    """``python -m python_jobs.bench.ops bare|prefect WAREHOUSE_DIR REPEAT``: run the no-op day."""
    settings = Settings(home=PROJECT_ROOT, warehouse_dir=Path(warehouse_dir), dbt_target="dev", duckdb_path=None)
    if mode == "bare":
        from python_jobs.pipeline import run_day

        for i in range(repeat):
            started = time.perf_counter()
            run_day(settings, DAY + timedelta(days=i), steps=noop_steps())
            print(f"RUN {time.perf_counter() - started:.4f}", flush=True)
        return
    from prefect import flow

    from flows.daily import run_daily

    @flow(name="bench-noop-day")
    def noop_day(day: str) -> None:
        run_daily(settings, date.fromisoformat(day), steps=noop_steps())

    for i in range(repeat):
        started = time.perf_counter()
        noop_day((DAY + timedelta(days=i)).isoformat())
        print(f"RUN {time.perf_counter() - started:.4f}", flush=True)


def _noop(settings: Settings, mode: str, repeat: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "python_jobs.bench.ops", mode, str(settings.warehouse_dir),
                           str(repeat)], cwd=PROJECT_ROOT, env=_env(settings), capture_output=True, text=True)
    total = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"no-op {mode} worker failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    runs = [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("RUN ")]
    return total, runs


# --------------------------------------------------------------------------- figures
def dbt_costs(settings: Settings) -> dict[str, float]:
    code = ("import sys; from dbt.cli.main import dbtRunner; "
            "r = dbtRunner().invoke(sys.argv[1:]); sys.exit(0 if r.success else 1)")
    fresh = _run_process([sys.executable, "-c", code, *EMPTY_SELECTION, "--project-dir", str(settings.home),
                          "--profiles-dir", str(settings.home), "--target", settings.dbt_target,
                          "--target-path", str(settings.dbt_target_path)], settings)
    first = _timed(run_dbt, EMPTY_SELECTION, settings)
    again = [_timed(run_dbt, EMPTY_SELECTION, settings) for _ in range(3)]
    parse = [_timed(run_dbt, ["parse"], settings) for _ in range(2)]
    return {
        "dbt_fresh_process_empty_build_seconds": round(fresh, 3),
        "dbt_in_process_first_invocation_seconds": round(first, 3),
        "dbt_in_process_empty_build_seconds": round(min(again), 3),
        "dbt_in_process_parse_seconds": round(min(parse), 3),
    }


def noop_costs(settings: Settings) -> dict[str, float]:
    bare_total, bare_runs = _noop(_sub(settings, "noop_bare"), "bare", 3)
    prefect_total, prefect_runs = _noop(_sub(settings, "noop_prefect"), "prefect", 3)
    warm_bare, warm_prefect = min(bare_runs[1:]), min(prefect_runs[1:])
    return {
        "noop_day_steps": N_NOOP_STEPS,
        "noop_bare_process_3_days_seconds": round(bare_total, 3),
        "noop_prefect_process_3_days_seconds": round(prefect_total, 3),
        "noop_prefect_first_flow_seconds": round(prefect_runs[0], 3),
        "noop_bare_day_warm_seconds": round(warm_bare, 3),
        "noop_prefect_day_warm_seconds": round(warm_prefect, 3),
        "prefect_overhead_per_step_warm_seconds": round((warm_prefect - warm_bare) / N_NOOP_STEPS, 4),
        "prefect_process_overhead_seconds": round(prefect_total - bare_total, 3),
    }


def run(settings: Settings) -> dict[str, float | int | str]:
    figures: dict[str, float | int | str] = {}
    figures.update(dbt_costs(settings))
    figures.update(noop_costs(settings))
    return figures


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2], int(sys.argv[3]))
