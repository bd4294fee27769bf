"""Lock edge cases of issue #11 point 7, each with real processes on a real DuckDB file.

The run process is ``_lock_worker.py`` (the real ``nba-props run-day`` CLI with steps that write
DuckDB but skip dbt); the other party is this test process or a second subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT
from python_jobs.ops import locks
from python_jobs.ops.clock import FakeClock
from python_jobs.ops.guard import guard_path, short_write
from python_jobs.ops.status import status
from python_jobs.pipeline import progress_path, run_day

from ._synthetic import synthetic_steps

D = date(2025, 3, 19)
OTHER = date(2025, 3, 20)
WORKER = Path(__file__).with_name("_lock_worker.py")
TTL = timedelta(minutes=360)


def q(settings, sql, params=None):
    with short_write(settings) as con:
        return con.fetchall(sql, params or [])


def _env(settings, **extra) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "NBA_PROPS_WAREHOUSE_DIR": str(settings.warehouse_dir),
            "NBA_PROPS_DBT_TARGET": "ci", **extra}


def _worker(settings, mode: str, day: date, control: Path, **env) -> subprocess.Popen:
    control.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, str(WORKER), mode, day.isoformat(), str(control)], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(settings, **env))


def _cli(settings, *args: str, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "python_jobs.cli", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout, env=_env(settings, **env))


def _wait_for(cond, proc: subprocess.Popen, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"worker exited {proc.returncode} before {what}:\n{out}\n{err}")
        if cond():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _progress(settings, day: date) -> dict:
    try:
        return json.loads(progress_path(settings, day).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _hold_guard(settings, *, open_duckdb: bool = False) -> subprocess.Popen:
    """Another process holding the writer guard (and, like a run inside dbt, the DuckDB file)."""
    code = (
        "import sys, time; from filelock import FileLock; import duckdb\n"
        f"lock = FileLock({str(guard_path(settings))!r}); lock.acquire()\n"
        + (f"con = duckdb.connect({str(settings.database_path)!r})\n" if open_duckdb else "")
        + "print('held', flush=True); time.sleep(90)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


_INFO_LOG = re.compile(r"^\[[0-9/: ]+\]\s+(DEBUG|INFO)\s")


def _one_line(text: str) -> str:
    """The one line the user is told, among the info log records that also go to stderr."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not _INFO_LOG.match(ln)]
    assert "Traceback" not in text and len(lines) == 1, text
    return lines[0]


# --------------------------------------------------------------------------- 7a
@pytest.mark.timeout(240)
def test_a_run_whose_lock_was_taken_over_stops_before_its_next_write_and_exits_3(tmp_settings, tmp_path):
    q(tmp_settings, "select 1")
    control = tmp_path / "control"
    a = _worker(tmp_settings, "pause", D, control)
    _wait_for(lambda: (control / "paused").exists(), a, "A's pause step")
    a_run = (control / "paused").read_text()
    a_holder = q(tmp_settings, "select holder_id from raw.pipeline_runs where run_id = ?", [a_run])[0][0]
    # B, in this process, finds A's lock expired (its clock is 7 h later) and takes it over
    later = FakeClock(datetime.now(UTC) + timedelta(hours=7))
    info = locks.acquire(tmp_settings, locks.date_lock_key(D), "host-b:2:bbbb", TTL, clock=later)
    assert info.taken_over_from == a_holder
    (control / "go").write_text("go")
    out, err = a.communicate(timeout=120)
    assert a.returncode == 3, (out, err)
    line = _one_line(err)
    assert f"run {a_run} for {D} lost its lock at step pause and stopped before its next write" in line
    assert "taken over by host-b:2:bbbb" in line
    # A wrote nothing after B took over: no log row or completion for its pause step, no beta rows
    assert q(tmp_settings, "select node, status from raw.pipeline_execution_log where run_id = ? order by node",
             [a_run]) == [("alpha", "success")]
    assert q(tmp_settings, "select phase from raw.phase_completions where run_id = ?", [a_run]) == [("phase2",)]
    assert q(tmp_settings, "select phase, count(*) from main.synthetic_output group by 1") == [("alpha", 5)]
    assert q(tmp_settings, "select status from raw.pipeline_runs where run_id = ?", [a_run]) == [("lost_lock",)]
    # and it left B's lock alone
    assert q(tmp_settings, "select holder_id, released_at from raw.pipeline_locks") == [("host-b:2:bbbb", None)]


