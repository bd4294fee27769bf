"""Phase 2 on real data through the real ingest (replay): one season of box scores, the bundled
prop lines and player registry landed up to 2025-03-18, built; rebuilt (nothing may change); then
the morning scrape of 2025-03-19 landed and built (only that scrape's rows may change).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from python_jobs.config import Settings
from python_jobs.dbt_runner import run_dbt
from python_jobs.warehouse.connection import connect
from tests.python.conftest import make_settings

DAY = date(2025, 3, 19)
SEASON = "2024-25"

# table -> (natural key columns, provenance columns that a re-landed identical record may change)
STAGING_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stg_nba__player_game_logs": (("game_id", "player_id"), ("source_payload_id", "scrape_run_id", "scraped_at")),
    "stg_nba__schedule_games": (("game_id",), ("source_payload_id", "scraped_at")),
    "stg_nba__players": (("player_id",), ("source_payload_id", "scraped_at")),
    "stg_odds__player_prop_lines": (("prop_line_id",), ("source_payload_id", "scraped_at")),
}

Snapshot = dict[str, dict[tuple, tuple[str, str]]]


def snapshot(settings: Settings) -> Snapshot:
    # (read-write like dbt-duckdb: one process may not open the file with two configurations)
    """table -> key -> (hash of the whole row, hash of the row without provenance columns)."""
    out: Snapshot = {}
    with connect(settings) as con:
        for table, (key, provenance) in STAGING_TABLES.items():
            keys = ", ".join(key)
            columns = [r[0] for r in con.fetchall(f"describe staging.{table}")]
            content = ", ".join(f"{c} := {c}" for c in columns if c not in provenance)
            rows = con.fetchall(f"""
                select {keys}, md5(cast(full_rows as varchar)) as row_hash,
                       md5(cast(struct_pack({content}) as varchar)) as content_hash
                from staging.{table} as full_rows
            """)
            out[table] = {tuple(r[: len(key)]): (r[-2], r[-1]) for r in rows}
            assert len(out[table]) == len(rows), f"{table}: duplicate natural keys"
    return out


def build(settings: Settings):
    return run_dbt(["build", "--selector", "phase2"], settings)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Snapshot, Snapshot]:
    """Landed through DAY-1 and built twice: (settings, after the first build, after the rebuild)."""
    from python_jobs.ingest import ingest_history

    settings = make_settings(tmp_path_factory.mktemp("staging_incremental"))
    report = ingest_history(settings, seasons=[SEASON], until=DAY - timedelta(days=1))
    assert report.n_records_valid > 25_000
    build(settings)
    first = snapshot(settings)
    build(settings)
    return settings, first, snapshot(settings)


@pytest.fixture(scope="module")
def landed_day(history) -> tuple[Settings, Snapshot, Snapshot, str]:
    """The morning scrape of DAY landed and built: (settings, before, after, its scrape_run_id)."""
    from python_jobs.ingest import land_day

    settings, _, before = history
    report = land_day(settings, DAY)
    build(settings)
    return settings, before, snapshot(settings), report.scrape_run_id


def _raw_keys(settings: Settings, sql: str, params: list) -> set[tuple]:
    with connect(settings) as con:
        return {tuple(r) for r in con.fetchall(sql, params)}


def test_history_is_staged_with_every_raw_record(history) -> None:
    settings, first, _ = history
    with connect(settings) as con:
        raw_logs = con.fetchall("select count(distinct (game_id, player_id)) from raw.nba_player_game_logs")
        raw_lines = con.fetchall("select count(*) from raw.odds_player_props")
        dates = con.fetchall("select min(game_date), max(game_date) from staging.stg_nba__player_game_logs")
    assert len(first["stg_nba__player_game_logs"]) == raw_logs[0][0]
    # every bundled line landed up to DAY-1 is a distinct (event, book, market, player, line, capture)
    assert len(first["stg_odds__player_prop_lines"]) == raw_lines[0][0] > 10_000
    assert dates[0] == (date(2024, 10, 22), DAY - timedelta(days=1))


def test_rebuild_changes_nothing(history) -> None:
    _, first, rerun = history
    for table in STAGING_TABLES:
        assert len(rerun[table]) == len(first[table]), table
        assert rerun[table] == first[table], f"{table} changed on a rebuild with no new raw rows"


def test_source_freshness_passes_right_after_ingest(history) -> None:
    settings, _, _ = history
    outcome = run_dbt(["source", "freshness", "--select", "source:nba", "source:odds", "source:ingest"], settings)
    statuses = {r.node.unique_id: str(r.status) for r in outcome.results if r.node.unique_id.startswith("source.")}
    assert {"source.nba_props.nba.player_game_logs", "source.nba_props.odds.player_props"} <= set(statuses)
    assert set(statuses.values()) == {"pass"}, statuses


def _diff(before: dict, after: dict) -> tuple[set, set, set]:
    added = set(after) - set(before)
    removed = set(before) - set(after)
    changed = {k for k in set(before) & set(after) if before[k][0] != after[k][0]}
    return added, removed, changed


def test_one_more_day_merges_only_that_days_box_scores(landed_day) -> None:
    settings, before, after, run_id = landed_day
    table = "stg_nba__player_game_logs"
    added, removed, changed = _diff(before[table], after[table])
    day_keys = _raw_keys(settings, "select game_id, player_id from raw.nba_player_game_logs where scrape_run_id = ?",
                         [run_id])
    assert day_keys, "the morning scrape landed no box scores"
    assert not removed
    # yesterday's results: new keys or re-landed keys, nothing else
    assert added | changed == day_keys
    # a re-landed identical record changes only its provenance (payload, run, scraped_at)
    assert all(before[table][k][1] == after[table][k][1] for k in changed)
    with connect(settings) as con:
        day_dates = con.fetchall(
            "select distinct game_date from staging.stg_nba__player_game_logs where scrape_run_id = ?", [run_id]
        )
    assert day_dates == [(DAY - timedelta(days=1),)]


def test_one_more_day_merges_only_that_days_lines_and_slate(landed_day) -> None:
    settings, before, after, run_id = landed_day
    added, removed, changed = _diff(before["stg_odds__player_prop_lines"], after["stg_odds__player_prop_lines"])
    assert len(added) > 500 and not removed and not changed
    with connect(settings) as con:
        new_line_dates = con.fetchall(
            "select distinct game_date from staging.stg_odds__player_prop_lines where scraped_at = "
            "(select max(scraped_at) from staging.stg_odds__player_prop_lines)")
        slate = con.fetchall(
            "select distinct game_date from staging.stg_nba__schedule_games where scraped_at = "
            "(select max(scraped_at) from staging.stg_nba__schedule_games)")
    assert new_line_dates == [(DAY,)]
    added, removed, changed = _diff(before["stg_nba__schedule_games"], after["stg_nba__schedule_games"])
    assert not removed
    assert slate == [(DAY,)]
    # only today's games were touched by today's scoreboard
    schedule_keys = _raw_keys(settings, "select game_id from raw.nba_schedule_games where scrape_run_id = ?", [run_id])
    assert added | changed <= schedule_keys
    assert before["stg_nba__players"] == after["stg_nba__players"]


def test_rebuild_after_the_new_day_changes_nothing(landed_day) -> None:
    settings, _, after, _ = landed_day
    build(settings)
    assert snapshot(settings) == after


def test_a_corrected_record_replaces_the_stored_row_and_nothing_else(landed_day) -> None:
    """A later payload correcting one box score (stats.nba.com does revise stats) wins the merge."""
    settings, _, _, _ = landed_day
    before = snapshot(settings)
    with connect(settings) as con:
        key = con.fetchall(
            "select game_id, player_id from raw.nba_player_game_logs "
            "where game_date = ? and fgm is not null order by game_id, player_id limit 1",
            [DAY - timedelta(days=2)])[0]
        con.execute(
            "insert into raw.nba_player_game_logs "
            "select * replace ('correction-payload' as payload_id, 'correction-run' as scrape_run_id, "
            "now() as scraped_at, points + 1 as points, ftm + 1 as ftm, fta + 1 as fta) "
            "from raw.nba_player_game_logs where game_id = ? and player_id = ? "
            "order by scraped_at desc limit 1", list(key))
    build(settings)
    after = snapshot(settings)
    table = "stg_nba__player_game_logs"
    added, removed, changed = _diff(before[table], after[table])
    assert (added, removed, changed) == (set(), set(), {tuple(key)})
    for other in STAGING_TABLES.keys() - {table}:
        assert after[other] == before[other], other
    with connect(settings) as con:
        points, payload = con.fetchall(
            "select points, source_payload_id from staging.stg_nba__player_game_logs "
            "where game_id = ? and player_id = ?", list(key))[0]
        raw_points = con.fetchall(
            "select points from raw.nba_player_game_logs where game_id = ? and player_id = ? "
            "and payload_id <> 'correction-payload' order by scraped_at desc limit 1", list(key))[0][0]
    assert (points, payload) == (raw_points + 1, "correction-payload")
