"""A conditional-MERGE lock on BigQuery and a worker that races for it from its own process.

The statement is the shape the ops lock uses on BigQuery: one atomic MERGE that inserts a missing
lock, or takes over a released or expired one (or refreshes one's own), and changes nothing when
another holder's lock is still valid. Whether the caller holds the lock is read back afterwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta

LOCK_DDL = """create or replace table raw.pipeline_locks (
    lock_key varchar not null, holder_id varchar not null, acquired_at timestamptz not null,
    expires_at timestamptz not null, released_at timestamptz, taken_over_from varchar)"""

# the production statement (python_jobs/ops/locks.py), parameters:
# (lock_key, holder_id, now, expires_at, dead_holder_id or None)
from python_jobs.ops.locks import _ACQUIRE as ACQUIRE  # noqa: E402

RELEASE = ("update raw.pipeline_locks set released_at = ? "
           "where lock_key = ? and holder_id = ? and released_at is null")

READ = ("select holder_id, acquired_at, expires_at, released_at, taken_over_from "
        "from raw.pipeline_locks where lock_key = ?")


def try_acquire(warehouse, key: str, holder_id: str, now: datetime, ttl: timedelta,
                dead_holder_id: str | None = None) -> bool:
    """One atomic MERGE (no explicit transaction: see README), then the row is read back."""
    warehouse.execute(ACQUIRE, [key, holder_id, now, now + ttl, dead_holder_id])
    row = warehouse.fetchone(READ, [key])
    return row is not None and row[0] == holder_id and row[3] is None


def release(warehouse, key: str, holder_id: str, now: datetime) -> None:
    warehouse.execute(RELEASE, [now, key, holder_id])


def race_worker(endpoint: str, holder_id: str, keys: list[str], now: datetime, ttl_s: float,
                barrier, results) -> None:
    """Runs in a spawned process: for each key, wait for the other racer, then try to take it."""
    from python_jobs.config import Settings
    from python_jobs.errors import TransientError
    from python_jobs.warehouse.bigquery_engine import BigQueryWarehouse

    warehouse = BigQueryWarehouse(Settings(bq_project="test-project", bq_api_endpoint=endpoint,
                                           bq_max_attempts=5, bq_job_timeout_s=120))
    try:
        warehouse.fetchall("select 1")  # imports and connections warmed up before the race
        for key in keys:
            barrier.wait(timeout=60)
            try:
                acquired = try_acquire(warehouse, key, holder_id, now, timedelta(seconds=ttl_s))
            except TransientError as exc:  # a concurrent-update abort is retried by the engine
                results.put((holder_id, key, f"error: {exc}"))
                continue
            results.put((holder_id, key, acquired))
    finally:
        warehouse.close()
