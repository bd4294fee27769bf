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


HISTORY_SEASONS = ["2022-23", "2023-24", "2024-25"]
HISTORY_RUN_DATE = date(2025, 3, 19)


@pytest.fixture(scope="session")
def history_daily_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three seasons (2022-25) built to the day before HISTORY_RUN_DATE, then that date's daily run
    (landing, staging, phases 3-4 with run_date), each statement of phases 3-4 profiled. Returns
    {"before": settings before the run, "after": settings after it, "tally": the profiler tally
    (python_jobs.bench.scans.profiled_dbt)}. Read-only: copy the warehouses."""
    from datetime import timedelta

    from python_jobs.bench.scans import profiled_dbt
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history, land_day
    from tests.python.conftest import copy_warehouse

    before = make_settings(tmp_path_factory.mktemp("history_before"))
    ingest_history(before, seasons=HISTORY_SEASONS, until=HISTORY_RUN_DATE - timedelta(days=1))
    run_dbt(["build", "--selector", "phase2", "--exclude-resource-type", "test"], before)
    build_features(before)
    after = copy_warehouse(before, tmp_path_factory.mktemp("history_after"))
    land_day(after, HISTORY_RUN_DATE)
    run_dbt(["run", "--select", "tag:phase2"], after, vars={"run_date": HISTORY_RUN_DATE.isoformat()})
    with profiled_dbt() as tally:
        build_features(after, vars={"run_date": HISTORY_RUN_DATE.isoformat()})
    return {"before": before, "after": after, "tally": tally}
