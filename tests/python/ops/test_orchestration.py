"""run_day's orchestration (lock, idempotency, log, retries, timeouts, concurrency) on a real
DuckDB warehouse with synthetic steps; the full pipeline on real data is in test_run_day.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from python_jobs.errors import PermanentError, TransientError
from python_jobs.ops.clock import FakeClock
from python_jobs.ops.config import load_ops_config
from python_jobs.ops.guard import short_write
from python_jobs.pipeline import PipelineFailed, Step, StepOutcome, run_day

from ._synthetic import synthetic_steps

D = date(2025, 3, 19)
WORKER = Path(__file__).with_name("_synthetic.py")
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def q(settings, sql, params=None):
    with short_write(settings) as con:
        return con.fetchall(sql, params or [])


def test_run_logs_each_step_records_completions_and_a_repeat_is_a_noop(tmp_settings):
    first = run_day(tmp_settings, D, steps=synthetic_steps())
    assert first.status == "succeeded" and first.exit_code == 0
    assert q(tmp_settings, "select node, phase, status, rows_out, correlation_id from raw.pipeline_execution_log "
                           "order by started_at") == [
        ("alpha", "phase2", "success", 5, first.correlation_id), ("beta", "phase3", "success", 3, first.correlation_id)]
    assert q(tmp_settings, "select phase, status, row_count from raw.phase_completions order by phase") == [
        ("phase2", "complete", 5), ("phase3", "complete", 3)]
    assert q(tmp_settings, "select status from raw.pipeline_runs") == [("succeeded",)]
    assert q(tmp_settings, "select holder_id is not null, released_at is not null from raw.pipeline_locks") == [(True, True)]

    second = run_day(tmp_settings, D, steps=synthetic_steps())
    assert second.status == "noop" and second.previous_run_id == first.run_id
    assert q(tmp_settings, "select count(*) from raw.pipeline_execution_log") == [(2,)]
    assert q(tmp_settings, "select count(*) from raw.pipeline_runs") == [(1,)]

    forced = run_day(tmp_settings, D, steps=synthetic_steps(), force=True)
    assert forced.status == "succeeded"
    assert q(tmp_settings, "select count(*), count(distinct i) from main.synthetic_output where phase = 'alpha'") == [(5, 5)]


def test_transient_errors_are_retried_with_backoff_permanent_ones_stop_at_once(tmp_settings):
    calls = {"flaky": 0, "after": 0}

    def flaky(ctx):
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise TransientError("HTTP 503 from the scoreboard")
        return StepOutcome(rows_out=1)

    def fatal(ctx):
        raise PermanentError("HTTP 401: bad api key")

    def after(ctx):
        calls["after"] += 1
        return StepOutcome()

    clock = FakeClock(datetime(2025, 3, 19, 14, tzinfo=UTC))
    result = run_day(tmp_settings, D, clock=clock, steps=[Step("flaky", "phase1", flaky)])
    assert result.status == "succeeded" and calls["flaky"] == 3
    assert clock.sleeps == [30.0, 60.0]  # config: 30 s backoff, factor 2
    assert q(tmp_settings, "select status, error_class from raw.pipeline_execution_log order by started_at, logged_at") == [
        ("error", "TransientError"), ("error", "TransientError"), ("success", None)]

    clock2 = FakeClock(datetime(2025, 3, 20, 14, tzinfo=UTC))
    with pytest.raises(PipelineFailed, match="failed at step fatal: PermanentError: HTTP 401") as info:
        run_day(tmp_settings, date(2025, 3, 20), clock=clock2,
                steps=[Step("fatal", "phase1", fatal), Step("after", "phase2", after)])
    assert clock2.sleeps == [] and calls["after"] == 0
    assert info.value.result.status == "failed"
    assert q(tmp_settings, "select status, error_class from raw.pipeline_runs where game_date = '2025-03-20'") == [
        ("failed", "PermanentError")]
    # the lock was released: the next run for the date is not refused
    assert q(tmp_settings, "select released_at is not null from raw.pipeline_locks where lock_key = 'daily:2025-03-20'") == [(True,)]


def test_a_step_over_its_timeout_fails_the_run(tmp_settings):
    cfg = load_ops_config()
    cfg = cfg.model_copy(update={"phase_timeouts_seconds": {**cfg.phase_timeouts_seconds, "phase2": 0.5}})

    def slow(ctx):
        time.sleep(3)
        return StepOutcome()

    # the deadline interrupts the step (no duration is asserted: the error class and log say it)
    with pytest.raises(PipelineFailed, match="PhaseTimeout: step slow exceeded its timeout"):
        run_day(tmp_settings, D, cfg=cfg, steps=[Step("slow", "phase2", slow)])
    assert q(tmp_settings, "select status, error_class from raw.pipeline_execution_log") == [("error", "PhaseTimeout")]


def _spawn(settings, wait_minutes: float, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(settings.warehouse_dir), D.isoformat(), str(wait_minutes), str(pause)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(PROJECT_ROOT)})


def _wait_until_running(settings, proc: subprocess.Popen) -> None:
    """Block until ``proc``'s run holds the date (its progress file says running), so the second
    process surely starts while the first one is in the middle of its steps, however loaded the
    machine is."""
    from python_jobs.pipeline import progress_path

    path = progress_path(settings, D)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            if json.loads(path.read_text()).get("state") == "running":
                return
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.02)
    pytest.fail("the first run never started")


def test_two_concurrent_processes_for_one_date_one_is_refused_no_duplicates(tmp_settings):
    q(tmp_settings, "select 1")  # create the warehouse first
    a = _spawn(tmp_settings, 0, 4.0)
    _wait_until_running(tmp_settings, a)
    b = _spawn(tmp_settings, 0, 4.0)
    out_a, out_b = a.communicate(timeout=120)[0], b.communicate(timeout=120)[0]
    codes = sorted([a.returncode, b.returncode])
    assert codes == [0, 3], (out_a, out_b)
    refused = out_a if a.returncode == 3 else out_b
    assert "LOCKED: lock 'daily:2025-03-19' is held by" in refused and "Another run for this date" in refused
    assert q(tmp_settings, "select phase, count(*), count(distinct i) from main.synthetic_output group by 1 order by 1") == [
        ("alpha", 5, 5), ("beta", 3, 3)]
    assert q(tmp_settings, "select count(*) from raw.pipeline_runs") == [(1,)]


def test_a_second_process_that_waits_runs_after_the_first_and_is_a_noop(tmp_settings):
    q(tmp_settings, "select 1")
    a = _spawn(tmp_settings, 0, 1.0)
    _wait_until_running(tmp_settings, a)
    b = _spawn(tmp_settings, 2, 1.0)
    out_a, out_b = a.communicate(timeout=180)[0], b.communicate(timeout=180)[0]
    assert (a.returncode, b.returncode) == (0, 0), (out_a, out_b)
    assert "STATUS: succeeded" in out_a and "STATUS: noop" in out_b
    assert q(tmp_settings, "select count(*) from main.synthetic_output") == [(8,)]


def test_a_step_opens_the_warehouse_file_three_times_its_bookkeeping_shares_one_open(tmp_settings, monkeypatch):
    """Opening and closing the DuckDB file costs ~25-50 ms (catalog load, checkpoint on close). A
    step opens it for the fence before it, for its own write (the synthetic step writes once) and
    ONCE for everything after it: fence, execution log row, phase completion (they were one open
    each). The difference between a 4-step and a 2-step run is two steps' opens, nothing else."""
    from python_jobs.warehouse import duckdb_engine

    opens = []
    real_init = duckdb_engine.DuckDBWarehouse.__init__

    def counting_init(self, *args, **kwargs):
        opens.append(args[0] if args else kwargs.get("path"))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(duckdb_engine.DuckDBWarehouse, "__init__", counting_init)
    two = synthetic_steps()
    four = two + [Step(f"{s.name}_again", p, s.func, records_completion=True)
                  for s, p in zip(two, ("phase4", "phase5"), strict=True)]
    assert run_day(tmp_settings, D, steps=two).status == "succeeded"
    opens_two = len(opens)
    opens.clear()
    assert run_day(tmp_settings, date(2025, 3, 20), steps=four).status == "succeeded"
    assert (len(opens) - opens_two) / 2 == 3
    # every write of the shared opens landed: 4 log rows and 4 completions for the second date
    assert q(tmp_settings, "select count(*) from raw.pipeline_execution_log where game_date = ?",
             [date(2025, 3, 20)]) == [(4,)]
    assert q(tmp_settings, "select phase from raw.phase_completions where game_date = ? order by phase",
             [date(2025, 3, 20)]) == [("phase2",), ("phase3",), ("phase4",), ("phase5",)]
