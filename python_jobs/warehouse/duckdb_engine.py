"""``DuckDBWarehouse``: the ``Warehouse`` on a local DuckDB file (targets ``dev`` and ``ci``).

The only module that opens the warehouse file with ``duckdb.connect``. The session runs in UTC
with ``settings.threads`` threads. The file is ATTACHed (to an in-memory DuckDB, under its usual
catalog name, the file's stem) with the row group size of the dbt profile (``open_warehouse_file``):
every writer of the file, dbt or Python, writes row groups of the same size, so date-ordered
tables keep the narrow zone maps that let a daily run skip history (docs/performance.md). DuckDB's own errors that callers act on are translated into the
engine-neutral ones of ``python_jobs.warehouse.errors`` (file held by another process, missing
relation, missing file for a read-only open).
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb

from python_jobs.warehouse.base import Params, Warehouse
from python_jobs.warehouse.errors import (
    RelationNotFound,
    WarehouseFileConflict,
    WarehouseUnavailable,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_names = itertools.count()
_PROFILES = Path(__file__).resolve().parent.parent.parent / "profiles.yml"


@functools.lru_cache(maxsize=1)
def row_group_size() -> int:
    """Rows per row group of the warehouse file: THE value is the dbt profile's, the config of the
    plugin that attaches the file for dbt (profiles.yml, target dev: ``plugins[0].config.row_group_size``),
    so dbt and Python write alike."""
    import yaml

    profile = yaml.safe_load(_PROFILES.read_text())
    try:
        return int(profile["nba_props"]["outputs"]["dev"]["plugins"][0]["config"]["row_group_size"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise RuntimeError(f"{_PROFILES}: no plugin row_group_size in the dev target ({exc!r})") from exc


def catalog_name(path: str) -> str:
    """The catalog DuckDB names a database file by: its first non-empty dot-separated part
    ("nba_props.duckdb" -> nba_props), the name dbt-duckdb gives it too."""
    return Path(path).name.lstrip(".").split(".")[0]


def quoted_catalog(path: str) -> str:
    """``catalog_name(path)`` as a double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + catalog_name(path).replace('"', '""') + '"'


def attach_warehouse_file(con: duckdb.DuckDBPyConnection, path: str, *, rows_per_group: int,
                          read_only: bool = False) -> str:
    """ATTACH the warehouse file ``path`` to ``con`` under its catalog name with ``rows_per_group``
    rows per row group (an option only ATTACH takes, and only for that attachment); the quoted
    catalog. The one ATTACH of the warehouse, for Python (``open_warehouse_file``) and dbt (the
    profile's plugin, ``python_jobs/warehouse/dbt_plugin.py``)."""
    catalog = quoted_catalog(path)
    options = f"ROW_GROUP_SIZE {int(rows_per_group)}" + (", READ_ONLY" if read_only else "")
    con.execute(f"attach '{path.replace(chr(39), chr(39) * 2)}' as {catalog} ({options})")
    return catalog


# one in-memory DuckDB per (file, read_only) for the whole process, as duckdb.connect(path) shares
# one instance per file: each Warehouse gets its own connection (cursor) to it; the instance (and
# the file's lock) is released with the last connection
_instances: dict[tuple[str, bool], list[Any]] = {}
_instances_lock = threading.Lock()


def open_warehouse_file(path: str, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, tuple[str, bool] | None]:
    """A connection whose default catalog is the warehouse file ``path``, ATTACHed with
    ``row_group_size()`` (a ROW_GROUP_SIZE only ATTACH takes, and only for that attachment), and
    the key to pass to ``release_warehouse_file`` on close. ``:memory:``: a plain in-memory database."""
    if path == ":memory:":
        return duckdb.connect(":memory:"), None
    key = (str(Path(path).resolve()), read_only)
    catalog = quoted_catalog(path)
    with _instances_lock:
        entry = _instances.get(key)
        if entry is None:
            base = duckdb.connect(":memory:")
            try:
                attach_warehouse_file(base, path, rows_per_group=row_group_size(), read_only=read_only)
            except BaseException:
                base.close()
                raise
            entry = _instances[key] = [base, 0]
        con = entry[0].cursor()
        entry[1] += 1
    con.execute(f"use {catalog}")
    return con, key