# --------------------------------------------------------------------------- 7b
def _fake_running_progress(settings, holder: str, pid: int, expires_at: datetime) -> None:
    path = progress_path(settings, D)
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path.write_text(json.dumps({"run_id": "r-old", "holder_id": holder, "pid": pid, "step": "phase3",
                                "state": "running", "updated_at": now.isoformat(), "started_at": now.isoformat(),
                                "lock_expires_at": expires_at.isoformat(), "game_date": D.isoformat()}))


@pytest.mark.timeout(120)
def test_an_expired_lock_of_a_live_process_is_taken_over(tmp_settings):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(90)"])
    try:
        holder = f"{socket.gethostname()}:{sleeper.pid}:live"
        past = FakeClock(datetime.now(UTC) - timedelta(hours=7))
        held = locks.acquire(tmp_settings, locks.date_lock_key(D), holder, TTL, clock=past)
        assert held.expires_at < datetime.now(UTC)
        _fake_running_progress(tmp_settings, holder, sleeper.pid, held.expires_at)
        result = run_day(tmp_settings, D, wait_minutes=0, steps=synthetic_steps())
        assert result.status == "succeeded"
        assert q(tmp_settings, "select taken_over_from from raw.pipeline_locks") == [(holder,)]
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.timeout(120)
def test_an_unexpired_lock_of_a_live_process_still_refuses(tmp_settings):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(90)"])
    try:
        holder = f"{socket.gethostname()}:{sleeper.pid}:live"
        held = locks.acquire(tmp_settings, locks.date_lock_key(D), holder, TTL)
        _fake_running_progress(tmp_settings, holder, sleeper.pid, held.expires_at)
        with pytest.raises(locks.LockHeld, match=f"held by {holder}"):
            run_day(tmp_settings, D, wait_minutes=0, steps=synthetic_steps())
    finally:
        sleeper.kill()
        sleeper.wait()


# --------------------------------------------------------------------------- 7c
@pytest.mark.timeout(60)
def test_a_killed_unreaped_zombie_holder_counts_as_dead(tmp_settings):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(90)"])
    try:
        holder = f"{socket.gethostname()}:{child.pid}:zomb"
        assert not locks.holder_is_dead(holder)          # alive: not dead
        locks.acquire(tmp_settings, locks.date_lock_key(D), holder, TTL)
        os.kill(child.pid, signal.SIGKILL)               # killed, and not reaped (no wait()) yet
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 30
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            if time.monotonic() > deadline:
                pytest.fail("the child never became a zombie")
            time.sleep(0.02)
        os.kill(child.pid, 0)                            # the pid still exists ...
        assert locks.holder_is_dead(holder)              # ... but the holder is dead
        info = locks.acquire(tmp_settings, locks.date_lock_key(D), locks.new_holder_id(), TTL)
        assert info.taken_over_from == holder
    finally:
        child.kill()
        child.wait()


# --------------------------------------------------------------------------- 7d
@pytest.mark.timeout(240)
def test_the_land_wait_does_not_hold_the_writer_guard(tmp_settings, tmp_path):
    q(tmp_settings, "select 1")
    a = _worker(tmp_settings, "land", D, tmp_path / "control", NBA_PROPS_TRANSPORT="live")
    _wait_for(lambda: _progress(tmp_settings, D).get("step") == "land", a, "A's land step")
    time.sleep(1.0)   # A is now between probes of its ~30 s source wait
    # a short write and a whole run for another date go through while A waits for its sources
    with short_write(tmp_settings, timeout=10) as con:
        assert con.scalar("select 1") == 1
    other = run_day(tmp_settings, OTHER, wait_minutes=0, steps=synthetic_steps())
    assert other.status == "succeeded"
    assert a.poll() is None, "A should still be waiting for its sources"
    out, err = a.communicate(timeout=120)
    assert a.returncode == 1 and "SourcesMissing: gave up waiting for sources" in err, (out, err)
    assert q(tmp_settings, "select count(*) from raw.source_waits where game_date = ?", [D])[0][0] > 0


