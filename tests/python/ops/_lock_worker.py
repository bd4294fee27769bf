"""A run-day process for the lock edge-case tests (tests/python/ops/test_lock_edges.py).

    python _lock_worker.py MODE GAME_DATE CONTROL_DIR

It runs the real CLI (``nba-props run-day``) on the warehouse named by NBA_PROPS_WAREHOUSE_DIR, with
the pipeline's steps replaced (real DuckDB writes, no dbt):

- ``pause``: alpha (writes) -> pause (no writer guard held; touches CONTROL_DIR/paused and waits
  for CONTROL_DIR/go, at most 120 s) -> beta (writes);
- ``land``: only the real land step (``pipeline.step_land``) in live mode, with ``land_day`` a no-op
  and a short tiered wait (about 30 s) on a warehouse where no source ever arrives.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from python_jobs import ingest, pipeline
from python_jobs.cli import app
from python_jobs.ops.config import SourceWait, Tier, ops_config
from python_jobs.pipeline import Step, StepOutcome
from tests.python.ops._synthetic import _write


def _pause(control: Path):
    def step(ctx) -> StepOutcome:
        (control / "paused").write_text(ctx.run_id)
        deadline = time.monotonic() + 120
        while not (control / "go").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the test never said go")
            time.sleep(0.05)
        return StepOutcome(rows_out=0, detail="paused")
    return step


def main(mode: str, game_date: str, control: Path) -> None:
    if mode == "pause":
        steps = [
            Step("alpha", "phase2", lambda ctx: _write(ctx, "alpha", 5, 0.0), records_completion=True),
            Step("pause", "phase3", _pause(control), records_completion=True, guarded=False),
            Step("beta", "phase4", lambda ctx: _write(ctx, "beta", 3, 0.0), records_completion=True),
        ]
    elif mode == "land":
        steps = [Step("land", "phase1", pipeline.step_land, records_completion=True, guarded=False)]
        cfg = ops_config()
        short = SourceWait(all_sources_within_minutes=0.1, tiers=[Tier(after_minutes=0.2, min_sources=4),
                                                                    Tier(after_minutes=0.3, min_sources=3)],
                           give_up_after_minutes=0.5, poll_interval_minutes=0.03, late_alert_minutes=1)
        short_cfg = cfg.model_copy(update={"source_wait": short})
        pipeline.ops_config = lambda: short_cfg
        ingest.land_day = lambda settings, game_date, correlation_id=None: None
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    pipeline.default_steps = lambda: steps
    app(["run-day", "--date", game_date])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
