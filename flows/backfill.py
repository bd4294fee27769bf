"""Prefect 3 ``backfill`` flow: the daily pipeline over a date range, resumable.

Dates whose every phase has a 'complete' completion record are skipped, so rerunning after a crash
continues where it stopped (``reconcile`` marks a date incomplete again when its rows drifted).
Each date runs ``run_day`` (flow name 'backfill') with one Prefect task per step; a rich progress
bar shows the dates in the terminal. ::

    uv run python -m flows.backfill --start 2025-03-01 --end 2025-03-20
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from flows._prefect_env import configure_prefect

configure_prefect()

from prefect import flow, get_run_logger  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from flows.daily import prefect_step_runner  # noqa: E402
from python_jobs.config import get_settings  # noqa: E402
from python_jobs.pipeline import backfill as backfill_days  # noqa: E402
from python_jobs.pipeline import backfill_dates  # noqa: E402


@flow(name="backfill", log_prints=True, validate_parameters=True)
def backfill(start: str, end: str, force: bool = False, stop_on_error: bool = False) -> dict[str, Any]:
    """Run the daily pipeline for every game date in [start, end]; complete dates are skipped."""
    logger = get_run_logger()
    settings = get_settings()
    d0, d1 = date.fromisoformat(start), date.fromisoformat(end)
    dates = backfill_dates(settings, d0, d1)
    logger.info("backfill %s..%s: %d game dates", d0, d1, len(dates))
    with Progress(TextColumn("[bold]backfill"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=Console(stderr=True)) as progress:
        bar = progress.add_task("", total=len(dates))

        def on_date(d: date, status: str) -> None:
            progress.update(bar, advance=1, description=f"{d} {status}")
            logger.info("%s: %s", d, status)

        report = backfill_days(settings, d0, d1, force=force, on_date=on_date, stop_on_error=stop_on_error,
                               step_runner=prefect_step_runner)
    summary = {"done": [d.isoformat() for d in report.done], "skipped": [d.isoformat() for d in report.skipped],
               "slo_failed": [d.isoformat() for d in report.slo_failed],
               "failed": {d.isoformat(): msg for d, msg in report.failed.items()}, "exit_code": report.exit_code}
    if report.failed:
        raise RuntimeError(f"backfill failed for {len(report.failed)} date(s): "
                           + "; ".join(f"{d}: {m}" for d, m in summary["failed"].items()))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Prefect backfill flow once (ephemeral mode).")
    parser.add_argument("--start", required=True)
    parser.add_argument("--end", required=True)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    state = backfill(start=args.start, end=args.end, force=args.force, return_state=True)
    print(f"backfill flow: {state.type.value} {state.message or ''}")
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
