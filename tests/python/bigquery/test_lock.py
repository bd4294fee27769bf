"""The BigQuery lock (conditional MERGE) raced for by two real processes on the emulator:
exactly one holds each key; an expired lock is taken over; a non-holder's release changes nothing."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime, timedelta

from python_jobs.warehouse.bigquery_engine import BigQueryWarehouse
from tests.python.bigquery.lock_race import LOCK_DDL, READ, race_worker, release, try_acquire

KEYS = [f"daily:2025-03-{day:02d}" for day in range(1, 21)]
NOW = datetime(2025, 3, 19, 15, 0, tzinfo=UTC)
TTL = timedelta(minutes=30)


def test_two_processes_race_and_exactly_one_holds_each_key(bq: BigQueryWarehouse, bq_emulator: str) -> None:
    bq.execute(LOCK_DDL)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    holders = ["host-a:101:aaaa", "host-b:202:bbbb"]
    procs = [ctx.Process(target=race_worker,
                         args=(bq_emulator, h, KEYS, NOW, TTL.total_seconds(), barrier, results))
             for h in holders]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * len(KEYS))]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    errors = [o for o in outcomes if isinstance(o[2], str)]
    assert errors == []
    winners: dict[str, list[str]] = {key: [] for key in KEYS}
    for holder, key, acquired in outcomes:
        if acquired:
            winners[key].append(holder)
    assert all(len(w) == 1 for w in winners.values()), winners
    table = dict(bq.fetchall("select lock_key, holder_id from raw.pipeline_locks"))
    assert table == {key: w[0] for key, w in winners.items()}
    assert bq.scalar("select count(*) from raw.pipeline_locks where released_at is not null "
                     "or taken_over_from is not null or expires_at <> ?", [NOW + TTL]) == 0


def test_expiry_takeover_and_release_only_by_the_holder(bq: BigQueryWarehouse) -> None:
    bq.execute(LOCK_DDL)
    key, a, b = "daily:2025-03-19", "host-a:1:aaaa", "host-b:2:bbbb"
    assert try_acquire(bq, key, a, NOW, TTL)
    # b cannot take a valid lock, even one second before it expires
    assert not try_acquire(bq, key, b, NOW + TTL - timedelta(seconds=1), TTL)
    assert bq.fetchone(READ, [key]) == (a, NOW, NOW + TTL, None, None)
    # a re-acquiring its own lock only extends it (acquired_at stays)
    assert try_acquire(bq, key, a, NOW + timedelta(minutes=10), TTL)
    expires = NOW + timedelta(minutes=10) + TTL
    assert bq.fetchone(READ, [key]) == (a, NOW, expires, None, None)
    # at expiry b takes it over; the old holder is recorded
    assert try_acquire(bq, key, b, expires, TTL)
    assert bq.fetchone(READ, [key]) == (b, expires, expires + TTL, None, a)
    # a, no longer the holder, can neither release it nor take it back while it is valid
    release(bq, key, a, expires + timedelta(minutes=1))
    assert bq.fetchone(READ, [key]) == (b, expires, expires + TTL, None, a)
    assert not try_acquire(bq, key, a, expires + timedelta(minutes=1), TTL)
    # b releases it; then a takes the released lock (not a takeover: nothing recorded)
    release(bq, key, b, expires + timedelta(minutes=2))
    assert bq.fetchone(READ, [key]) == (b, expires, expires + TTL, expires + timedelta(minutes=2), a)
    assert try_acquire(bq, key, a, expires + timedelta(minutes=3), TTL)
    t3 = expires + timedelta(minutes=3)
    assert bq.fetchone(READ, [key]) == (a, t3, t3 + TTL, None, None)
    # a valid lock whose holder the caller found dead (same host, no such pid) is taken over
    assert not try_acquire(bq, key, b, t3, TTL, dead_holder_id="host-c:3:cccc")  # not the holder
    assert try_acquire(bq, key, b, t3, TTL, dead_holder_id=a)
    assert bq.fetchone(READ, [key]) == (b, t3, t3 + TTL, None, a)
