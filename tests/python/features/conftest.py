"""One-season warehouses for the feature tests (2024-25: the season of the bundled prop lines)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from python_jobs.config import Settings
from tests.python.conftest import make_settings

SEASON_DB = "nba_props.duckdb"


def private_settings(warehouse_dir: Path) -> Settings:
    """make_settings with an explicit DuckDB path: run_dbt exports NBA_PROPS_DUCKDB_PATH into the
    process environment, and Settings() would otherwise pick up the previous warehouse's file."""
    return make_settings(warehouse_dir, duckdb_path=warehouse_dir / SEASON_DB)


def copy_private(source: Settings, destination: Path) -> Settings:
    """A writable copy of a built warehouse's DuckDB file AND its write-ahead log: dbt keeps its
    in-process connection open, so recent changes may still sit in ``<file>.wal``."""
    settings = private_settings(destination)
    shutil.copyfile(source.database_path, settings.database_path)
    wal = Path(f"{source.database_path}.wal")
    if wal.exists():
        shutil.copyfile(wal, f"{settings.database_path}.wal")
    return settings

SEASON = "2024-25"


def build_features(settings: Settings, *extra: str, vars: dict | None = None) -> None:
    """Run phases 3 and 4 (models only: the data tests run in dbt build elsewhere)."""
    from python_jobs.dbt_runner import run_dbt

    run_dbt(["run", "--select", "tag:phase3", "tag:phase4", *extra], settings, vars=vars)


def ingest_and_build(settings: Settings, until: date | None = None) -> Settings:
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history

    ingest_history(settings, seasons=[SEASON], until=until)
    run_dbt(["build", "--selector", "phase2", "--exclude-resource-type", "test"], settings)
    build_features(settings)
    return settings


@pytest.fixture(scope="session")
def season_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The 2024-25 season and all bundled lines, built through Phase 4. Read-only: copy it."""
    return ingest_and_build(private_settings(tmp_path_factory.mktemp("features_season")))
