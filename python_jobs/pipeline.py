"""The daily pipeline for one game date, without Prefect: ``run_day(settings, game_date)``.

Order (each step only when the previous one passed; the table is ``default_steps()``):

    land (Phase 1, tiered source wait) -> gate (dbt source freshness + source tests)
    -> phase2 -> phase3 -> phase4 -> train (only if no model) -> score -> phase5 -> phase6
    -> export -> gx_checkpoint (Great Expectations) -> monitoring (alerts, coverage SLO)

Around the steps: a per-date lock (``ops.locks``), an idempotency key (a repeat of a finished run
with the same inputs is a no-op), one ``raw.pipeline_execution_log`` row per step (dbt adds one per
node through its on-run-end hook), ``raw.phase_completions`` per phase, retries with backoff only for
``TransientError``, a timeout per step, and a progress file that ``nba-props status`` reads while the
warehouse is busy. The Prefect flows (``flows/``) call this same function with a step runner that
turns each step into a Prefect task.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from python_jobs.config import Settings
from python_jobs.dbt_runner import run_dbt
from python_jobs.errors import PermanentError, PicklableError, TransientError
from python_jobs.ops import locks, records
from python_jobs.ops.clock import Clock, FakeClock, SystemClock
from python_jobs.ops.config import OpsConfig, ops_config
from python_jobs.ops.counts import PHASE_OUTPUTS, count_phase
from python_jobs.ops.guard import WarehouseBusy, kept_connection, short_write, warehouse_guard
from python_jobs.ops.records import Alert
from python_jobs.ops.status import progress_is_live
from python_jobs.ops.waits import wait_alerts, wait_for_sources, wait_rows
from python_jobs.runtime import batch_gc
from python_jobs.warehouse.partitions import landed_since

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- errors
class PhaseTimeout(PermanentError):
    """A step ran longer than its timeout in config/ops.yml."""


class SourcesMissing(PermanentError):
    """The tiered source wait gave up (too few Phase 1 sources arrived)."""


class StepUnavailable(PermanentError):
    """The module implementing a step is not installed in this tree."""


class PipelineFailed(PicklableError, RuntimeError):
    """A step failed; ``result`` holds what ran (``result.exit_code`` the CLI's exit code),
    ``__cause__`` the step's error."""

    def __init__(self, result: RunResult, step: str, error: BaseException):
        self.result = result
        self.step = step
        if result.status == "lost_lock":
            text = f"run {result.run_id} for {result.game_date} lost its lock at step {step} and stopped before its next write: {error}"
        else:
            text = f"run {result.run_id} for {result.game_date} failed at step {step}: {type(error).__name__}: {error}"
        super().__init__(text)


class SLOFailed(RuntimeError):
    """The run finished but a service level objective (prediction coverage) failed."""


# --------------------------------------------------------------------------- context
@dataclass
class StepOutcome:
    rows_in: int | None = None
    rows_out: int | None = None
    detail: str = ""


@dataclass
class RunContext:
    settings: Settings
    game_date: date
    run_id: str
    correlation_id: str
    flow: str
    cfg: OpsConfig
    clock: Clock
    holder_id: str
    lock_key: str
    alerts: list[Alert] = field(default_factory=list)
    slo_failures: list[str] = field(default_factory=list)
    stale_sources: list[str] = field(default_factory=list)   # freshness 'warn' at the gate
    started_at: datetime | None = None
    lock_expires_at: datetime | None = None   # of our run lock, as last acquired/refreshed

    def dbt_vars(self, phase: str | None = None) -> dict[str, Any]:  # noqa: ARG002
        """The same vars for every dbt invocation of the run: dbt re-parses the whole project
        (~10 s) whenever --vars change, so the phase is NOT a var (the on-run-end hook takes it from
        the node's tags)."""
        return {"run_date": self.game_date.isoformat(), "correlation_id": self.correlation_id,
                "pipeline_run_id": self.run_id, "pipeline_flow": self.flow,
                "coverage_slo": self.cfg.coverage_slo, "stale_sources": list(self.stale_sources),
                "late_alert_minutes": self.cfg.source_wait.late_alert_minutes}


@dataclass(frozen=True)
class Step:
    name: str
    phase: str                      # used in the log and for the timeout
    func: Callable[[RunContext], StepOutcome]
    records_completion: bool = False
    # False: the step takes the writer guard itself, only around each of its writes (the land step
    # sleeps between source probes and must not block every other writer meanwhile)
    guarded: bool = True


@dataclass
class StepReport:
    name: str
    status: str
    seconds: float
    attempts: int
    rows_out: int | None
    error: str | None = None


@dataclass
class RunResult:
    run_id: str
    correlation_id: str
    game_date: date
    flow: str
    # 'succeeded' | 'slo_failed' | 'failed' | 'noop' | 'lost_lock' (the run lock was taken over:
    # stopped before its next write) | 'busy' (the writer guard stayed held by another process)
    status: str
    steps: list[StepReport] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    slo_failures: list[str] = field(default_factory=list)
    previous_run_id: str | None = None
    lock_note: str | None = None    # set when the final release found the lock no longer ours

    @property
    def exit_code(self) -> int:
        """0 ok/no-op, 1 failed, 2 SLO failed, 3 lock/warehouse held elsewhere (lost_lock, busy)."""
        return EXIT_CODES.get(self.status, 1)


EXIT_CODES = {"succeeded": 0, "noop": 0, "slo_failed": 2, "lost_lock": 3, "busy": 3}


# --------------------------------------------------------------------------- helpers
def _optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise StepUnavailable(f"{name} is not available in this tree") from exc
        raise


def _call(func: Callable, *args: Any, **maybe: Any) -> Any:
    """Call ``func`` passing the optional keyword arguments it accepts (e.g. correlation_id)."""
    params = inspect.signature(func).parameters
    accepted = {k: v for k, v in maybe.items() if k in params}
    return func(*args, **accepted)


def _rows(report: Any, *names: str) -> int | None:
    """The first of ``names`` the report has as an int (a dict of ints counts as its sum)."""
    for n in names:
        value = getattr(report, n, None)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, dict) and value and all(isinstance(v, int) for v in value.values()):
            return sum(value.values())
    return None


