"""``DuckDBWarehouse``: the ``Warehouse`` on a local DuckDB file (targets ``dev`` and ``ci``).

The only module that opens the warehouse file with ``duckdb.connect``. The session runs in UTC
with ``settings.threads`` threads. DuckDB's own errors that callers act on are translated into the
engine-neutral ones of ``python_jobs.warehouse.errors`` (file held by another process, missing
relation, missing file for a read-only open).
"""

from __future__ import annotations

import itertools
import re
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
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            if is_file_conflict(exc):
                raise WarehouseFileConflict(f"warehouse {self.path} is locked by another process: {exc}") from exc
            raise WarehouseUnavailable(f"cannot open the warehouse {self.path}: {exc}") from exc
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
        self._con.close()
