"""Fixtures of the BigQuery engine tests (the emulator fixtures live in tests/python/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from python_jobs.config import Settings
from python_jobs.warehouse.bigquery_engine import BigQueryWarehouse

DATASETS = ("raw", "staging", "analytics", "precompute", "predictions", "grading", "monitoring",
            "reference", "snapshots")


@pytest.fixture(scope="session")
def bq_datasets(bq_settings: Settings) -> tuple[str, ...]:
    """Every dataset of the warehouse, created once on the session's emulator."""
    warehouse = BigQueryWarehouse(bq_settings)
    try:
        for dataset in DATASETS:
            warehouse.execute(f"create schema if not exists {dataset}")
    finally:
        warehouse.close()
    return DATASETS


@pytest.fixture
def bq(bq_settings: Settings, bq_datasets: tuple[str, ...]) -> Iterator[BigQueryWarehouse]:
    """A BigQuery warehouse handle on the session's emulator (tables: create them in the test)."""
    warehouse = BigQueryWarehouse(bq_settings)
    yield warehouse
    warehouse.close()
