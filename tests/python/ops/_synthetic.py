"""Synthetic pipeline steps for orchestration tests (real DuckDB, no dbt): each writes rows of its
own, idempotently, so reruns and concurrent runs can be checked for duplicates."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from python_jobs.ops.guard import short_write
from python_jobs.pipeline import Step, StepOutcome


def _write(ctx, phase: str, n: int, pause: float) -> StepOutcome:
    with short_write(ctx.settings) as con:
        con.execute("create table if not exists main.synthetic_output (game_date date, phase varchar, i integer, run_id varchar)")
        con.execute(
            "insert into main.synthetic_output select ?, ?, i, ? from range(?) t(i) "
            "where not exists (select 1 from main.synthetic_output o where o.game_date = ? and o.phase = ? and o.i = t.i)",
            [ctx.game_date, phase, ctx.run_id, n, ctx.game_date, phase])
    time.sleep(pause)
    return StepOutcome(rows_out=n)


def synthetic_steps(pause: float = 0.0) -> list[Step]:
    return [
        Step("alpha", "phase2", lambda ctx: _write(ctx, "alpha", 5, pause), records_completion=True),
        Step("beta", "phase3", lambda ctx: _write(ctx, "beta", 3, pause), records_completion=True),
    ]


if __name__ == "__main__":
    # python _synthetic.py WAREHOUSE_DIR GAME_DATE WAIT_MINUTES PAUSE -> exit code like run-day
    from python_jobs.ops.locks import LockHeld
    from python_jobs.pipeline import run_day
    from tests.python.conftest import make_settings

    settings = make_settings(Path(sys.argv[1]))
    try:
        result = run_day(settings, date.fromisoformat(sys.argv[2]), wait_minutes=float(sys.argv[3]),
                         steps=synthetic_steps(float(sys.argv[4])))
    except LockHeld as exc:
        print(f"LOCKED: {exc}", flush=True)
        sys.exit(3)
    print(f"STATUS: {result.status}", flush=True)
    sys.exit(result.exit_code)
