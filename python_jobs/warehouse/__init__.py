"""Warehouse access: DuckDB connection, raw-layer DDL, small helpers."""
