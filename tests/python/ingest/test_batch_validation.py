"""Batch-level validation at the edge (issue #11, point 1): input valid one record at a time but
wrong together with the schedule or with what is already landed is quarantined, the rest lands,
and the later builds keep passing their data tests.

Real cases rebuilt from the bundled data:
- the 2025-03-10 LeagueGameLog with one game's rows moved to a game id no schedule knows;
- a real landed event-odds payload landed again under a new event id (same snapshot time)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from python_jobs.config import Settings
from python_jobs.warehouse.connection import connect
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.features.conftest import ingest_and_build
from tests.python.ingest._ingest_helpers import (
    close_connections,
    dumps,
    land_one,
    landed_event_odds,
    replay_game_log,
)

DAY = date(2025, 3, 10)
GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P",
             "DateFrom": DAY.isoformat(), "DateTo": DAY.isoformat()}
FAKE_GAME_ID = "0022409999"
# the consensus without latest_captured_at (a later snapshot of the event legitimately moves it)
CONSENSUS = ("select player_id, game_id, game_date, consensus_line_points, n_books, bookmaker_keys, over_price, "
             "under_price from analytics.player_consensus_lines order by all")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return ingest_and_build(make_settings(tmp_path_factory.mktemp("batch_base")), until=DAY - timedelta(days=1))


def _query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_bundled_history_trips_no_batch_check(base: Settings) -> None:
    """The real data (NBA Cup knockout games are missing from the schedule, and land) is clean."""
    assert _query(base, "select count(*) from raw.quarantine where reason_code in "
                  "('game_not_in_schedule', 'inconsistent_game', 'duplicate_event', 'implausible_line')") == [(0,)]
    cup = _query(base, "select count(distinct game_id) from raw.nba_player_game_logs l where not exists "
                 "(select 1 from raw.nba_schedule_games s where s.game_id = l.game_id)")[0][0]
    assert cup > 0


def test_a_game_id_matching_no_scheduled_game_is_quarantined(base: Settings, tmp_path: Path) -> None:
    from python_jobs.dbt_runner import run_dbt

    settings = copy_warehouse(base, tmp_path / "fake_game")
    payload = replay_game_log(settings, DAY)
    rs = payload["resultSets"][0]
    gid = rs["headers"].index("GAME_ID")
    real_game = rs["rowSet"][0][gid]
    moved = [i for i, r in enumerate(rs["rowSet"]) if r[gid] == real_game]
    for i in moved:
        rs["rowSet"][i][gid] = FAKE_GAME_ID
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    close_connections()
    assert sorted(i for _, i, _ in quarantined) == moved
    assert {(k, code) for k, _, code in quarantined} == {("nba_player_game_logs", "game_not_in_schedule")}
    assert valid == len(rs["rowSet"]) - len(moved) > 0
    # the rest of the day landed and Phase 2-4 with every data test still pass
    run_dbt(["build", "--selector", "through_phase4"], settings)
    assert _query(settings, "select count(*) from staging.stg_nba__player_game_logs where game_id = ?",
                  [FAKE_GAME_ID]) == [(0,)]
    assert _query(settings, "select count(distinct game_id) from staging.stg_nba__player_game_logs "
                  "where game_date = ?", [DAY])[0][0] == len({r[gid] for r in rs["rowSet"]}) - 1


def test_an_event_landed_again_under_a_new_id_is_quarantined(base: Settings, tmp_path: Path) -> None:
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.landing import read_body

    settings = copy_warehouse(base, tmp_path / "dup_event")
    with connect(settings) as con:
        payload_id, params = con.fetchone(
            "select p.payload_id, p.params_json from raw.landed_payloads p where p.endpoint = 'event_odds' "
            "and p.duplicate_of_payload_id is null and (select count(*) from raw.odds_player_props r "
            "where r.payload_id = p.payload_id) > 20 order by p.scraped_at desc, p.payload_id limit 1")
        body = read_body(con, payload_id)
    event = json.loads(body)
    inner = event.get("data", event)  # historical snapshots wrap the event: {"timestamp", "data"}
    inner["id"] = "0" * 32
    params = {**json.loads(params), "event_id": inner["id"]}

    def main_line_groups() -> list[tuple]:
        return _query(settings, "select count(*), count(*) filter (where n > 1) from (select count(*) as n from "
                      "staging.stg_odds__player_prop_lines where is_main_line group by player_name_raw, game_date, "
                      "bookmaker_key, market_key, captured_at)")

    before = main_line_groups()
    result, quarantined, valid = land_one(settings, "odds_api", "event_odds", params, dumps(event))
    close_connections()
    # every record that was valid the first time is now a duplicate_event (none lands)
    assert valid == 0
    assert sum(code == "duplicate_event" for _, _, code in quarantined) > 20
    run_dbt(["build", "--selector", "phase2"], settings)
    assert main_line_groups() == before and before[0][1] == 0


def test_a_line_far_from_the_other_books_is_quarantined(base: Settings, tmp_path: Path) -> None:
    """The 14.5 -> 0.25 case: a later snapshot of a real event in which one book's two-sided line for
    one player is 0.25. That record is quarantined; the consensus lines do not move."""
    from python_jobs.dbt_runner import run_dbt

    settings = copy_warehouse(base, tmp_path / "implausible")
    _, params, event = landed_event_odds(settings, min_books=3)
    run_dbt(["run", "--select", "tag:phase2", "player_prop_lines_resolved", "team_game_context",
             "player_consensus_lines", "+player_consensus_lines"], settings)
    before = _query(settings, CONSENSUS)
    inner = event.get("data", event)
    outcomes = inner["bookmakers"][0]["markets"][0]["outcomes"]
    player = outcomes[0]["description"]
    pair = [o for o in outcomes if o["description"] == player and o["point"] == outcomes[0]["point"]]
    assert {o["name"] for o in pair} == {"Over", "Under"}
    for o in pair:
        o["point"] = 0.25
    # a later snapshot of the same event (historical payloads carry it as "timestamp")
    assert "timestamp" in event
    later = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")) + timedelta(minutes=5)
    event["timestamp"] = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    result, quarantined, valid = land_one(settings, "odds_api", "event_odds", params, dumps(event))
    close_connections()
    assert [code for _, _, code in quarantined if code == "implausible_line"] == ["implausible_line"]
    assert valid > 0
    run_dbt(["build", "--select", "tag:phase2", "player_consensus_lines", "+player_consensus_lines"], settings)
    assert _query(settings, CONSENSUS) == before
