"""player_season_summary (issue 10, bounded reads): one row per player, season and name with the
season totals, the stand-in for the reads of the whole box-score history.

On three real seasons (2022-25) after a daily run of 2025-03-19:
- oracle: the table recomputed in pandas from analytics.player_game_summary (counts, means, last
  team, names, dates), and its key (player_id, season, player_name) is unique;
- a daily (incremental) run equals a --full-refresh of the same state;
- a corrected name (a player's box-score rows of 2024-25 re-merged under another name) leaves no
  stale row, and a season without new rows is not rebuilt (a marker on 2022-23 survives).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from python_jobs.config import Settings
from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse
from tests.python.conftest import copy_warehouse
from tests.python.features.conftest import HISTORY_RUN_DATE

KEY = ["player_id", "season", "player_name"]
RUN_VARS = {"run_date": HISTORY_RUN_DATE.isoformat()}


def _frame(settings: Settings, sql: str, params: list | None = None) -> pd.DataFrame:
    wh = DuckDBWarehouse.from_settings(settings, read_only=True)
    try:
        return wh.fetch_df(sql, params or [])
    finally:
        wh.close()


def _summary(settings: Settings) -> pd.DataFrame:
    frame = _frame(settings, "select * from analytics.player_season_summary")
    return frame.sort_values(KEY).reset_index(drop=True)


def _oracle(games: pd.DataFrame) -> pd.DataFrame:
    """The summary recomputed in pandas from the box-score rows."""
    games = games.sort_values(["player_id", "season", "game_date", "game_id"])
    per_season = games.groupby(["player_id", "season"]).agg(
        games=("game_id", "size"), points_avg=("points", "mean"), minutes_avg=("minutes", "mean"),
        usage_rate_avg=("usage_rate", "mean"), minutes_rank_avg=("minutes_rank_in_team", "mean"),
        first_game_date=("game_date", "min"), last_game_date=("game_date", "max"),
        last_team_id=("team_id", "last"), source_scraped_at=("source_scraped_at", "max")).reset_index()
    names = games[["player_id", "season", "player_name"]].drop_duplicates()
    out = names.merge(per_season, on=["player_id", "season"], how="inner")
    out["season_start_year"] = out["season"].str[:4].astype(int)
    return out.sort_values(KEY).reset_index(drop=True)


@pytest.mark.timeout(1800)
def test_one_row_per_player_season_and_name_with_the_season_totals(history_daily_run) -> None:
    after = history_daily_run["after"]
    got = _summary(after)
    games = _frame(after, "select player_id, season, player_name, game_id, game_date, team_id, points, minutes, "
                          "usage_rate, minutes_rank_in_team, source_scraped_at from analytics.player_game_summary")
    expected = _oracle(games)
    assert not got.duplicated(KEY).any()
    assert set(got["season"]) == {"2022-23", "2023-24", "2024-25"}
    assert len(got) == len(expected) > 1500
    for column in ["player_id", "season", "player_name", "games", "last_team_id", "season_start_year"]:
        assert got[column].tolist() == expected[column].tolist(), column
    for column in ["first_game_date", "last_game_date"]:
        assert (pd.to_datetime(got[column]) == pd.to_datetime(expected[column])).all(), column
    assert (got["source_scraped_at"] == expected["source_scraped_at"]).all()
    # exact averages in integer micro-units: within 1e-6 of the float mean
    for column in ["points_avg", "minutes_avg", "usage_rate_avg", "minutes_rank_avg"]:
        pd.testing.assert_series_equal(got[column], expected[column], check_exact=False, atol=1e-6, rtol=0,
                                       check_names=False)
    # the daily run re-merged the box scores of the day before (newer source_scraped_at): 2024-25
    # was rebuilt from them, the older seasons are as they were
    before = _summary(history_daily_run["before"])
    assert got.loc[got["season"] == "2024-25", "source_scraped_at"].max() \
        > before.loc[before["season"] == "2024-25", "source_scraped_at"].max()
    old = ["2022-23", "2023-24"]
    pd.testing.assert_frame_equal(got[got["season"].isin(old)].reset_index(drop=True),
                                  before[before["season"].isin(old)].reset_index(drop=True), check_exact=True)


@pytest.mark.timeout(1800)
def test_a_daily_run_equals_a_full_refresh(history_daily_run, tmp_path: Path) -> None:
    from python_jobs.dbt_runner import run_dbt

    settings = copy_warehouse(history_daily_run["after"], tmp_path / "full")
    incremental = _summary(settings)
    run_dbt(["run", "--select", "player_season_summary", "--full-refresh"], settings, vars=RUN_VARS)
    full = _summary(settings)
    assert len(full) > 1500
    pd.testing.assert_frame_equal(incremental, full, check_exact=True)


@pytest.mark.timeout(1800)
def test_a_corrected_name_leaves_no_stale_row_and_other_seasons_stay(history_daily_run, tmp_path: Path) -> None:
    from python_jobs.dbt_runner import run_dbt

    settings = copy_warehouse(history_daily_run["after"], tmp_path / "corrected")
    wh = DuckDBWarehouse.from_settings(settings)
    try:
        player_id, old_name = wh.fetchone(
            "select player_id, max(player_name) from analytics.player_game_summary where season = '2024-25' "
            "group by player_id having count(*) > 40 order by player_id limit 1")
        # a re-scrape corrected his name on every 2024-25 box score (merged now: newest source_scraped_at)
        wh.execute("update analytics.player_game_summary set player_name = ?, source_scraped_at = ? "
                   "where player_id = ? and season = '2024-25'",
                   ["Corrected Name", datetime.now(UTC), player_id])
        # a marker on an older season: no new rows there, so the run must not rebuild it
        marked = wh.fetchone("select player_id, player_name from analytics.player_season_summary "
                             "where season = '2022-23' order by player_id limit 1")
        wh.execute("update analytics.player_season_summary set games = -1 "
                   "where season = '2022-23' and player_id = ? and player_name = ?", list(marked))
    finally:
        wh.close()
    run_dbt(["run", "--select", "player_season_summary"], settings, vars=RUN_VARS)
    incremental = _summary(settings)
    his = incremental[(incremental["player_id"] == player_id) & (incremental["season"] == "2024-25")]
    assert his["player_name"].tolist() == ["Corrected Name"], (old_name, his["player_name"].tolist())
    is_marked = (incremental["player_id"] == marked[0]) & (incremental["season"] == "2022-23") \
        & (incremental["player_name"] == marked[1])
    assert incremental.loc[is_marked, "games"].tolist() == [-1]

    run_dbt(["run", "--select", "player_season_summary", "--full-refresh"], settings, vars=RUN_VARS)
    full = _summary(settings)
    assert full.loc[is_marked, "games"].iloc[0] > 0
    pd.testing.assert_frame_equal(incremental[~is_marked], full[~is_marked], check_exact=True)
