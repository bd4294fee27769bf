"""One-season warehouses for the feature tests (2024-25: the season of the bundled prop lines)."""

from __future__ import annotations

from datetime import date

import pytest

from python_jobs.config import Settings
from tests.python.conftest import make_settings

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
    return ingest_and_build(make_settings(tmp_path_factory.mktemp("features_season")))
