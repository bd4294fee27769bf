"""DuckDBWarehouse: parameters, Arrow loads, MERGE upserts, transactions, errors; ``connect`` by target.

Every expected value is written out by hand (plain Python), never read back through the code
under test's own helpers.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from python_jobs.config import Settings
from python_jobs.warehouse.connection import connect
from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse
from python_jobs.warehouse.errors import (
    EngineNotAvailable,
    RelationNotFound,
    WarehouseFileConflict,
    WarehouseUnavailable,
)

T0 = datetime(2025, 3, 19, 23, 30, tzinfo=UTC)


@pytest.fixture
def wh(tmp_path: Path):
    w = DuckDBWarehouse(tmp_path / "wh.duckdb", threads=1)
    w.execute("create schema s")
    w.execute("create table s.t (k integer primary key, v varchar, d date, ts timestamptz, x double)")
    yield w
    w.close()


def rows(w: DuckDBWarehouse) -> list[tuple]:
    return w.fetchall("select k, v, d, ts, x from s.t order by k")


def test_session_is_utc_with_the_given_threads(wh):
    assert wh.scalar("select current_setting('TimeZone')") == "UTC"
    assert wh.scalar("select current_setting('threads')") == 1
    # a timestamptz renders in UTC: 23:30 UTC on the 19th is the 19th, not the 20th (Europe) or 18:30 (ET)
    assert wh.scalar("select strftime(?::timestamptz, '%Y-%m-%d %H:%M')", [T0]) == "2025-03-19 23:30"


def test_positional_parameters_round_trip_every_type(wh):
    wh.execute("insert into s.t values (?, ?, ?, ?, ?)", [1, "o'brien; drop table s.t", date(2025, 3, 19), T0, 2.5])
    wh.execute("insert into s.t values (?, ?, ?, ?, ?)", [2, None, None, None, None])
    assert rows(wh) == [
        (1, "o'brien; drop table s.t", date(2025, 3, 19), T0, 2.5),
        (2, None, None, None, None),
    ]
    assert wh.fetchone("select v from s.t where k = ?", [3]) is None
    assert wh.scalar("select count(*) from s.t where v is null") == 1
    assert wh.scalar("select ?::blob", [b"\x00\xff"]) == b"\x00\xff"
    assert wh.scalar("select ?::boolean and ?::boolean", [True, False]) is False
    assert wh.scalar("select ?::decimal(5, 2)", [Decimal("1.25")]) == Decimal("1.25")


def test_fetch_arrow_df_and_dicts_agree_with_the_rows(wh):
    wh.execute("insert into s.t values (1, 'a', '2025-03-19', '2025-03-19 23:30:00+00', 1.5), "
               "(2, 'b', '2025-03-20', null, null)")
    table = wh.fetch_arrow("select k, v, ts from s.t where k >= ? order by k", [1])
    assert table.column_names == ["k", "v", "ts"]
    assert table.column("k").to_pylist() == [1, 2]
    assert str(table.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    df = wh.fetch_df("select k, v from s.t order by k")
    assert df["v"].tolist() == ["a", "b"]
    assert wh.fetch_dicts("select k, v, ts from s.t order by k") == [
        {"k": 1, "v": "a", "ts": T0}, {"k": 2, "v": "b", "ts": None}]


def test_load_arrow_matches_columns_by_name_and_leaves_others_null(wh):
    wh.execute("insert into s.t (k, v) values (1, 'kept')")
    data = pa.table({
        "x": [0.5, None],                       # other order than the table
        "k": pa.array([2, 3], type=pa.int64()),  # wider type: cast on insert
        "ts": pa.array([T0, None], type=pa.timestamp("us", tz="UTC")),
        "v": ["two", "three"],
    })
    assert wh.load_arrow("s.t", data) == 2
    assert wh.load_arrow("s.t", data.slice(0, 0)) == 0
    assert rows(wh) == [(1, "kept", None, None, None), (2, "two", None, T0, 0.5), (3, "three", None, None, None)]


def test_load_arrow_refuses_a_column_name_that_is_not_a_plain_identifier(wh):
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        wh.load_arrow("s.t", pa.table({'k"; drop table s.t; --': [1]}))
    assert wh.table_exists("s.t")


def test_merge_arrow_updates_matches_and_inserts_the_rest(wh):
    wh.execute("insert into s.t (k, v, x) values (1, 'a', 1.0), (2, 'b', 2.0)")
    data = pa.table({"k": [2, 3], "v": ["B", "C"], "x": [20.0, 30.0]})
    assert wh.merge_arrow("s.t", data, ["k"]) == 2
    # oracle: a dict upsert in plain Python
    expected = {1: ("a", 1.0), 2: ("b", 2.0)}
    for k, v, x in zip([2, 3], ["B", "C"], [20.0, 30.0], strict=True):
        expected[k] = (v, x)
    assert wh.fetchall("select k, v, x from s.t order by k") == [(k, *expected[k]) for k in sorted(expected)]
    # a second identical merge changes nothing (idempotent)
    wh.merge_arrow("s.t", data, ["k"])
    assert wh.scalar("select count(*) from s.t") == 3


def test_merge_arrow_on_a_composite_key_and_key_only_data(wh):
    wh.execute("create table s.c (a integer, b varchar, n integer)")
    wh.execute("insert into s.c values (1, 'x', 10), (1, 'y', 20)")
    wh.merge_arrow("s.c", pa.table({"a": [1, 2], "b": ["y", "y"], "n": [21, 5]}), ["a", "b"])
    assert wh.fetchall("select a, b, n from s.c order by a, b") == [(1, "x", 10), (1, "y", 21), (2, "y", 5)]
    wh.execute("create table s.keys (a integer)")
    wh.merge_arrow("s.keys", pa.table({"a": [1, 1]}).slice(0, 1), ["a"])
    wh.merge_arrow("s.keys", pa.table({"a": [1, 2]}), ["a"])
    assert wh.fetchall("select a from s.keys order by a") == [(1,), (2,)]
    with pytest.raises(ValueError, match="key columns"):
        wh.merge_arrow("s.c", pa.table({"a": [1]}), ["b"])


def test_transaction_commits_together_or_rolls_back(wh):
    with wh.transaction():
        wh.execute("insert into s.t (k, v) values (1, 'a')")
        wh.load_arrow("s.t", pa.table({"k": [2], "v": ["b"]}))
    assert wh.fetchall("select k from s.t order by k") == [(1,), (2,)]

    with pytest.raises(RuntimeError, match="boom"), wh.transaction():
        wh.execute("insert into s.t (k, v) values (3, 'c')")
        wh.merge_arrow("s.t", pa.table({"k": [1], "v": ["changed"]}), ["k"])
        raise RuntimeError("boom")
    assert wh.fetchall("select k, v from s.t order by k") == [(1, "a"), (2, "b")]

    # a failing statement (duplicate primary key) rolls back the statements before it
    with pytest.raises(Exception, match="(?i)constraint"), wh.transaction():
        wh.execute("insert into s.t (k, v) values (4, 'd')")
        with wh.transaction():  # nested: part of the outer one
            wh.execute("insert into s.t (k, v) values (1, 'dup')")
    assert wh.fetchall("select k from s.t order by k") == [(1,), (2,)]
    # the handle is usable afterwards
    wh.execute("insert into s.t (k) values (5)")
    assert wh.scalar("select max(k) from s.t") == 5


def test_table_exists_and_missing_relations(wh):
    wh.execute("create view s.v as select k from s.t")
    assert wh.table_exists("s.t") and wh.table_exists("s.v")
    assert not wh.table_exists("s.nope") and not wh.table_exists("other.t")
    with pytest.raises(RelationNotFound, match="nope"):
        wh.fetchall("select * from s.nope")
    with pytest.raises(RelationNotFound, match="nope"):
        wh.fetch_arrow("select * from s.nope where k = ?", [1])


def test_read_only_open(tmp_path: Path):
    path = tmp_path / "ro.duckdb"
    with pytest.raises(WarehouseUnavailable, match="cannot open the warehouse"):
        DuckDBWarehouse(path, read_only=True)
    with DuckDBWarehouse(path) as w:
        w.execute("create table t (a integer)")
        w.execute("insert into t values (7)")
    with DuckDBWarehouse(path, read_only=True) as ro:
        assert ro.scalar("select a from t") == 7
        with pytest.raises(Exception, match="(?i)read-only"):
            ro.execute("insert into t values (8)")


def test_a_file_held_by_another_process_is_a_file_conflict(tmp_path: Path):
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseFileConflict, match="locked by another process"):
            DuckDBWarehouse(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with DuckDBWarehouse(path) as w:  # free again once the holder is gone
        assert w.scalar("select 1") == 1


def test_connect_opens_duckdb_for_a_duckdb_target_and_creates_the_raw_layer(tmp_settings):
    assert tmp_settings.engine == "duckdb"
    with connect(tmp_settings) as w:
        assert isinstance(w, DuckDBWarehouse) and w.engine == "duckdb"
        assert w.path == str(tmp_settings.database_path)
        assert w.table_exists("raw.pipeline_locks") and w.table_exists("raw.landed_payloads")
    with connect(tmp_settings, read_only=True) as ro:
        assert ro.read_only and ro.scalar("select count(*) from raw.pipeline_locks") == 0


def test_engine_follows_the_profile_type_of_the_target(tmp_path: Path):
    (tmp_path / "profiles.yml").write_text(
        "p:\n  target: a\n  outputs:\n"
        "    a: {type: duckdb, path: x.duckdb}\n"
        "    big: {type: bigquery, method: oauth, project: x, dataset: y}\n")
    assert Settings(home=tmp_path, dbt_target="a").engine == "duckdb"
    assert Settings(home=tmp_path, dbt_target="big").engine == "bigquery"
    assert Settings(home=tmp_path, dbt_target="unknown").engine == "duckdb"
    # the project's own profiles: dev/ci on DuckDB, prod on BigQuery
    assert [Settings(dbt_target=t).engine for t in ("dev", "ci", "prod")] == ["duckdb", "duckdb", "bigquery"]


def test_connect_to_bigquery_without_its_engine_fails_with_one_clear_line(tmp_settings, monkeypatch):
    # None in sys.modules makes the import fail as if the module (or the extra) were missing
    monkeypatch.setitem(sys.modules, "python_jobs.warehouse.bigquery_engine", None)
    prod = tmp_settings.model_copy(update={"dbt_target": "prod"})
    with pytest.raises(EngineNotAvailable) as info:
        connect(prod)
    message = str(info.value)
    assert "\n" not in message and "'prod' is BigQuery" in message and "uv sync --extra bigquery" in message


def test_reading_one_row_of_many_leaves_the_handle_ready_for_any_next_call(wh):
    wh.load_arrow("s.t", pa.table({"k": list(range(1, 2001)), "v": ["r"] * 2000}))
    assert wh.fetchone("select k from s.t order by k") == (1,)
    assert wh.table_exists("s.t")
    assert wh.fetch_dicts("select k from s.t where k = ?", [2]) == [{"k": 2}]
    wh.merge_arrow("s.t", pa.table({"k": [1], "v": ["m"]}), ["k"])
    assert wh.fetch_dicts("select v from s.t where k = ?", [1]) == [{"v": "m"}]
    # each of these would fail on an unfinished result of the previous statement
    assert wh.fetch_arrow("select count(*) as n from s.t").to_pylist() == [{"n": 2000}]
    wh.execute("update s.t set v = 'u' where k <= ?", [10])
    assert wh.fetch_dicts("select count(*) as n from s.t where v = ?", ["u"]) == [{"n": 10}]
    with wh.transaction():
        assert wh.fetchone("select k from s.t where k > ? order by k", [1990]) == (1991,)
        wh.execute("delete from s.t where k > ?", [1990])
    assert wh.scalar("select max(k) from s.t") == 1990
