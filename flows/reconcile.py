"""Prefect 3 ``reconcile`` flow: recount what each phase produced per game date and repair drifted
completion records (``python_jobs.ops.reconcile``). A date marked incomplete is rerun by the next
backfill. ::

    uv run python -m flows.reconcile            # repair
    uv run python -m flows.reconcile --dry-run  # report only
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from flows._prefect_env import configure_prefect

configure_prefect()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from python_jobs.config import get_settings  # noqa: E402
from python_jobs.ops.reconcile import ReconcileRow  # noqa: E402
from python_jobs.ops.reconcile import reconcile as reconcile_records  # noqa: E402


@task(name="recount-and-repair", cache_policy=NO_CACHE, persist_result=False)
def recount(dry_run: bool) -> list[ReconcileRow]:
    return reconcile_records(get_settings(), dry_run=dry_run)


@flow(name="reconcile", log_prints=True, validate_parameters=True)
def reconcile(dry_run: bool = False) -> dict[str, Any]:
    logger = get_run_logger()
    rows = recount(dry_run)
    drifted = [r for r in rows if r.action != "ok"]
    for r in drifted:
        logger.warning("%s %s: recorded %s rows (%s), found %s -> %s%s", r.game_date, r.phase, r.recorded_count,
                       r.recorded_status, r.actual_count, r.action, " (dry run)" if dry_run else "")
    logger.info("%d completion records checked, %d drifted", len(rows), len(drifted))
    return {"checked": len(rows), "drifted": [{**asdict(r), "game_date": r.game_date.isoformat()} for r in drifted]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Prefect reconcile flow once (ephemeral mode).")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    state = reconcile(dry_run=args.dry_run, return_state=True)
    print(f"reconcile flow: {state.type.value} {state.message or ''}")
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
