"""The per-game-date lock in raw.pipeline_locks (real DuckDB file)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from python_jobs.ops import locks
from python_jobs.ops.clock import FakeClock
from python_jobs.ops.guard import short_write

KEY = "daily:2025-03-19"
TTL = timedelta(minutes=30)


def test_second_holder_is_refused_with_a_clear_message(tmp_settings):
    clock = FakeClock(datetime(2025, 3, 19, 14, 0, tzinfo=UTC))
    first = locks.acquire(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock=clock)
    assert first.holder_id == "host-a:1:aaaa" and first.expires_at == clock.now() + TTL
    with pytest.raises(locks.LockHeld, match=r"'daily:2025-03-19' is held by host-a:1:aaaa .*Another run"):
        locks.acquire(tmp_settings, KEY, "host-b:2:bbbb", TTL, clock=clock)


def test_second_holder_waits_and_gets_the_lock_once_released(tmp_settings):
    clock = FakeClock(datetime(2025, 3, 19, 14, 0, tzinfo=UTC))
    locks.acquire(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock=clock)
    released = {"done": False}

    class ReleasingClock(FakeClock):
        def sleep(self, seconds):
            super().sleep(seconds)
            if len(self.sleeps) == 3 and not released["done"]:
                locks.release(tmp_settings, KEY, "host-a:1:aaaa", self)
                released["done"] = True

    waiting = ReleasingClock(clock.now())
    info = locks.acquire(tmp_settings, KEY, "host-b:2:bbbb", TTL, wait=timedelta(minutes=5), poll_seconds=5,
                         clock=waiting)
    assert info.holder_id == "host-b:2:bbbb" and info.taken_over_from is None
    assert waiting.sleeps == [5, 5, 5]


def test_expired_lock_is_taken_over_and_recorded(tmp_settings):
    clock = FakeClock(datetime(2025, 3, 19, 14, 0, tzinfo=UTC))
    locks.acquire(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock=clock)
    clock.advance(minutes=31)
    info = locks.acquire(tmp_settings, KEY, "host-b:2:bbbb", TTL, clock=clock)
    assert info.holder_id == "host-b:2:bbbb" and info.taken_over_from == "host-a:1:aaaa"
    # the old holder can neither refresh nor release any more
    with pytest.raises(locks.LockLost):
        locks.refresh(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock)
    with pytest.raises(locks.NotLockHolder):
        locks.release(tmp_settings, KEY, "host-a:1:aaaa", clock)
    locks.release(tmp_settings, KEY, "host-b:2:bbbb", clock)
    with short_write(tmp_settings) as con:
        assert con.fetchone("select count(*), max(released_at) is not null from raw.pipeline_locks") == (1, True)


def test_lock_of_a_dead_process_on_this_host_is_taken_over(tmp_settings):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_holder = f"{locks.socket.gethostname()}:{proc.stdout.strip()}:dead"
    clock = FakeClock(datetime(2025, 3, 19, 14, 0, tzinfo=UTC))
    locks.acquire(tmp_settings, KEY, dead_holder, TTL, clock=clock)
    info = locks.acquire(tmp_settings, KEY, locks.new_holder_id(), TTL, clock=clock)
    assert info.taken_over_from == dead_holder


def test_refresh_extends_expiry_only_for_the_holder(tmp_settings):
    clock = FakeClock(datetime(2025, 3, 19, 14, 0, tzinfo=UTC))
    locks.acquire(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock=clock)
    clock.advance(minutes=20)
    info = locks.refresh(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock)
    assert info.expires_at == clock.now() + TTL
    with pytest.raises(locks.LockLost):
        locks.refresh(tmp_settings, KEY, "host-b:2:bbbb", TTL, clock)
