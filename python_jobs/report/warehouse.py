"""Read-only access to the warehouse for the report.

Only relations named in ``RELATIONS`` are ever queried (identifiers come from this allowlist, never
from input); whether each exists, and which columns it has, is read from ``information_schema``.
The report is built while other areas' tables may be missing or still changing shape, so every
reader asks for the columns it needs and the page explains what is missing instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from python_jobs.config import Settings
from python_jobs.warehouse import base
from python_jobs.warehouse.connection import connect

# key -> (schema, table). The only relations the report reads.
RELATIONS: dict[str, tuple[str, str]] = {
    "predictions": ("predictions", "player_prop_predictions"),
    "accuracy": ("grading", "prediction_accuracy"),
    "daily_performance": ("grading", "system_daily_performance"),
    "coverage": ("grading", "prediction_coverage"),
    "features": ("precompute", "ml_feature_store"),
    "player_games": ("analytics", "player_game_summary"),
    "consensus_lines": ("analytics", "player_consensus_lines"),
    "prop_lines": ("analytics", "player_prop_lines_resolved"),
    "schedule": ("staging", "stg_nba__schedule_games"),
    "teams": ("reference", "teams"),
    "quarantine": ("raw", "quarantine"),
    "scrape_runs": ("raw", "scrape_runs"),
    "landed_payloads": ("raw", "landed_payloads"),
    "execution_log": ("raw", "pipeline_execution_log"),
    "pipeline_runs": ("raw", "pipeline_runs"),
    "phase_completions": ("raw", "phase_completions"),
    "source_waits": ("raw", "source_waits"),
    "alerts": ("raw", "alerts"),
    "prediction_rejects": ("raw", "prediction_rejects"),
    "mon_duplicates": ("monitoring", "monitoring_duplicate_keys"),
    "mon_source_arrivals": ("monitoring", "monitoring_source_arrivals"),
    "mon_feature_staleness": ("monitoring", "monitoring_feature_staleness"),
    "mon_phase_completion": ("monitoring", "monitoring_phase_completion"),
    "mon_data_corrections": ("monitoring", "monitoring_data_corrections"),
    "mon_coverage": ("monitoring", "monitoring_prediction_coverage"),
}
# schemas whose every table is shown as-is on the data-health page (names read from the catalog)
GENERIC_SCHEMAS = ("monitoring",)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote(identifier: str) -> str:
    """Double-quote an identifier that already passed the allowlist/shape check."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"refusing identifier {identifier!r}")
    return f'"{identifier}"'


@dataclass
class Warehouse:
    """A read-only warehouse handle plus the catalog of what exists."""

    con: base.Warehouse
    database_found: bool = True
    _columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings) -> Warehouse:
        path: Path = settings.database_path
        if settings.engine == "duckdb" and not path.exists():
            from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse

            con: base.Warehouse = DuckDBWarehouse(":memory:", threads=settings.threads)  # empty catalog
            found = False
        else:
            con = connect(settings, read_only=True)
            found = True
        wh = cls(con=con, database_found=found)
        wh._load_catalog()
        return wh

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load_catalog(self) -> None:
        rows = self.con.fetchall(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() order by table_schema, table_name, ordinal_position"
        )
        for schema, table, column in rows:
            self._columns.setdefault((schema, table), []).append(column)

    # ---- catalog -------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return RELATIONS[key] in self._columns

    def columns(self, key: str) -> list[str]:
        return list(self._columns.get(RELATIONS[key], []))

    def has_columns(self, key: str, *names: str) -> bool:
        cols = set(self.columns(key))
        return all(n in cols for n in names)

    def first_column(self, key: str, candidates: Sequence[str]) -> str | None:
        """The first of ``candidates`` the relation has (column names differ between versions)."""
        cols = set(self.columns(key))
        return next((c for c in candidates if c in cols), None)

    def name(self, key: str) -> str:
        schema, table = RELATIONS[key]
        return f"{quote(schema)}.{quote(table)}"

    def generic_tables(self) -> list[tuple[str, str]]:
        """Tables of the schemas shown as-is (monitoring), as (schema, table)."""
        return sorted(
            (s, t) for (s, t) in self._columns
            if s in GENERIC_SCHEMAS and _IDENTIFIER.match(t)
        )

    def generic_columns(self, schema: str, table: str) -> list[str]:
        return list(self._columns.get((schema, table), []))

    # ---- queries -------------------------------------------------------------------------
    def query(self, sql: str, params: Iterable[object] = ()) -> pd.DataFrame:
        return self.con.fetch_df(sql, list(params))

    def select(self, key: str, wanted: Sequence[str], where: str = "", params: Iterable[object] = (),
               order_by: str = "") -> pd.DataFrame:
        """Columns of ``wanted`` that exist (missing ones come back as all-null columns)."""
        present = [c for c in wanted if c in set(self.columns(key))]
        if not present:
            return pd.DataFrame(columns=list(wanted))
        sql = f"select {', '.join(quote(c) for c in present)} from {self.name(key)}"
        if where:
            sql += f" where {where}"
        if order_by:
            sql += f" order by {order_by}"
        df = self.query(sql, params)
        for c in wanted:
            if c not in df.columns:
                df[c] = None
        return df[list(wanted)]
