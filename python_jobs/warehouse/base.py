"""The one warehouse boundary of the Python side: every read and write of the warehouse goes here.

Two implementations, picked by the same target as dbt (``Settings.dbt_target``; profiles.yml):

- ``DuckDBWarehouse`` (``dev``/``ci``): a DuckDB file, one writer process at a time
  (``python_jobs.ops.guard`` serialises writers).
- ``BigQueryWarehouse`` (``prod``): google-cloud-bigquery; loads are load jobs (never streaming
  inserts, whose buffer blocks UPDATE/MERGE for up to 90 minutes), every query is parameterised,
  errors are classified into ``TransientError`` (retried with backoff) and ``PermanentError``
  (fail fast).

SQL convention for callers: write DuckDB-dialect SQL with positional ``?`` parameters and
schema-qualified table names (``raw.alerts``, ``predictions.player_prop_predictions``). The
BigQuery implementation transpiles it once per statement (sqlglot) and maps each schema to its
dataset. Never build SQL from data: values travel as parameters, identifiers come from code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

Params = Sequence[Any] | None


class Warehouse(ABC):
    """A connection-like handle on the warehouse (open it with ``python_jobs.warehouse.connect``)."""

    engine: ClassVar[str]  # 'duckdb' | 'bigquery'

    # ------------------------------------------------------------------ statements
    @abstractmethod
    def execute(self, sql: str, params: Params = None) -> None:
        """Run one statement (DDL, INSERT/UPDATE/DELETE/MERGE) with positional parameters."""

    @abstractmethod
    def fetchall(self, sql: str, params: Params = None) -> list[tuple]:
        """Run a query and return every row as a tuple."""

    def fetchone(self, sql: str, params: Params = None) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    @abstractmethod
    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table:
        """Run a query and return an Arrow table."""

    def fetch_df(self, sql: str, params: Params = None) -> pd.DataFrame:
        return self.fetch_arrow(sql, params).to_pandas()

    def fetch_dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Every row as a ``{column: value}`` dict (Python values)."""
        return self.fetch_arrow(sql, params).to_pylist()

    # ------------------------------------------------------------------ bulk writes
    @abstractmethod
    def load_arrow(self, table: str, data: pa.Table) -> int:
        """Append ``data`` to ``table`` (``schema.name``); columns matched by name. A load job on
        BigQuery. Returns the number of rows written."""

    @abstractmethod
    def merge_arrow(self, table: str, data: pa.Table, keys: Sequence[str]) -> int:
        """Upsert ``data`` into ``table`` on ``keys`` (update every other column of a matching
        row, insert the rest) in one MERGE. Returns the number of input rows."""

    # ------------------------------------------------------------------ transactions
    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """Statements inside commit together or not at all."""

    # ------------------------------------------------------------------ schema
    @abstractmethod
    def table_exists(self, table: str) -> bool:
        """True when ``schema.name`` exists."""

    @abstractmethod
    def close(self) -> None: ...

    # ``with connect(settings) as wh: ...`` closes the handle on the way out
    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