@contextmanager
def warehouse_file(path: str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """``open_warehouse_file`` for the length of a ``with`` block (short schema checks)."""
    con, key = open_warehouse_file(path, read_only)
    try:
        yield con
    finally:
        release_warehouse_file(con, key)


def release_warehouse_file(con: duckdb.DuckDBPyConnection, key: tuple[str, bool] | None) -> None:
    """Close a connection of ``open_warehouse_file``; the last one closes the instance."""
    con.close()
    if key is None:
        return
    with _instances_lock:
        entry = _instances.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del _instances[key]
            entry[0].close()


def quote_ident(name: str) -> str:
    """A double-quoted identifier; only plain names (letters, digits, underscore) are accepted."""
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def quote_table(table: str) -> str:
    """``schema.name`` (or ``name``) quoted part by part."""
    return ".".join(quote_ident(part) for part in table.split("."))


def is_file_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


class DuckDBWarehouse(Warehouse):
    engine: ClassVar[str] = "duckdb"

    def __init__(self, path: Path | str, *, read_only: bool = False, threads: int = 2):
        self.path = str(path)
        self.read_only = read_only
        if self.path != ":memory:" and not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con, instance_key = open_warehouse_file(self.path, read_only)
        except duckdb.IOException as exc:
            if is_file_conflict(exc):
                raise WarehouseFileConflict(f"warehouse {self.path} is locked by another process: {exc}") from exc
            raise WarehouseUnavailable(f"cannot open the warehouse {self.path}: {exc}") from exc
        # closes the connection (and the instance with the last one) also when never close()d
        self._release = weakref.finalize(self, release_warehouse_file, self._con, instance_key)
        self._depth = 0
        self._con.execute("set timezone = 'UTC'")
        self._con.execute(f"set threads = {int(threads)}")
        self._con.execute("set enable_progress_bar = false")

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection: for DuckDB-only tests and tooling (e.g. registering a
        DataFrame as a view). Pipeline modules use the ``Warehouse`` methods, which every engine has."""
        return self._con

    @classmethod
    def from_settings(cls, settings: Any, *, read_only: bool = False) -> DuckDBWarehouse:
        return cls(settings.database_path, read_only=read_only, threads=settings.threads)

    # ------------------------------------------------------------------ statements
    def _run(self, sql: str, params: Params) -> duckdb.DuckDBPyConnection:
        try:
            return self._con.execute(sql, list(params) if params is not None else None)
        except duckdb.CatalogException as exc:
            if "does not exist" in str(exc):
                raise RelationNotFound(str(exc).splitlines()[0]) from exc
            raise

    def execute(self, sql: str, params: Params = None) -> None:
        self._run(sql, params).complete()

    def fetchall(self, sql: str, params: Params = None) -> list[tuple]:
        return self._run(sql, params).fetchall()

    def fetchone(self, sql: str, params: Params = None) -> tuple | None:
        result = self._run(sql, params)
        row = result.fetchone()
        result.complete()  # no unfinished result left behind (it would block the next query)
        return row

    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table:
        try:  # a relation converts to Arrow without the extra copy of a DB-API result
            return self._con.sql(sql, params=list(params) if params is not None else None).to_arrow_table()
        except duckdb.CatalogException as exc:
            if "does not exist" in str(exc):
                raise RelationNotFound(str(exc).splitlines()[0]) from exc
            raise

    def fetch_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        # DuckDB's own conversion: the same dtypes the callers had before the boundary existed
        return self._run(sql, params).df()

    # ------------------------------------------------------------------ bulk writes
    @contextmanager
    def _registered(self, data: Any) -> Iterator[str]:
        name = f"_wh_in_{next(_names)}"
        self._con.register(name, data)
        try:
            yield name
        finally:
            self._con.unregister(name)

    def load_arrow(self, table: str, data: pa.Table) -> int:
        if data.num_rows == 0:
            return 0
        cols = ", ".join(quote_ident(c) for c in data.column_names)
        with self._registered(data) as src:
            self.execute(f"insert into {quote_table(table)} ({cols}) select {cols} from {src}")
        return data.num_rows

    def merge_arrow(self, table: str, data: pa.Table, keys: Sequence[str]) -> int:
        if not keys:
            raise ValueError(f"merge into {table} needs at least one key column")
        missing = [k for k in keys if k not in data.column_names]
        if missing:
            raise ValueError(f"merge into {table}: key columns {missing} are not in the data")
        if data.num_rows == 0:
            return 0
        cols = [quote_ident(c) for c in data.column_names]
        on = " and ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
        others = [quote_ident(c) for c in data.column_names if c not in keys]
        matched = (f"when matched then update set {', '.join(f'{c} = s.{c}' for c in others)} "
                   if others else "")
        with self._registered(data) as src:
            self.execute(
                f"merge into {quote_table(table)} t using {src} s on {on} {matched}"
                f"when not matched then insert ({', '.join(cols)}) values ({', '.join('s.' + c for c in cols)})",
                None,
            )
        return data.num_rows

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[DuckDBWarehouse]:
        if self._depth:  # nested: part of the enclosing transaction
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._con.execute("begin transaction")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._con.execute("rollback")
            raise
        self._depth = 0
        self._con.execute("commit")

    # ------------------------------------------------------------------ schema
    def table_exists(self, table: str) -> bool:
        schema, _, name = table.rpartition(".")
        sql = "select count(*) from information_schema.tables where table_name = ?"
        params: list[Any] = [name]
        if schema:
            sql += " and table_schema = ?"
            params.append(schema)
        return bool(self.scalar(sql, params))

    def close(self) -> None:
        self._release()  # once: a second close() does nothing
