"""One run per game date: a lock row in ``raw.pipeline_locks`` (holder, acquired_at, expires_at).

- ``acquire`` takes a free, released or expired lock (an expired one is taken over and the old
  holder recorded in ``taken_over_from``; so is the lock of a holder process on this host that no
  longer exists, e.g. after SIGKILL); if another holder's lock is valid it waits up to
  ``wait`` polling, then raises ``LockHeld`` with a clear message.
- ``refresh`` extends the expiry (the pipeline calls it between steps); it raises ``LockLost`` if
  someone took the lock over after it expired.
- ``release`` only by the holder (``NotLockHolder`` otherwise).

Each operation is one conditional statement (acquire: a MERGE; refresh and release: an UPDATE
that matches only the holder), atomic on its own, followed by a read-back; the same SQL runs on
every engine. On DuckDB it also runs inside the warehouse guard (``guard.py``); no connection
stays open while the lock is held, so dbt can use the file.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from python_jobs.config import Settings
from python_jobs.errors import PicklableError
from python_jobs.ops.clock import Clock, SystemClock
from python_jobs.ops.guard import short_write
from python_jobs.warehouse.base import Warehouse


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
    """The lock was taken over (it had expired): the former holder must stop before its next write."""


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


def date_lock_key(game_date: date) -> str:
    """The run lock of one game date (every flow of that date shares it)."""
    return f"daily:{game_date.isoformat()}"


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _is_zombie(pid: int) -> bool:
    """True when ``pid`` is a zombie: killed or exited but not reaped by its parent (Linux
    ``/proc/<pid>/stat`` state ``Z``). ``os.kill(pid, 0)`` still succeeds on a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # "pid (comm) state ...": comm may hold spaces or parentheses, the state follows the last ')'
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def holder_is_dead(holder_id: str) -> bool:
    """True when the holder ran on this host and its process no longer exists (crashed, SIGKILL)
    or is a zombie (dead, not yet reaped by its parent)."""
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
    return _is_zombie(pid)


def _read(con: Warehouse, key: str) -> LockInfo | None:
    row = con.fetchone(
        "select lock_key, holder_id, acquired_at, expires_at, released_at, taken_over_from "
        "from raw.pipeline_locks where lock_key = ?",
        [key],
    )
    return LockInfo(*row) if row else None


def current(settings: Settings, key: str) -> LockInfo | None:
    with short_write(settings) as con:
        return _read(con, key)


# One statement decides: the lock is ours after it iff it was free, released, expired, held by a
# dead holder (named by the caller: a Python-side check) or already ours. Re-acquiring our own lock
# only extends it; a takeover of an unreleased lock records the previous holder.
_ACQUIRE = """
merge into raw.pipeline_locks as t
using (
    select
        cast(? as varchar) as lock_key,
        cast(? as varchar) as holder_id,
        cast(? as timestamptz) as now_at,
        cast(? as timestamptz) as expires_at,
        cast(? as varchar) as dead_holder_id
) as s
on t.lock_key = s.lock_key
when matched and (
    t.released_at is not null
    or t.expires_at <= s.now_at
    or t.holder_id = s.holder_id
    or t.holder_id = s.dead_holder_id
) then update set
    acquired_at = case when t.holder_id = s.holder_id and t.released_at is null
        then t.acquired_at else s.now_at end,
    taken_over_from = case when t.holder_id = s.holder_id and t.released_at is null then t.taken_over_from
        when t.released_at is null then t.holder_id end,
    holder_id = s.holder_id,
    expires_at = s.expires_at,
    released_at = null
when not matched then insert (lock_key, holder_id, acquired_at, expires_at, released_at, taken_over_from)
    values (s.lock_key, s.holder_id, s.now_at, s.expires_at, null, null)
"""


def try_acquire(settings: Settings, key: str, holder_id: str, ttl: timedelta,
                clock: Clock | None = None) -> tuple[bool, LockInfo]:
    """One attempt: one conditional MERGE, then the row is read back. Returns (acquired, the lock
    row after the attempt)."""
    clock = clock or SystemClock()
    with short_write(settings) as con:
        before = _read(con, key)
        dead = (before.holder_id if before is not None and before.holder_id != holder_id
                and before.released_at is None and holder_is_dead(before.holder_id) else None)
        now = clock.now()
        con.execute(_ACQUIRE, [key, holder_id, now, now + ttl, dead])  # one statement: atomic alone
        info = _read(con, key)
        assert info is not None, f"lock {key!r}: no row after the acquire MERGE"
        return info.holder_id == holder_id and info.released_at is None, info


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
    """Extend the expiry: one UPDATE that matches only while we hold the lock; ``LockLost`` otherwise."""
    clock = clock or SystemClock()
    with short_write(settings) as con:
        con.execute(
            "update raw.pipeline_locks set expires_at = ? "
            "where lock_key = ? and holder_id = ? and released_at is null",
            [clock.now() + ttl, key, holder_id],
        )
        info = _read(con, key)
    if info is None or info.holder_id != holder_id or info.released_at is not None:
        now_holder = "nobody" if info is None or info.released_at is not None else info.holder_id
        raise LockLost(f"lock {key!r} is no longer held by {holder_id}: it expired and was taken over by "
                       f"{now_holder}")
    return info


def release(settings: Settings, key: str, holder_id: str, clock: Clock | None = None) -> None:
    """Release: one UPDATE that matches only the holder (idempotent for it); ``NotLockHolder`` otherwise."""
    clock = clock or SystemClock()
    with short_write(settings) as con:
        con.execute(
            "update raw.pipeline_locks set released_at = ? "
            "where lock_key = ? and holder_id = ? and released_at is null",
            [clock.now(), key, holder_id],
        )
        info = _read(con, key)
    if info is None or info.holder_id != holder_id:
        raise NotLockHolder(f"{holder_id} cannot release lock {key!r}: holder is {info.holder_id if info else 'nobody'}")
