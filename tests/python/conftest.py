"""Shared fixtures: isolated settings per test and one fully built warehouse per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT, Settings, reset_settings

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


def make_settings(warehouse_dir: Path, **overrides) -> Settings:
    """Settings pointing at a private warehouse directory (own DuckDB file, dbt target, models)."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    overrides.setdefault("duckdb_path", warehouse_dir / "nba_props.duckdb")
    return Settings(home=PROJECT_ROOT, warehouse_dir=warehouse_dir, dbt_target="ci", **overrides)


@pytest.fixture
def tmp_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A fresh empty warehouse for one test; the environment points at it too."""
    settings = make_settings(tmp_path / "warehouse")
    monkeypatch.setenv("NBA_PROPS_WAREHOUSE_DIR", str(settings.warehouse_dir))
    monkeypatch.setenv("NBA_PROPS_DBT_TARGET", "ci")
    reset_settings()
    yield settings
    reset_settings()


@pytest.fixture(scope="session")
def full_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """All ten bundled seasons and all bundled lines ingested through replay and built through
    Phase 4, once per test session. Treat it as read-only; copy it with ``copy_warehouse``
    before changing anything."""
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history

    settings = make_settings(tmp_path_factory.mktemp("full_warehouse"))
    ingest_history(settings)
    run_dbt(["build", "--selector", "through_phase4"], settings)
    return settings


def copy_warehouse(source: Settings, destination: Path) -> Settings:
    """A private, writable copy of a built warehouse (DuckDB file only; dbt target is rebuilt)."""
    import shutil

    from python_jobs.warehouse.duckdb_engine import warehouse_file

    # fold any write-ahead log into the file before copying it; opened as the pipeline opens it
    # (a plain duckdb.connect would checkpoint with DuckDB's default row group size and merge the
    # small row groups the daily-run pruning relies on)
    with warehouse_file(str(source.database_path)) as con:
        con.execute("checkpoint")
    settings = make_settings(destination)
    shutil.copyfile(source.database_path, settings.database_path)
    return settings



def project_copy(destination: Path) -> Path:
    """The files dbt reads (dbt_project.yml, profiles, models, macros, seeds, snapshots, the data
    tests' SQL and YAML) in a private copy of the project, to edit without touching the checkout."""
    import shutil

    destination.mkdir(parents=True)
    for name in ("dbt_project.yml", "selectors.yml", "profiles.yml"):
        shutil.copy2(PROJECT_ROOT / name, destination / name)
    for folder in ("models", "macros", "seeds", "snapshots", "analyses"):
        if (PROJECT_ROOT / folder).is_dir():
            shutil.copytree(PROJECT_ROOT / folder, destination / folder)
    (destination / "tests").mkdir()
    for path in (PROJECT_ROOT / "tests").rglob("*"):
        if path.is_file() and path.suffix in {".sql", ".yml"} and "python" not in path.parts:
            target = destination / path.relative_to(PROJECT_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return destination

@pytest.fixture(scope="session")
def bq_emulator() -> Iterator[str]:
    """REST endpoint of a local BigQuery emulator started for this test session (project
    ``test-project``). In CI (``CI=true``) a missing or broken emulator fails the tests; locally
    they are skipped with the reason (install it with ``bash .ci/bq-emulator.sh``)."""
    from tests.python.bigquery.emulator import emulator_for_tests

    with emulator_for_tests() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def bq_settings(bq_emulator: str) -> Settings:
    """Settings of the prod (BigQuery) target pointing at the emulator."""
    return Settings(home=PROJECT_ROOT, dbt_target="prod", bq_project="test-project",
                    bq_api_endpoint=bq_emulator, bq_max_attempts=3, bq_job_timeout_s=120)
