"""Issue #10: the rows a daily run scans do not grow with history (docs/performance.md).

On the real 2024-25 season built through Phase 4 (DuckDB):
- the feature tables are written in game_date order, in row groups of the profile's size, so that
  each row group covers its own date range (min/max zone maps that do not overlap);
- a read of a date window scans only the row groups of that window: DuckDB's profiler counts
  fewer rows than the table holds, and at least the rows of the window (counted in pandas);
- the data tests of a daily run (run_date) filter the tested model's game_date to the run window
  on DuckDB too (checked with sqlglot on the compiled SQL), and a full run (no run_date) does not.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlglot
import yaml
from sqlglot import exp

from python_jobs.config import PROJECT_ROOT
from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse
from tests.python.conftest import copy_warehouse

RUN_DATE = date(2025, 3, 19)
WINDOW_DAYS = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["incremental_window_days"]
WINDOW_START = (RUN_DATE - timedelta(days=WINDOW_DAYS)).isoformat()
PROFILE_ROW_GROUP = yaml.safe_load((PROJECT_ROOT / "profiles.yml").read_text())[
    "nba_props"]["outputs"]["dev"]["plugins"][0]["config"]["row_group_size"]
ORDERED_TABLES = ("analytics.player_game_summary", "analytics.player_team_on_date", "precompute.player_daily_cache",
                  "precompute.player_composite_factors", "precompute.ml_feature_store",
                  "staging.stg_nba__player_game_logs")


@pytest.fixture(scope="module")
def warehouse(season_warehouse, tmp_path_factory):
    settings = copy_warehouse(season_warehouse, tmp_path_factory.mktemp("scan_layout"))
    wh = DuckDBWarehouse.from_settings(settings)
    yield settings, wh
    wh.close()


def _row_groups(wh: DuckDBWarehouse, table: str) -> list[tuple[int, date, date, int]]:
    """(row group, min game_date, max game_date, rows) per row group, from DuckDB's storage info."""
    rows = wh.fetchall(
        "select row_group_id, stats, count from pragma_storage_info(?) "
        "where column_name = 'game_date' and segment_type <> 'VALIDITY' order by row_group_id, segment_id",
        [table])
    groups: dict[int, list] = {}
    for group, stats, count in rows:
        entry = groups.setdefault(group, [group, stats["min"], stats["max"], 0])
        entry[1], entry[2], entry[3] = min(entry[1], stats["min"]), max(entry[2], stats["max"]), entry[3] + count
    return [tuple(g) for g in groups.values()]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("table", ORDERED_TABLES)