@contextlib.contextmanager
def _deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise ``PhaseTimeout`` in the main thread after ``seconds`` (SIGALRM); elsewhere the step is
    checked after it returns. dbt in-process catches exceptions into its result, so the flag is what
    decides that the step timed out."""
    fired = {"value": False}
    started = time.monotonic()
    use_signal = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if use_signal:
        def _handler(signum, frame):  # noqa: ARG001
            fired["value"] = True
            raise PhaseTimeout(f"{what} exceeded its timeout of {seconds:.0f} s")

        previous = signal.signal(signal.SIGALRM, _handler)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except PhaseTimeout:
        raise
    except BaseException as exc:
        if fired["value"]:
            raise PhaseTimeout(f"{what} exceeded its timeout of {seconds:.0f} s") from exc
        raise
    finally:
        if use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if fired["value"] or time.monotonic() - started > seconds:
        raise PhaseTimeout(f"{what} exceeded its timeout of {seconds:.0f} s")


def progress_path(settings: Settings, game_date: date) -> Path:
    return settings.warehouse_dir / "ops" / "progress" / f"{game_date.isoformat()}.json"


def _write_progress(ctx: RunContext, step: str | None, state: str) -> None:
    path = progress_path(ctx.settings, ctx.game_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({
        "run_id": ctx.run_id, "correlation_id": ctx.correlation_id, "flow": ctx.flow,
        "game_date": ctx.game_date.isoformat(), "holder_id": ctx.holder_id, "pid": os.getpid(),
        "step": step, "state": state, "updated_at": ctx.clock.now().isoformat(),
        "started_at": (ctx.started_at or ctx.clock.now()).isoformat(),
        "lock_expires_at": ctx.lock_expires_at.isoformat() if ctx.lock_expires_at else None,
    }))
    tmp.replace(path)


def _running_elsewhere(settings: Settings, game_date: date, now: datetime) -> dict | None:
    """The progress file of a live run of this date in another process on this host, if any."""
    path = progress_path(settings, game_date)
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    if info.get("pid") == os.getpid() or not progress_is_live(info, now):
        return None
    return info


def _wait_for_running_run(settings: Settings, game_date: date, lock_key: str, wait: timedelta,
                          cfg: OpsConfig, clock: Clock) -> None:
    """Fast path in front of the warehouse lock: while another process runs this date it may hold
    the DuckDB file for a whole dbt phase, so the lock row cannot even be read. Its progress file
    says so at once: refuse (wait 0) or poll it until ``wait`` has passed. The warehouse lock stays
    authoritative (other hosts, expiry, takeover)."""
    started = clock.now()
    while (info := _running_elsewhere(settings, game_date, clock.now())) is not None:
        waited = clock.now() - started
        if waited >= wait:
            since = datetime.fromisoformat(info["started_at"])
            raise locks.LockHeld(locks.LockInfo(lock_key, info["holder_id"], since,
                                                since + timedelta(minutes=cfg.lock.ttl_minutes), None, None),
                                 waited)
        clock.sleep(cfg.lock.poll_seconds)


def fence(ctx: RunContext) -> None:
    """The write fence: refresh the run lock, or raise ``locks.LockLost`` when another run took it
    over (it had expired). Called under the writer guard right before each write, so on DuckDB no
    other run can take the lock between the check and the write."""
    info = locks.refresh(ctx.settings, ctx.lock_key, ctx.holder_id, timedelta(minutes=ctx.cfg.lock.ttl_minutes),
                         ctx.clock)
    ctx.lock_expires_at = info.expires_at


@contextlib.contextmanager
def guarded_write(ctx: RunContext, timeout: float | None = None, *, keep_open: bool = False) -> Iterator[None]:
    """The writer guard, then the fence: the only way a step of a run writes the warehouse.
    ``keep_open``: the block only writes through ``short_write`` (no dbt): one open of the file for
    the fence and all of them (``guard.kept_connection``)."""
    with warehouse_guard(ctx.settings, timeout=timeout), \
            (kept_connection(ctx.settings, timeout=timeout) if keep_open else contextlib.nullcontext()):
        fence(ctx)
        yield


def _count(ctx: RunContext, phase: str) -> int | None:
    with short_write(ctx.settings) as con:
        return count_phase(con, phase, ctx.game_date)


# --------------------------------------------------------------------------- source probes
def source_probe_sql() -> dict[str, tuple[str, Callable[[date], list[Any]]]]:
    """Readiness of each Phase 1 source for game date D, from the raw tables (allowlisted SQL)."""
    et_date = "cast(timezone('America/New_York', {col}) as date)"
    # every probe reads only the partitions a row about its date can be in (scraped_at >= ?)
    since = landed_since
    return {
        # yesterday's results landed, or no game was scheduled yesterday
        "nba_box_scores": (
            "select (select count(*) from raw.nba_player_game_logs where scraped_at >= ? and game_date = ?) > 0"
            " or ((select count(*) from raw.nba_schedule_games where scraped_at >= ? and game_date = ?) = 0"
            "     and (select count(*) from raw.nba_schedule_games where scraped_at >= ? and game_date = ?) > 0)",
            lambda d: [since(d - timedelta(days=1)), d - timedelta(days=1), since(d - timedelta(days=1)),
                       d - timedelta(days=1), since(d), d],
        ),
        "nba_scoreboard": ("select count(*) > 0 from raw.nba_schedule_games where scraped_at >= ? and game_date = ?",
                           lambda d: [since(d), d]),
        # the season's players list (landed within the landing lead of D)
        "nba_players": ("select count(*) > 0 from raw.nba_players where scraped_at >= ?", lambda d: [since(d)]),
        # the events list of D was landed (scraped_at is the wall-clock fetch time, not D)
        "odds_events": (
            "select count(*) > 0 from raw.landed_payloads where scraped_at >= ? and source = 'odds_api'"
            " and endpoint = 'events' and json_extract_string(params_json, '$.date') = ?",
            lambda d: [since(d), d.isoformat()],
        ),
        "odds_player_props": (
            "select count(*) > 0 from raw.odds_player_props where scraped_at >= ? and "
            + et_date.format(col="coalesce(commence_time, captured_at)") + " = ?",
            lambda d: [since(d), d],
        ),
    }


def ready_sources(settings: Settings, game_date: date, names: list[str]) -> list[str]:
    probes = source_probe_sql()
    ready = []
    with short_write(settings) as con:
        for name in names:
            sql, params = probes[name]
            if con.fetchone(sql, params(game_date))[0]:
                ready.append(name)
    return ready


# --------------------------------------------------------------------------- steps
def replay_morning(game_date: date) -> datetime:
    """The time the replayed morning run happens (the replay transport's snapshot time)."""
    from python_jobs.scrapers.replay import SNAPSHOT_HOUR_UTC

    return datetime.combine(game_date, datetime.min.time(), UTC).replace(hour=SNAPSHOT_HOUR_UTC)


def step_land(ctx: RunContext) -> StepOutcome:
    ingest = _optional_module("python_jobs.ingest")
    with guarded_write(ctx):
        report = _call(ingest.land_day, ctx.settings, ctx.game_date, correlation_id=ctx.correlation_id)
    names = list(ctx.cfg.sources)
    live = ctx.settings.transport == "live"
    first = {"value": True}

    def probe() -> list[str]:
        # the guard only for each probe (and re-land): never while the wait sleeps
        with guarded_write(ctx):
            if live and not first["value"]:
                _call(ingest.land_day, ctx.settings, ctx.game_date, correlation_id=ctx.correlation_id)
            first["value"] = False
            return ready_sources(ctx.settings, ctx.game_date, names)

    # replayed data cannot arrive later: simulate the wait on a virtual clock (no real sleeping)
    # that starts at the replayed morning run (D 15:00 UTC, the replay snapshot time)
    clock = ctx.clock if live else FakeClock(replay_morning(ctx.game_date))
    outcome = wait_for_sources(ctx.cfg, probe, clock)
    with guarded_write(ctx):
        records.record_source_waits(ctx.settings, wait_rows(ctx.cfg, ctx.game_date, outcome, run_id=ctx.run_id,
                                                            correlation_id=ctx.correlation_id))
    ctx.alerts.extend(wait_alerts(ctx.cfg, ctx.game_date, outcome))
    if not outcome.proceed:
        raise SourcesMissing(f"gave up waiting for sources after {outcome.waited}; missing: {', '.join(outcome.missing)}")
    return StepOutcome(rows_out=_rows(report, "n_records_valid", "records_valid", "n_records"),
                       detail=f"tier {outcome.tier}; missing: {', '.join(outcome.missing) or 'none'}")


class GateFailed(PermanentError):
    """A source is past its freshness ``error_after`` (or its check could not run)."""


def step_gate(ctx: RunContext) -> StepOutcome:
    """`dbt source freshness` then the sources' tests: Phase 2 starts only when both pass.

    A source past ``error_after`` fails the gate; one past ``warn_after`` only is passed on to the
    later phases in the ``stale_sources`` var (its upcoming feature rows are flagged stale)."""
    vars_ = ctx.dbt_vars("gate")
    # the selector `gate` (selectors.yml) names the Phase 1 sources; `phase2` excludes their tests
    fresh = run_dbt(["source", "freshness", "--selector", "gate"], ctx.settings, vars=vars_, check=False)
    by_status: dict[str, list[str]] = {}
    for res in fresh.results:
        node = getattr(res, "node", None)
        name = f"{getattr(node, 'source_name', '?')}.{getattr(node, 'name', '?')}"
        by_status.setdefault(str(getattr(res, "status", "")).lower(), []).append(name)
    bad = sorted(by_status.get("error", []) + by_status.get("runtime error", []))
    if bad or (not fresh.success and not fresh.results):
        raise GateFailed(f"source freshness failed for {', '.join(bad) or 'dbt itself'}: "
                         "Phase 2 does not start on stale sources")
    ctx.stale_sources = sorted(by_status.get("warn", []))
    tests = run_dbt(["test", "--selector", "gate"], ctx.settings, vars=ctx.dbt_vars("gate"))
    return StepOutcome(rows_out=len(fresh.results) + len(tests.results),
                       detail=f"{len(fresh.results)} freshness checks (stale: "
                              f"{', '.join(ctx.stale_sources) or 'none'}), {len(tests.results)} source tests")


# dbt unit tests check the SQL logic on fixed fixture rows, not the day's data: they run in CI and in
# a developer's `dbt build`, not in the daily run (dbt's advice for production builds)
DAILY_BUILD_FLAGS = ("--exclude-resource-type", "unit_test")


def dbt_phase(selector: str) -> Callable[[RunContext], StepOutcome]:
    def step(ctx: RunContext) -> StepOutcome:
        # buildable: a test spanning two phases runs in the later one (when all its parents exist)
        outcome = run_dbt(["build", "--selector", selector, "--indirect-selection", "buildable", *DAILY_BUILD_FLAGS],
                          ctx.settings, vars=ctx.dbt_vars(selector))
        return StepOutcome(rows_out=_count(ctx, selector) if selector in PHASE_OUTPUTS else None,
                           detail=f"{len(outcome.results)} dbt nodes")
    step.__name__ = f"dbt_{selector}"
    return step


def _has_current_models(settings: Settings) -> bool:
    """True when the model registry has a current version of every registered system."""
    index_path = settings.models_dir / "registry.json"
    if not index_path.exists():
        return False
    systems = json.loads(index_path.read_text()).get("systems", {})
    return bool(systems) and all(entry.get("current") for entry in systems.values())


def step_train(ctx: RunContext) -> StepOutcome:
    """Train only when no model is registered (a first run); the cutoff is the game date, so a
    replayed date never trains on its own or later results."""
    if _has_current_models(ctx.settings):
        return StepOutcome(detail="model present: no training")
    training = _optional_module("python_jobs.ml.training")
    report = _call(training.train, ctx.settings, cutoff=ctx.game_date, correlation_id=ctx.correlation_id)
    models = getattr(report, "models", {}) or {}
    return StepOutcome(rows_out=len(models), detail="trained " + ", ".join(
        f"{sid} {m.get('version')}" for sid, m in models.items()))


def step_score(ctx: RunContext) -> StepOutcome:
    """Score the date into raw.prediction_scores; the phase5 step consolidates it with dbt."""
    scoring = _optional_module("python_jobs.ml.scoring")
    report = _call(scoring.score_date, ctx.settings, ctx.game_date, correlation_id=ctx.correlation_id,
                   build=False)
    return StepOutcome(rows_in=getattr(report, "n_feature_rows", None),
                       rows_out=_rows(report, "n_scored", "rows_out", "n_predictions"))


def step_export(ctx: RunContext) -> StepOutcome:
    export = _optional_module("python_jobs.ml.export")
    report = _call(export.export_date, ctx.settings, ctx.game_date, correlation_id=ctx.correlation_id)
    return StepOutcome(rows_out=_rows(report, "rows", "n_rows", "rows_out"),
                       detail=str(getattr(report, "directory", "")))


def step_monitoring(ctx: RunContext) -> StepOutcome:
    from python_jobs.ops import monitor

    run_dbt(["build", "--selector", "monitoring", *DAILY_BUILD_FLAGS], ctx.settings, vars=ctx.dbt_vars("monitoring"))
    with short_write(ctx.settings) as con:
        found = monitor.collect(con, ctx.game_date, ctx.cfg)
    ctx.alerts.extend(found.alerts)
    ctx.slo_failures.extend(found.slo_failures)
    return StepOutcome(rows_out=len(found.alerts), detail=found.summary)


def step_gx_checkpoint(ctx: RunContext) -> StepOutcome:
    """Great Expectations checkpoint over the day's landed batches and key marts (read only; Data
    Docs beside the report). A failing expectation does not stop the run (everything is already
    written): it raises a ``gx_checkpoint`` alert (error) and fails the data-quality objective, so the
    run ends ``slo_failed`` (exit code 2), like the coverage SLO. GX is imported only here."""
    from python_jobs.validation import gx_checkpoint

    with short_write(ctx.settings) as con:
        report = gx_checkpoint.run_checkpoint(ctx.settings, con, ctx.game_date)
    if not report.success:
        msg = f"GX checkpoint failed: {report.summary()} (Data Docs: {report.docs_index})"
        ctx.alerts.append(Alert("gx_checkpoint", "error", "great_expectations", msg, ctx.game_date))
        ctx.slo_failures.append(msg)
    return StepOutcome(rows_out=report.n_failed, detail=report.summary())


def default_steps() -> list[Step]:
    return [
        Step("land", "phase1", step_land, records_completion=True, guarded=False),
        Step("gate", "gate", step_gate),
        Step("phase2", "phase2", dbt_phase("phase2"), records_completion=True),
        Step("phase3", "phase3", dbt_phase("phase3"), records_completion=True),
        Step("phase4", "phase4", dbt_phase("phase4"), records_completion=True),
        Step("train", "train", step_train),
        Step("score", "score", step_score),
        Step("phase5", "phase5", dbt_phase("phase5"), records_completion=True),
        Step("phase6", "phase6", dbt_phase("phase6"), records_completion=True),
        Step("export", "export", step_export),
        Step("gx_checkpoint", "gx_checkpoint", step_gx_checkpoint),
        Step("monitoring", "monitoring", step_monitoring),
    ]


# --------------------------------------------------------------------------- step execution
def execute_step(step: Step, ctx: RunContext) -> StepOutcome:
    """Run one step once: write fence (lock refresh under the writer guard), timeout, log row,
    completion record. A lost lock (``locks.LockLost``) stops the run before its next write: before
    the step, and again before the step's log row and completion record."""
    settings = ctx.settings
    timeout = ctx.cfg.timeout(step.phase).total_seconds()
    started = ctx.clock.now()
    try:
        with _deadline(timeout, f"step {step.name}"):
            # dbt and the Python steps write the DuckDB file: one writer process at a time
            with guarded_write(ctx, timeout=timeout):
                _write_progress(ctx, step.name, "running")
                if step.guarded:
                    outcome = step.func(ctx)
            if not step.guarded:
                outcome = step.func(ctx)
    except locks.LockLost:
        raise   # not ours to log: the date belongs to another run now
    except BaseException as exc:
        records.log_step(settings, run_id=ctx.run_id, correlation_id=ctx.correlation_id, flow=ctx.flow,
                         game_date=ctx.game_date, phase=step.phase, node=step.name, node_type="step",
                         started_at=started, finished_at=ctx.clock.now(), status="error", error=exc,
                         logged_at=ctx.clock.now())
        raise
    finished = ctx.clock.now()
    with guarded_write(ctx, keep_open=True):
        _record_success(step, ctx, outcome, started, finished)
    log.info("step %s done in %.1f s (%s)", step.name, (finished - started).total_seconds(), outcome.detail)
    return outcome


def _record_success(step: Step, ctx: RunContext, outcome: StepOutcome, started: datetime,
                    finished: datetime) -> None:
    settings = ctx.settings
    records.log_step(settings, run_id=ctx.run_id, correlation_id=ctx.correlation_id, flow=ctx.flow,
                     game_date=ctx.game_date, phase=step.phase, node=step.name, node_type="step",
                     started_at=started, finished_at=finished, status="success", rows_in=outcome.rows_in,
                     rows_out=outcome.rows_out, logged_at=finished)
    if step.records_completion:
        records.record_completion(settings, game_date=ctx.game_date, phase=step.phase, run_id=ctx.run_id,
                                  correlation_id=ctx.correlation_id, status="complete",
                                  row_count=outcome.rows_out if step.phase != "phase1" else _count(ctx, "phase1"),
                                  recorded_by="run_day", recorded_at=finished, note=outcome.detail or None)


StepRunner = Callable[[Step, RunContext], StepOutcome]


def run_with_retries(step: Step, ctx: RunContext) -> StepOutcome:
    """Default runner: retries only ``TransientError``, with exponential backoff from the config."""
    delays = ctx.cfg.retries.delays()
    attempt = 0
    while True:
        try:
            return execute_step(step, ctx)
        except TransientError as exc:
            if attempt >= len(delays):
                raise
            log.warning("step %s: transient error (%s); retry %d in %.0f s", step.name, exc, attempt + 1,
                        delays[attempt])
            ctx.clock.sleep(delays[attempt])
            attempt += 1


# --------------------------------------------------------------------------- the run
def run_day(settings: Settings, game_date: date, *, flow: str = "daily", force: bool = False,
            wait_minutes: float | None = None, clock: Clock | None = None,
            steps: list[Step] | None = None, step_runner: StepRunner | None = None,
            cfg: OpsConfig | None = None) -> RunResult:
    """Run the daily pipeline for ``game_date``. Raises ``locks.LockHeld`` when another run holds
    the date, ``PipelineFailed`` when a step fails; returns the result otherwise (``status``
    'slo_failed' when the coverage SLO failed, 'noop' when the same run already finished).
    The garbage collector runs with the batch thresholds meanwhile (``runtime.batch_gc``)."""
    with batch_gc():
        return _run_day(settings, game_date, flow=flow, force=force, wait_minutes=wait_minutes, clock=clock,
                        steps=steps, step_runner=step_runner, cfg=cfg)


def _run_day(settings: Settings, game_date: date, *, flow: str, force: bool, wait_minutes: float | None,
             clock: Clock | None, steps: list[Step] | None, step_runner: StepRunner | None,
             cfg: OpsConfig | None) -> RunResult:
    cfg = cfg or ops_config()
    clock = clock or SystemClock()
    steps = steps if steps is not None else default_steps()
    runner = step_runner or run_with_retries
    run_id = records.new_id()
    correlation_id = f"{flow}-{game_date:%Y%m%d}-{run_id[:12]}"
    holder_id = locks.new_holder_id()
    lock_key = locks.date_lock_key(game_date)
    inputs = records.inputs_hash(settings, {"steps": [s.name for s in steps]})
    key = records.idempotency_key(flow, game_date, inputs)
    wait = timedelta(minutes=cfg.lock.wait_minutes if wait_minutes is None else wait_minutes)

    _wait_for_running_run(settings, game_date, lock_key, wait, cfg, clock)
    info = locks.acquire(settings, lock_key, holder_id, timedelta(minutes=cfg.lock.ttl_minutes), wait=wait,
                         poll_seconds=cfg.lock.poll_seconds, clock=clock)
    ctx = RunContext(settings, game_date, run_id, correlation_id, flow, cfg, clock, holder_id, lock_key)
    ctx.started_at = clock.now()
    ctx.lock_expires_at = info.expires_at
    result = RunResult(run_id, correlation_id, game_date, flow, "running")
    try:
        with kept_connection(settings):   # the ledger's statements: one open of the file
            # we hold the date's lock: any run of it still 'running' in the ledger is dead or lost its lock
            n_abandoned = records.abandon_runs(settings, game_date, found_by=run_id, at=clock.now())
            previous = None if force else records.finished_run(settings, key)
            if previous is None:
                records.start_run(settings, run_id=run_id, key=key, flow=flow, game_date=game_date,
                                  inputs=inputs, correlation_id=correlation_id, holder_id=holder_id,
                                  started_at=clock.now())
        if n_abandoned:
            log.warning("%s: %d earlier run(s) of this date left 'running' are recorded as abandoned",
                        game_date, n_abandoned)
        if previous is not None:
            result.status = "noop"
            result.previous_run_id = previous.run_id
            log.info("run for %s with the same inputs already finished (run %s): nothing to do",
                     game_date, previous.run_id)
            return result
        _write_progress(ctx, None, "running")
        for step in steps:
            t0 = time.monotonic()
            try:
                outcome = runner(step, ctx)
            except BaseException as exc:
                result.status = ("lost_lock" if isinstance(exc, locks.LockLost)
                                 else "busy" if isinstance(exc, WarehouseBusy) else "failed")
                result.steps.append(StepReport(step.name, "error" if result.status == "failed" else result.status,
                                               time.monotonic() - t0, 1, None, f"{type(exc).__name__}: {exc}"))
                result.alerts = list(ctx.alerts)
                _close(ctx, result, error=exc)
                if isinstance(exc, Exception):
                    raise PipelineFailed(result, step.name, exc) from exc
                raise
            result.steps.append(StepReport(step.name, "success", time.monotonic() - t0, 1, outcome.rows_out))
        result.alerts = list(ctx.alerts)
        result.slo_failures = list(ctx.slo_failures)
        result.status = "slo_failed" if ctx.slo_failures else "succeeded"
        _close(ctx, result)
        return result
    finally:
        _release(ctx, result)


def _release(ctx: RunContext, result: RunResult) -> None:
    """Release the run lock. A lock already taken over is reported (``result.lock_note``, a warning),
    never raised: it would hide the run's own outcome behind a traceback."""
    if result.status == "lost_lock":
        return   # the lock is the new holder's: nothing of ours to release (already reported)
    try:
        locks.release(ctx.settings, ctx.lock_key, ctx.holder_id, ctx.clock)
    except locks.NotLockHolder as exc:
        result.lock_note = f"lock not released: {exc}"
        log.warning("run %s: %s", ctx.run_id, result.lock_note)


def _close(ctx: RunContext, result: RunResult, error: BaseException | None = None) -> None:
    """Write the alerts, close the run ledger row and the progress file. A run that lost its lock
    only closes its own ledger row: no alerts, and the progress file now belongs to the new holder."""
    now = ctx.clock.now()
    with kept_connection(ctx.settings):
        if result.status != "lost_lock":
            records.raise_alerts(ctx.settings, ctx.alerts, run_id=ctx.run_id, correlation_id=ctx.correlation_id,
                                 raised_at=now)
        records.finish_run(ctx.settings, ctx.run_id, status=result.status, finished_at=now, error=error)
    if result.status != "lost_lock":
        _write_progress(ctx, None, result.status)


# --------------------------------------------------------------------------- backfill
@dataclass
class BackfillReport:
    done: list[date] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)
    failed: dict[date, str] = field(default_factory=dict)
    slo_failed: list[date] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else (2 if self.slo_failed else 0)


