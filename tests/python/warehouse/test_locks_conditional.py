"""The run lock as conditional statements (engine-neutral SQL): the cases the older lock tests do
not reach, and a race of two real processes for one key."""

from __future__ import annotations

import multiprocessing as mp
from datetime import UTC, datetime, timedelta

import pytest
import sqlglot
from sqlglot import exp

from python_jobs.ops import locks
from python_jobs.ops.clock import FakeClock
from python_jobs.ops.guard import short_write

KEY = "daily:2025-03-19"
TTL = timedelta(minutes=30)
T0 = datetime(2025, 3, 19, 12, 0, tzinfo=UTC)




def test_same_holder_reacquire_keeps_acquired_at_and_takeover_record(tmp_settings):
    clock = FakeClock(T0)
    locks.acquire(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock=clock)
    clock.advance(minutes=31)
    taken = locks.acquire(tmp_settings, KEY, "host-b:2:bbbb", TTL, clock=clock)
    assert (taken.acquired_at, taken.taken_over_from) == (T0 + timedelta(minutes=31), "host-a:1:aaaa")
    clock.advance(minutes=10)
    again = locks.acquire(tmp_settings, KEY, "host-b:2:bbbb", TTL, clock=clock)
    # acquired_at and taken_over_from unchanged; expiry moved to now + ttl
    assert again.acquired_at == T0 + timedelta(minutes=31)
    assert again.taken_over_from == "host-a:1:aaaa"
    assert again.expires_at == T0 + timedelta(minutes=41) + TTL


def test_a_released_lock_is_taken_without_a_takeover_record_and_release_is_holder_only(tmp_settings):
    clock = FakeClock(T0)
    with pytest.raises(locks.NotLockHolder, match="holder is nobody"):
        locks.release(tmp_settings, KEY, "host-a:1:aaaa", clock)
    locks.acquire(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock=clock)
    with pytest.raises(locks.NotLockHolder, match="holder is host-a:1:aaaa"):
        locks.release(tmp_settings, KEY, "host-b:2:bbbb", clock)
    assert locks.current(tmp_settings, KEY).released_at is None  # the failed release changed nothing
    clock.advance(minutes=1)
    locks.release(tmp_settings, KEY, "host-a:1:aaaa", clock)
    clock.advance(minutes=1)
    locks.release(tmp_settings, KEY, "host-a:1:aaaa", clock)  # idempotent for the holder: first time kept
    assert locks.current(tmp_settings, KEY).released_at == T0 + timedelta(minutes=1)
    with pytest.raises(locks.LockLost):
        locks.refresh(tmp_settings, KEY, "host-a:1:aaaa", TTL, clock)
    info = locks.acquire(tmp_settings, KEY, "host-b:2:bbbb", TTL, clock=clock)  # well before expiry
    assert (info.holder_id, info.taken_over_from, info.released_at) == ("host-b:2:bbbb", None, None)
    with short_write(tmp_settings) as con:
        assert con.scalar("select count(*) from raw.pipeline_locks") == 1


def test_the_acquire_is_one_merge_statement_that_transpiles_to_bigquery():
    statements = sqlglot.parse(locks._ACQUIRE, read="duckdb")
    assert len(statements) == 1 and isinstance(statements[0], exp.Merge)
    bq = sqlglot.transpile(locks._ACQUIRE, read="duckdb", write="bigquery")
    assert len(bq) == 1 and bq[0].startswith("MERGE INTO raw.pipeline_locks")
    assert bq[0].count("?") == 5  # every value is a parameter


def _race(settings, holder: str, start, out) -> None:
    start.wait(timeout=60)
    ok, info = locks.try_acquire(settings, KEY, holder, TTL)
    out.put((holder, ok, info.holder_id))


def test_two_processes_racing_for_one_key_exactly_one_holds_it(tmp_settings):
    with short_write(tmp_settings):
        pass  # create the raw layer before the race
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(tmp_settings, f"race-host:{i}:p{i}", start, out)) for i in (1, 2)]
    for p in procs:
        p.start()
    results = sorted(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    winners = [h for h, ok, _ in results if ok]
    assert len(winners) == 1
    # both saw the same holder: the winner
    assert {seen for _, _, seen in results} == {winners[0]}
    assert locks.current(tmp_settings, KEY).holder_id == winners[0]
