"""Prefect 3 ``daily`` flow: the same ``python_jobs.pipeline.run_day`` as ``nba-props run-day``,
with each step (land, gate, phase2 ... monitoring) run as a Prefect task.

Run it once, locally, with no server (ephemeral mode)::

    uv run python -m flows.daily --date 2025-03-19

or schedule it (``prefect.yaml``: every morning at 10:00 America/New_York). Retries: Prefect
retries a step only when it raised ``TransientError`` (backoff from ``config/ops.yml``); a
``PermanentError`` fails the flow at once with the reason. A failing coverage SLO fails the flow
run after everything was written (``SLOFailed``), like the CLI's exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows._prefect_env import configure_prefect

configure_prefect()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.client.schemas.objects import TaskRun  # noqa: E402
from prefect.states import State  # noqa: E402

from python_jobs.config import Settings, get_settings  # noqa: E402
from python_jobs.errors import TransientError  # noqa: E402
from python_jobs.ops.config import OpsConfig  # noqa: E402
from python_jobs.pipeline import (  # noqa: E402
    RunContext,
    RunResult,
    SLOFailed,
    Step,
    StepOutcome,
    execute_step,
    run_day,
)


def _exception_of(state: State) -> BaseException | None:
    data = state.data
    if isinstance(data, BaseException):
        return data
    result = state.result(raise_on_failure=False)
    return result if isinstance(result, BaseException) else None


def only_transient(task_: Any, task_run: TaskRun, state: State) -> bool:  # noqa: ARG001
    """Prefect ``retry_condition_fn``: retry TransientError only (PermanentError stops at once)."""
    return isinstance(_exception_of(state), TransientError)


def prefect_step_runner(step: Step, ctx: RunContext) -> StepOutcome:
    """run_day step runner: one Prefect task per step, retried only on TransientError."""
    delays = ctx.cfg.retries.delays()
    step_task = task(
        execute_step,
        name=step.name,
        task_run_name=f"{step.name} {ctx.game_date.isoformat()}",
        retries=len(delays),
        retry_delay_seconds=delays or 0,
        retry_condition_fn=only_transient,
        cache_policy=NO_CACHE,
        persist_result=False,
    )
    return step_task(step, ctx)


def eastern_today(settings: Settings) -> date:
    return settings.utcnow().astimezone(ZoneInfo("America/New_York")).date()


def summarise(result: RunResult) -> dict[str, Any]:
    return {
        "run_id": result.run_id, "correlation_id": result.correlation_id,
        "game_date": result.game_date.isoformat(), "status": result.status, "exit_code": result.exit_code,
        "previous_run_id": result.previous_run_id,
        "steps": [{"step": s.name, "status": s.status, "seconds": round(s.seconds, 2), "rows_out": s.rows_out}
                  for s in result.steps],
        "alerts": [f"{a.alert_type} ({a.severity}) {a.subject}: {a.message}" for a in result.alerts],
        "slo_failures": list(result.slo_failures),
    }


def run_daily(settings: Settings, game_date: date, *, force: bool = False, wait_minutes: float | None = None,
              steps: list[Step] | None = None, cfg: OpsConfig | None = None, flow_name: str = "daily") -> RunResult:
    """Body of the daily flow (call it inside a Prefect flow run): run_day with Prefect tasks."""
    logger = get_run_logger()
    result = run_day(settings, game_date, flow=flow_name, force=force, wait_minutes=wait_minutes,
                     steps=steps, cfg=cfg, step_runner=prefect_step_runner)
    summary = summarise(result)
    if result.status == "noop":
        logger.info("%s: a run with the same inputs already finished (run %s): no-op", game_date,
                    result.previous_run_id)
    for step in summary["steps"]:
        logger.info("step %-10s %-8s %7.1f s rows_out=%s", step["step"], step["status"], step["seconds"],
                    step["rows_out"])
    for alert in summary["alerts"]:
        logger.warning("ALERT %s", alert)
    if result.status == "slo_failed":
        raise SLOFailed("; ".join(result.slo_failures))
    return result


@flow(name="daily", log_prints=True, validate_parameters=True)
def daily(game_date: str | None = None, force: bool = False, wait_minutes: float | None = None) -> dict[str, Any]:
    """The morning run for one game date (default: today, US/Eastern)."""
    settings = get_settings()
    day = date.fromisoformat(game_date) if game_date else eastern_today(settings)
    return summarise(run_daily(settings, day, force=force, wait_minutes=wait_minutes))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Prefect daily flow once (ephemeral mode).")
    parser.add_argument("--date", dest="game_date", default=None, help="game date YYYY-MM-DD (default: today ET)")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--wait-minutes", type=float, default=None)
    args = parser.parse_args(argv)
    state = daily(game_date=args.game_date, force=args.force, wait_minutes=args.wait_minutes, return_state=True)
    print(f"{datetime.now(UTC):%H:%M:%S} daily flow: {state.type.value} {state.message or ''}")
    return exit_code(state)


def exit_code(state: State) -> int:
    """Like ``nba-props run-day``: 0 ok/no-op, 1 failed, 2 SLO failed, 3 the date is locked."""
    if state.is_completed():
        return 0
    from python_jobs.ops.guard import WarehouseBusy
    from python_jobs.ops.locks import LockHeld
    from python_jobs.pipeline import PipelineFailed

    exc = _exception_of(state)
    if isinstance(exc, SLOFailed):
        return 2
    if isinstance(exc, LockHeld | WarehouseBusy):
        return 3
    if isinstance(exc, PipelineFailed):
        return exc.result.exit_code
    return 1


if __name__ == "__main__":
    sys.exit(main())
