"""``target.*`` (lint only): a DuckDB dev target."""

database = "nba_props"
schema = "main"
type = "duckdb"  # noqa: A001 - mirrors dbt's target.type
name = "dev"
threads = 2
