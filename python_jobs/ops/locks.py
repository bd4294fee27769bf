"""One run per game date: a lock row in ``raw.pipeline_locks`` (holder, acquired_at, expires_at).

- ``acquire`` takes a free, released or expired lock (an expired one is taken over and the old
  holder recorded in ``taken_over_from``; so is the lock of a holder process on this host that no
  longer exists, e.g. after SIGKILL); if another holder's lock is valid it waits up to
  ``wait`` polling, then raises ``LockHeld`` with a clear message.
- ``refresh`` extends the expiry (the pipeline calls it between steps); it raises ``LockLost`` if
  someone took the lock over after it expired.
- ``release`` only by the holder (``NotLockHolder`` otherwise).

Each operation is one short transaction inside the warehouse guard (``guard.py``); no DuckDB
connection stays open while the lock is held, so dbt can use the file.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from python_jobs.config import Settings
from python_jobs.errors import PicklableError
from python_jobs.ops.clock import Clock, SystemClock
from python_jobs.ops.guard import short_write


class LockError(RuntimeError):
    """Base class of lock problems (never retried: the caller decides)."""


class LockHeld(PicklableError, LockError):
    def __init__(self, info: LockInfo, waited: timedelta):
        self.info = info
        super().__init__(
            f"lock {info.lock_key!r} is held by {info.holder_id} since {info.acquired_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(expires {info.expires_at:%Y-%m-%d %H:%M:%S} UTC); waited {waited.total_seconds():.0f} s. "
            "Another run for this date is in progress: wait for it (--wait-minutes) or retry later."
        )


class LockLost(LockError):
    pass


class NotLockHolder(LockError):
    pass


@dataclass(frozen=True)
class LockInfo:
    lock_key: str
    holder_id: str
    acquired_at: datetime
    expires_at: datetime
    released_at: datetime | None
    taken_over_from: str | None


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(holder_id: str) -> bool:
    """True when the holder ran on this host and its process no longer exists (crashed, SIGKILL)."""
    host, _, rest = holder_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _read(con, key: str) -> LockInfo | None:
    row = con.execute(
        "select lock_key, holder_id, acquired_at, expires_at, released_at, taken_over_from "
        "from raw.pipeline_locks where lock_key = ?",
        [key],
    ).fetchone()
    return LockInfo(*row) if row else None


def current(settings: Settings, key: str) -> LockInfo | None:
    with short_write(settings) as con:
        return _read(con, key)


def try_acquire(settings: Settings, key: str, holder_id: str, ttl: timedelta,
                clock: Clock | None = None) -> tuple[bool, LockInfo]:
    """One attempt. Returns (acquired, the lock row after the attempt)."""
    clock = clock or SystemClock()
    with short_write(settings) as con:
        con.execute("begin transaction")
        now = clock.now()
        existing = _read(con, key)
        if existing is None:
            con.execute(
                "insert into raw.pipeline_locks values (?, ?, ?, ?, null, null)",
                [key, holder_id, now, now + ttl],
            )
        elif existing.holder_id == holder_id and existing.released_at is None:
            con.execute("update raw.pipeline_locks set expires_at = ? where lock_key = ?", [now + ttl, key])
        elif (existing.released_at is not None or existing.expires_at <= now
              or holder_is_dead(existing.holder_id)):
            taken_over = existing.holder_id if existing.released_at is None else None
            con.execute(
                "update raw.pipeline_locks set holder_id = ?, acquired_at = ?, expires_at = ?, "
                "released_at = null, taken_over_from = ? where lock_key = ?",
                [holder_id, now, now + ttl, taken_over, key],
            )
        else:
            con.execute("rollback")
            return False, existing
        info = _read(con, key)
        con.execute("commit")
        assert info is not None
        return True, info


def acquire(settings: Settings, key: str, holder_id: str, ttl: timedelta, *,
            wait: timedelta = timedelta(0), poll_seconds: float = 5.0,
            clock: Clock | None = None) -> LockInfo:
    """Take the lock, waiting up to ``wait`` for another holder; raises ``LockHeld``."""
    clock = clock or SystemClock()
    started = clock.now()
    while True:
        ok, info = try_acquire(settings, key, holder_id, ttl, clock)
        if ok:
            return info
        waited = clock.now() - started
        if waited >= wait:
            raise LockHeld(info, waited)
        clock.sleep(min(poll_seconds, max(0.0, (wait - waited).total_seconds())) or poll_seconds)


def refresh(settings: Settings, key: str, holder_id: str, ttl: timedelta, clock: Clock | None = None) -> LockInfo:
    clock = clock or SystemClock()
    with short_write(settings) as con:
        con.execute("begin transaction")
        info = _read(con, key)
        if info is None or info.holder_id != holder_id or info.released_at is not None:
            con.execute("rollback")
            raise LockLost(f"lock {key!r} is no longer held by {holder_id} (now: {info})")
        con.execute("update raw.pipeline_locks set expires_at = ? where lock_key = ?", [clock.now() + ttl, key])
        con.execute("commit")
        return _read(con, key)  # type: ignore[return-value]


def release(settings: Settings, key: str, holder_id: str, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    with short_write(settings) as con:
        con.execute("begin transaction")
        info = _read(con, key)
        if info is None or info.holder_id != holder_id:
            con.execute("rollback")
            raise NotLockHolder(f"{holder_id} cannot release lock {key!r}: holder is {info.holder_id if info else 'nobody'}")
        if info.released_at is None:
            con.execute("update raw.pipeline_locks set released_at = ? where lock_key = ?", [clock.now(), key])
        con.execute("commit")
