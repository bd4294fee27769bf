"""DuckDB connections. One writer at a time per file: dbt and Python never write concurrently."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from python_jobs.config import Settings, get_settings
from python_jobs.warehouse.schema import ensure_raw_schema


@contextmanager
def connect(settings: Settings | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, creating the raw schema on first write."""
    settings = settings or get_settings()
    path: Path = settings.database_path
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("set timezone = 'UTC'")
        con.execute(f"set threads = {int(settings.threads)}")
        if not read_only:
            ensure_raw_schema(con)
        yield con
    finally:
        con.close()
