"""A partial box score (issue #11, point 3): a LeagueGameLog listing only some players of a game, as a
partial or mid-game response does, used to give team pace of 160-190, fail `accepted_range` on pace
and skip 136 downstream nodes. Now the team-game is flagged incomplete, left out of every team
aggregate (exactly as if the game had no box score yet), an alert is raised, and the build passes.

Real case: the 2025-03-10 LeagueGameLog of the bundled data, one team of one game cut to 3 players."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from python_jobs.config import Settings
from python_jobs.warehouse.connection import connect
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.features.conftest import ingest_and_build
from tests.python.ingest._ingest_helpers import close_connections, dumps, land_one, replay_game_log

DAY = date(2025, 3, 10)
GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P",
             "DateFrom": DAY.isoformat(), "DateTo": DAY.isoformat()}
# what a partial payload leaves out is compared with a warehouse that never saw the game
COMPARED = ("points_allowed_last_10", "defensive_rating_last_10", "pace_last_10",
            "opponent_three_point_attempt_rate_last_10", "opponent_free_throw_attempt_rate_last_10",
            "points_allowed_to_lead_last_10", "points_allowed_to_starter_last_10",
            "points_allowed_to_bench_last_10", "games_in_window", "league_defensive_rating_to_date",
            "league_pace_to_date", "league_three_point_attempt_rate_to_date",
            "league_free_throw_attempt_rate_to_date")


def _payload(settings: Settings, keep) -> dict:
    payload = replay_game_log(settings, DAY)
    rs = payload["resultSets"][0]
    rs["rowSet"] = [r for r in rs["rowSet"] if keep(dict(zip(rs["headers"], r, strict=True)))]
    return payload


def _land_and_build(settings: Settings, payload: dict) -> None:
    from python_jobs.dbt_runner import run_dbt

    land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    close_connections()
    # with the data tests: a partial game must not fail accepted_range on pace or skip anything
    run_dbt(["build", "--selector", "through_phase4"], settings)


def _profiles(settings: Settings) -> dict:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        rows = con.execute(f"select team_id, game_date, {', '.join(COMPARED)} from precompute.team_defense_profile "
                           "where game_date > ? order by team_id, game_date", [DAY]).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return ingest_and_build(make_settings(tmp_path_factory.mktemp("partial_base")), until=DAY - timedelta(days=1))


def test_partial_box_score_is_flagged_left_out_and_alerted(base: Settings, tmp_path: Path) -> None:
    from python_jobs.ops.monitor import incomplete_box_score_alerts

    full = replay_game_log(base, DAY)
    rs = full["resultSets"][0]
    rows = [dict(zip(rs["headers"], r, strict=True)) for r in rs["rowSet"]]
    game_id = rows[0]["GAME_ID"]
    team = rows[0]["TEAM_ID"]
    assert len({r["GAME_ID"] for r in rows}) > 2
    team_rows = [r for r in rows if r["GAME_ID"] == game_id and r["TEAM_ID"] == team]
    kept_players = {r["PLAYER_ID"] for r in team_rows[:3]}
    assert len(team_rows) >= 8

    # the same day without that game at all: the reference for "left out of the aggregates"
    without = copy_warehouse(base, tmp_path / "without")
    _land_and_build(without, _payload(without, lambda r: r["GAME_ID"] != game_id))

    partial = copy_warehouse(base, tmp_path / "partial")
    _land_and_build(partial, _payload(partial, lambda r: r["GAME_ID"] != game_id or r["TEAM_ID"] != team
                                      or r["PLAYER_ID"] in kept_players))

    with duckdb.connect(str(partial.database_path), read_only=True) as con:
        flags = con.execute("select team_id, is_complete, incomplete_reason, n_players, pace, offensive_rating "
                            "from analytics.team_offense_game_summary where game_id = ? order by team_id",
                            [game_id]).fetchall()
        by_team = {f[0]: f[1:] for f in flags}
        assert by_team[team][:3] == (False, "too_few_players", 3)
        (other,) = [t for t in by_team if t != team]
        assert by_team[other][:2] == (False, "opponent_rows_incomplete") and by_team[other][2] >= 8
        assert all(f[3] is None and f[4] is None for f in by_team.values())  # no pace, no rating
        # every other game of the day is complete, with a real pace
        others = con.execute("select count(*), count(*) filter (where is_complete and pace between 80 and 130) "
                             "from analytics.team_offense_game_summary where game_date = ? and game_id <> ?",
                             [DAY, game_id]).fetchone()
        assert others[0] > 0 and others[0] == others[1]
    with connect(partial, read_only=True) as wh:
        alerts = incomplete_box_score_alerts(wh, DAY + timedelta(days=1))
    assert sorted((a.alert_type, a.game_date) for a in alerts) == [("incomplete_box_score", DAY)] * 2
    assert any("too_few_players: 3 players" in a.message for a in alerts)

    # team aggregates of the following dates: identical to never having seen the game
    expected, got = _profiles(without), _profiles(partial)
    assert len(expected) > 10 and got.keys() == expected.keys()
    diff = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    assert not diff, f"{len(diff)} team-dates differ, e.g. {next(iter(diff.items()))}"
