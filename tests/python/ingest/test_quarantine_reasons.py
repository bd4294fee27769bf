"""Each quarantined record's reason is the one of the check that gave its reason code.

Base payload: the first eight real LeagueGameLog rows of 2024-10-22 (bundled box scores, replayed);
six of them get one corrupted cell each, each failing a different check. Oracle: the code expected
for that corruption and the corrupted header (and value, where the reason quotes it) in the reason
text, written here by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from _ingest_helpers import _CONNECTIONS, close_connections, dumps, land_one, replay_game_log

from python_jobs.config import PROJECT_ROOT, Settings

GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P"}

# record index -> (header, corrupted value, expected code, words the reason must contain)
CORRUPTIONS = {
    1: ("GAME_ID", "22400061", "bad_game_id", ["GAME_ID"]),
    2: ("WL", "T", "invalid_value", ["WL", "T"]),
    3: ("MIN", 75, "minutes_out_of_range", ["MIN", "75"]),
    4: ("TEAM_ID", 1610612799, "unknown_team", ["TEAM_ID", "1610612799"]),
    5: ("PTS", -3, "negative_stat", ["PTS"]),
    6: ("GAME_DATE", "yesterday", "invalid_date", ["GAME_DATE"]),
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield Settings(home=PROJECT_ROOT, warehouse_dir=tmp_path_factory.mktemp("reasons_wh"), dbt_target="ci")
    close_connections()


def test_every_reason_belongs_to_its_code(settings: Settings) -> None:
    payload = replay_game_log(settings, date(2024, 10, 22))
    rs = payload["resultSets"][0]
    rs["rowSet"] = rs["rowSet"][:8]
    for i, (header, value, _code, _words) in CORRUPTIONS.items():
        rs["rowSet"][i][rs["headers"].index(header)] = value

    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    assert (result.n_records, result.n_valid, valid) == (8, 2, 2)
    assert quarantined == [("nba_player_game_logs", i, c[2]) for i, c in CORRUPTIONS.items()]

    con = _CONNECTIONS[str(settings.database_path)][1]
    reasons = dict(con.fetchall("select record_index, reason from raw.quarantine where payload_id = ?",
                                [result.payload_id]))
    for i, (_header, _value, code, words) in CORRUPTIONS.items():
        missing = [w for w in words if w not in reasons[i]]
        assert not missing, f"record {i} ({code}): reason {reasons[i]!r} lacks {missing}"
