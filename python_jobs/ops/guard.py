"""Serialise warehouse writers across processes.

DuckDB lets one process at a time open a database file for writing, and dbt (in-process) needs
the file while it builds. So nothing here keeps a DuckDB connection open across a run: the ops
tables (locks, log, runs, alerts) are written in short transactions, each inside this guard, a
file lock (``filelock``) next to the database file. ``python_jobs.pipeline`` also holds the guard
around every dbt invocation and Python step, so two pipeline processes interleave steps instead of
failing on DuckDB's own file lock. The per-game-date run lock (``locks.py``) is what keeps two
runs of the same date apart; this guard only makes each short write safe.

BigQuery has no file to lock: on that engine the guard is a no-op and ``short_write`` is a plain
``connect`` (no retry loop on file conflicts; the engine retries its own transient errors).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from python_jobs.config import Settings
from python_jobs.warehouse.base import Warehouse
from python_jobs.warehouse.connection import connect
from python_jobs.warehouse.errors import WarehouseFileConflict

_locks: dict[str, FileLock] = {}
# database path -> the connection ``kept_connection`` holds open for this thread's short writes
_kept = threading.local()


class WarehouseBusy(RuntimeError):
    """The warehouse stayed locked by another writer for longer than the allowed wait."""


def guard_path(settings: Settings) -> Path:
    return settings.database_path.with_name(settings.database_path.name + ".ops.lock")


def _file_lock(settings: Settings) -> FileLock:
    path = str(guard_path(settings))
    if path not in _locks:
        settings.database_path.parent.mkdir(parents=True, exist_ok=True)
        _locks[path] = FileLock(path, thread_local=False)
    return _locks[path]


@contextmanager
def warehouse_guard(settings: Settings, timeout: float | None = None) -> Iterator[None]:
    """Hold the cross-process writer lock (re-entrant within this process; none on BigQuery).
    Waits up to ``timeout`` seconds (default ``settings.guard_wait_seconds``), then ``WarehouseBusy``."""
    if settings.engine != "duckdb":
        yield
        return
    timeout = settings.guard_wait_seconds if timeout is None else timeout
    lock = _file_lock(settings)
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise WarehouseBusy(
            f"warehouse {settings.database_path} is busy (writer lock {guard_path(settings)} "
            f"held by another process for more than {timeout:.0f} s)"
        ) from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def short_write(settings: Settings, timeout: float | None = None) -> Iterator[Warehouse]:
    """A short read-write ``Warehouse`` under the guard; on DuckDB retried while an outside process
    (one that does not use the guard, e.g. a `dbt` binary) holds DuckDB's own file lock."""
    if settings.engine != "duckdb":
        with connect(settings) as wh:
            yield wh
        return
    kept = getattr(_kept, "by_path", {}).get(str(settings.database_path))
    if kept is not None:   # inside kept_connection (which holds the guard): the same open file
        yield kept
        return
    timeout = settings.guard_wait_seconds if timeout is None else timeout
    deadline = time.monotonic() + timeout
    with warehouse_guard(settings, timeout=timeout):
        delay = 0.2
        while True:
            try:
                wh = connect(settings)
            except WarehouseFileConflict:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            break
        with wh:
            yield wh


@contextmanager
def kept_connection(settings: Settings, timeout: float | None = None) -> Iterator[None]:
    """Hold the guard and one open connection for every ``short_write`` of this thread inside the
    block: a burst of bookkeeping writes (lock fence, log row, phase completion, row count) opens
    and closes (checkpoints) the DuckDB file once instead of once per write (~25-50 ms each).
    Never around dbt: dbt opens the file itself. Each write still commits on its own, as before."""
    key = str(settings.database_path)
    by_path = _kept.__dict__.setdefault("by_path", {})
    if settings.engine != "duckdb" or key in by_path:
        yield
        return
    with short_write(settings, timeout=timeout) as wh:
        by_path[key] = wh
        try:
            yield
        finally:
            del by_path[key]