def backfill_dates(settings: Settings, start: date, end: date) -> list[date]:
    """Game dates in [start, end]: the dates with scheduled games when the schedule is landed,
    else every date."""
    with short_write(settings) as con:
        scheduled = [r[0] for r in con.fetchall(
            "select distinct game_date from raw.nba_schedule_games where scraped_at >= ? "
            "and game_date between ? and ? order by 1", [landed_since(start), start, end])]
    if scheduled:
        return scheduled
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def backfill(settings: Settings, start: date, end: date, *, force: bool = False,
             run: Callable[..., RunResult] | None = None,
             on_date: Callable[[date, str], None] | None = None, stop_on_error: bool = False,
             **run_kwargs: Any) -> BackfillReport:
    """Run ``run_day`` for every game date in [start, end], skipping dates whose phases are all
    recorded complete (resumable: rerunning after a crash continues where it stopped)."""
    from python_jobs.ops.counts import PHASES
    from python_jobs.ops.reconcile import date_is_complete

    run = run or run_day
    dates = backfill_dates(settings, start, end)
    latest = records.latest_completions(settings, dates)
    report = BackfillReport()
    for d in dates:
        if not force and date_is_complete(latest, d, PHASES):
            report.skipped.append(d)
            if on_date:
                on_date(d, "skipped")
            continue
        try:
            result = run(settings, d, flow="backfill", force=force, **run_kwargs)
        except PipelineFailed as exc:
            report.failed[d] = str(exc)
            if on_date:
                on_date(d, "failed")
            if stop_on_error:
                break
            continue
        (report.slo_failed if result.status == "slo_failed" else report.done).append(d)
        if on_date:
            on_date(d, result.status)
    return report