@pytest.mark.timeout(120)
def test_a_busy_writer_guard_is_exit_3_with_one_line(tmp_settings):
    q(tmp_settings, "select 1")
    holder = _hold_guard(tmp_settings)
    try:
        res = _cli(tmp_settings, "run-day", "--date", D.isoformat(), NBA_PROPS_GUARD_WAIT_SECONDS="2")
    finally:
        holder.kill()
        holder.wait()
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "is busy (writer lock" in _one_line(res.stderr)


# --------------------------------------------------------------------------- 7e
SAMPLE = PROJECT_ROOT / "data" / "api_samples" / "odds_api" / (
    "event_odds_player_points_f54c4a22568ce9dc33fb410d1b0e75e9_ORL_at_CLE_2024-02-23.json.gz")


@pytest.mark.timeout(240)
def test_import_and_ingest_wait_for_the_writer_guard_then_exit_3(tmp_settings):
    q(tmp_settings, "select 1")
    holder = _hold_guard(tmp_settings, open_duckdb=True)
    try:
        imp = _cli(tmp_settings, "import", str(SAMPLE), NBA_PROPS_GUARD_WAIT_SECONDS="2")
        ing = _cli(tmp_settings, "ingest", "--seasons", "2024-25", NBA_PROPS_GUARD_WAIT_SECONDS="2")
    finally:
        holder.kill()
        holder.wait()
    assert (imp.returncode, ing.returncode) == (3, 3), (imp.stderr, ing.stderr)
    assert _one_line(imp.stderr).startswith("import: warehouse ")
    assert _one_line(ing.stderr).startswith("ingest: warehouse ")
    assert q(tmp_settings, "select count(*) from raw.landed_payloads") == [(0,)]
    # once the guard is free the same import lands the file
    again = _cli(tmp_settings, "import", str(SAMPLE), NBA_PROPS_GUARD_WAIT_SECONDS="2")
    assert "Traceback" not in again.stderr and again.returncode != 3, again.stderr
    assert q(tmp_settings, "select count(*) from raw.landed_payloads where endpoint = 'event_odds'") == [(1,)]


# --------------------------------------------------------------------------- 7f
@pytest.mark.timeout(240)
def test_a_killed_run_is_reported_abandoned_and_closed_by_the_next_run(tmp_settings, tmp_path):
    q(tmp_settings, "select 1")
    control = tmp_path / "control"
    a = _worker(tmp_settings, "pause", D, control)
    _wait_for(lambda: (control / "paused").exists(), a, "A's pause step")
    a_run = (control / "paused").read_text()
    assert status(tmp_settings).abandoned == []        # alive: not abandoned
    a.send_signal(signal.SIGKILL)
    a.communicate(timeout=30)
    res = _cli(tmp_settings, "status")
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert f"ABANDONED run {a_run} for {D}" in res.stderr and "its process is gone" in res.stderr
    assert q(tmp_settings, "select status from raw.pipeline_runs where run_id = ?", [a_run]) == [("running",)]
    result = run_day(tmp_settings, D, wait_minutes=0, steps=synthetic_steps(), force=True)
    assert result.status == "succeeded"
    rows = q(tmp_settings, "select run_id, status, finished_at is not null, error_message from raw.pipeline_runs "
                           "order by started_at")
    assert [r[:3] for r in rows] == [(a_run, "abandoned", True), (result.run_id, "succeeded", True)]
    assert f"found by run {result.run_id}" in rows[0][3]
    assert status(tmp_settings).abandoned == []