def test_feature_tables_are_date_ordered_in_small_row_groups(warehouse, table) -> None:
    _, wh = warehouse
    total = wh.scalar(f"select count(*) from {table}")
    groups = _row_groups(wh, table)
    assert sum(g[3] for g in groups) == total
    assert all(g[3] <= PROFILE_ROW_GROUP for g in groups), [g[3] for g in groups]
    assert len(groups) >= -(-total // PROFILE_ROW_GROUP) >= 2  # a season is more than one row group
    # in date order: each row group starts on or after the previous one ends
    for previous, current in zip(groups, groups[1:], strict=False):
        assert previous[2] <= current[1], f"{table}: row groups {previous[0]} and {current[0]} overlap"


@pytest.mark.timeout(900)
def test_a_window_read_skips_the_older_row_groups(warehouse) -> None:
    _, wh = warehouse
    frame = wh.fetch_df("select game_date from analytics.player_game_summary")
    window_start = date(2025, 3, 25)
    in_window = int((frame["game_date"].dt.date >= window_start).sum())
    assert 0 < in_window < len(frame) // 4
    con = wh.duckdb
    con.execute("pragma enable_profiling = 'no_output'")
    try:
        con.execute("select count(*), max(points) from analytics.player_game_summary where game_date >= ?",
                    [window_start]).fetchall()
        profile = json.loads(con.get_profiling_information(format="json"))
    finally:
        con.execute("pragma disable_profiling")
    scanned = int(profile["query"]["total_rows_scanned"] if "query" in profile else profile["total_rows_scanned"])
    # the window's rows are read, plus at most one partly-outside row group on its edge
    assert in_window <= scanned <= in_window + PROFILE_ROW_GROUP
    assert scanned < len(frame)


def _compiled_tests(settings, vars: dict | None) -> tuple[dict, dict[str, str]]:
    from python_jobs.dbt_runner import run_dbt

    run_dbt(["compile", "--select", "resource_type:test", "--threads", "1"], settings, vars=vars, write_json=True)
    manifest = json.loads((settings.dbt_target_path / "manifest.json").read_text())
    return manifest, {uid: n["compiled_code"] for uid, n in manifest["nodes"].items()
                      if uid.startswith("test.") and n.get("compiled_code")}


def unwindowed_reads(manifest: dict, compiled: dict[str, str], checked: list[str]) -> list[str]:
    """Tests that read a model with a game_date column without `game_date >= <window start>` in the
    query block that scans it."""
    dated = {n["alias"] for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and "game_date" in n["columns"]
             and n["config"]["materialized"] in ("table", "incremental")}
    problems = []
    for uid, sql in sorted(compiled.items()):
        for tree in sqlglot.parse(sql, read="duckdb"):
            for table in tree.find_all(exp.Table):
                if table.name not in dated or not table.args.get("db"):
                    continue
                checked.append(uid)
                select = table.find_ancestor(exp.Select)
                where = select.args.get("where") if select is not None else None
                if where is None or not any(
                        isinstance(node.this, exp.Column) and node.this.name == "game_date"
                        and WINDOW_START in node.expression.sql("duckdb") for node in where.find_all(exp.GTE)):
                    problems.append(f"{uid}: reads {table.name} without the run window")
    return problems


@pytest.mark.timeout(900)
def test_daily_run_data_tests_read_the_run_window_on_duckdb(warehouse) -> None:
    settings, wh = warehouse
    wh.close()  # dbt opens the file
    manifest, daily = _compiled_tests(settings, {"run_date": RUN_DATE.isoformat()})
    checked: list[str] = []
    problems = unwindowed_reads(manifest, daily, checked)
    assert len(set(checked)) > 150  # the tests of staging, analytics and precompute models
    assert not problems, f"{len(problems)} unwindowed test reads:\n" + "\n".join(problems[:30])
    # a full run (no run_date) tests everything: no window anywhere
    _, full = _compiled_tests(settings, None)
    assert not any(f"'{WINDOW_START}'" in sql for sql in full.values())
    assert unwindowed_reads(manifest, full, [])


# -- bounded reads of a daily run over three seasons (history_daily_run: 2022-25 built to the day
# before 2025-03-19, then that day's run of phases 3-4 profiled statement by statement). Each read
# below used to scan older history; the oracles are row counts of the warehouse in pandas.

def _scans(tally: dict, node: str, table: str) -> list[dict]:
    return [s for s in tally["scans"] if s["node"] == node and s["table"] == table]


@pytest.fixture(scope="module")
def box_scores(history_daily_run):
    """game_date, season and source_scraped_at of every player_game_summary row after the run, and
    the newest source_scraped_at before it."""
    settings = history_daily_run["after"]
    wh = DuckDBWarehouse.from_settings(settings, read_only=True)
    try:
        frame = wh.fetch_df("select game_date, season, source_scraped_at from analytics.player_game_summary")
    finally:
        wh.close()
    wh = DuckDBWarehouse.from_settings(history_daily_run["before"], read_only=True)
    try:
        watermark = wh.scalar("select max(source_scraped_at) from analytics.player_game_summary")
    finally:
        wh.close()
    frame["game_date"] = frame["game_date"].dt.date
    return frame, watermark


@pytest.mark.timeout(1800)
def test_the_carry_over_reads_the_season_summary_not_the_box_score_history(history_daily_run, box_scores) -> None:
    tally = history_daily_run["tally"]
    frame, _ = box_scores
    this_season = int((frame["season"] == "2024-25").sum())
    assert this_season < len(frame) // 2
    scans = _scans(tally, "player_context_features", "player_game_summary")
    # only the recent last games (from the refresh date minus the availability look-back): less
    # than this season; it used to read two seasons whole plus the ids of every earlier season
    assert scans and sum(s["rows_scanned"] for s in scans) <= this_season
    assert all("game_date" in s["filters"] for s in scans), scans
    assert _scans(tally, "player_context_features", "player_season_summary")


@pytest.mark.timeout(1800)
def test_name_resolution_reads_a_year_of_box_scores(history_daily_run, box_scores) -> None:
    tally = history_daily_run["tally"]
    frame, _ = box_scores
    year = int((frame["game_date"] >= RUN_DATE - timedelta(days=365)).sum())
    assert year + PROFILE_ROW_GROUP < len(frame)
    scans = _scans(tally, "player_prop_lines_resolved", "player_game_summary")
    # the candidates' last games (365 days before the day's lines), plus one row group on the edge;
    # the known names come from the season summary (it used to read every box score)
    assert scans and sum(s["rows_scanned"] for s in scans) <= year + PROFILE_ROW_GROUP
    assert _scans(tally, "player_prop_lines_resolved", "player_season_summary")


@pytest.mark.timeout(1800)
def test_team_totals_read_only_the_changed_games_dates(history_daily_run, box_scores) -> None:
    tally = history_daily_run["tally"]
    frame, watermark = box_scores
    changed_from = frame.loc[frame["source_scraped_at"] > watermark, "game_date"].min()
    assert changed_from >= RUN_DATE - timedelta(days=7)
    recent = int((frame["game_date"] >= changed_from).sum())
    scans = _scans(tally, "team_offense_game_summary", "player_game_summary")
    # the changed games' rows (a game_id list gave the scan no range: the date bound does), read
    # with one row group on the edge; besides, one scan finds the changed rows (source_scraped_at)
    scoped = [s for s in scans if "game_date" in s["filters"]]
    assert len(scoped) == 1 and len(scans) == 2, scans
    assert scoped[0]["rows_scanned"] <= recent + PROFILE_ROW_GROUP
    defence = _scans(tally, "team_defense_game_summary", "team_offense_game_summary")
    assert len([s for s in defence if "game_date" in s["filters"]]) == 1, defence


@pytest.mark.timeout(1800)
def test_team_defense_profile_reads_only_the_rebuilt_seasons(history_daily_run) -> None:
    tally = history_daily_run["tally"]
    for table in ("team_game_context", "team_offense_game_summary", "team_defense_game_summary"):
        scans = _scans(tally, "team_defense_profile", table)
        assert scans and all("season" in s["filters"] or "game_date" in s["filters"] for s in scans), (table, scans)


@pytest.mark.timeout(1800)
def test_the_season_summary_rebuilds_only_the_changed_season(history_daily_run, box_scores) -> None:
    tally = history_daily_run["tally"]
    frame, _ = box_scores
    this_season = int((frame["season"] == "2024-25").sum())
    scans = _scans(tally, "player_season_summary", "player_game_summary")
    rebuilt = [s for s in scans if "season" in s["filters"]]
    assert len(rebuilt) == 1 and rebuilt[0]["rows_scanned"] <= this_season + PROFILE_ROW_GROUP, scans
