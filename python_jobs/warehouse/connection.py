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
    """Open the warehouse, creating the raw layer (through dbt) first when it is missing."""
    settings = settings or get_settings()
    path: Path = settings.database_path
    path.parent.mkdir(parents=True, exist_ok=True)
    if not read_only:
        ensure_raw_schema(settings=settings)  # dbt creates the raw layer before the file is opened
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("set timezone = 'UTC'")
        con.execute(f"set threads = {int(settings.threads)}")
        yield con
    finally:
        con.close()
