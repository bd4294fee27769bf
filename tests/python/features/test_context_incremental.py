"""player_context_features is incremental (issue 10, bounded reads): a daily run rebuilds the dates
from the refresh date reading only the recent daily cache rows, two seasons of box scores and the
line boards. Oracle: a --full-refresh build of the same warehouse state, compared in pandas."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from python_jobs.config import Settings
from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.features.conftest import build_features
from tests.python.features.test_run_order import _run_date

DAY = date(2025, 3, 19)
# three seasons: the carry-over reads the previous season, the rookie prior each player's first one
SEASONS = ["2022-23", "2023-24", "2024-25"]


OLD_DATE = date(2025, 1, 15)  # long before the run's refresh date


def _table(settings: Settings) -> pd.DataFrame:
    wh = DuckDBWarehouse.from_settings(settings, read_only=True)
    try:
        frame = wh.fetch_df("select * from precompute.player_context_features")
    finally:
        wh.close()
    return frame.sort_values(["player_id", "game_date"]).reset_index(drop=True)


def _mark_old_date(settings: Settings) -> int:
    """projected_points = -1 (no projection is negative) on OLD_DATE's rows; returns their count."""
    wh = DuckDBWarehouse.from_settings(settings)
    try:
        wh.execute("update precompute.player_context_features set projected_points = -1 where game_date = ?",
                   [OLD_DATE])
        return int(wh.scalar("select count(*) from precompute.player_context_features where game_date = ?",
                             [OLD_DATE]))
    finally:
        wh.close()


@pytest.mark.timeout(1200)
def test_daily_incremental_run_equals_a_full_refresh(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history

    base = make_settings(tmp_path_factory.mktemp("context_base"))
    ingest_history(base, seasons=SEASONS, until=DAY - timedelta(days=1))
    run_dbt(["build", "--selector", "phase2", "--exclude-resource-type", "test"], base)
    build_features(base)
    daily = copy_warehouse(base, tmp_path / "daily")
    before = _table(daily)
    # a marker on an old date: a daily run leaves dates before its refresh date as they are
    assert _mark_old_date(daily) > 100
    _run_date(daily, DAY)
    incremental = _table(daily)
    marked = incremental["game_date"] == pd.Timestamp(OLD_DATE)
    assert (incremental.loc[marked, "projected_points"] == -1).all()

    build_features(daily, "--full-refresh", vars={"run_date": DAY.isoformat()})
    full = _table(daily)

    # the comparison is not vacuous: the run's date is there, with absences and carry-over
    today = full[full["game_date"] == pd.Timestamp(DAY)]
    assert len(today) > 100
    assert (today["teammates_absent"] > 0).any()
    assert today["prev_season_games"].notna().any() and today["prev_season_games"].isna().any()
    assert full["game_date"].min() < pd.Timestamp(date(2023, 1, 1))
    # rookies of this season (no previous season) get the prior of last season's first-year players
    rookies = today[today["prev_season_games"].isna()]
    assert rookies["points_prior"].notna().all()

    # the full refresh rebuilt the marked date as it was before the marker
    old = full["game_date"] == pd.Timestamp(OLD_DATE)
    pd.testing.assert_frame_equal(full[old].reset_index(drop=True),
                                  before[before["game_date"] == pd.Timestamp(OLD_DATE)].reset_index(drop=True),
                                  check_exact=True)
    assert list(incremental.columns) == list(full.columns)
    assert len(incremental) == len(full)
    pd.testing.assert_frame_equal(incremental[~marked].reset_index(drop=True), full[~old].reset_index(drop=True),
                                  check_exact=True)
