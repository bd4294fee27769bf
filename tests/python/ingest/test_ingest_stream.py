"""Large LeagueGameLog payloads are parsed as a stream and loaded in chunks (issue #11.5).

The chunking is made small here (40 rows, streamed from 0 bytes up) so that the real 2024-11-06
box scores span several chunks; the oracle is the whole-payload path on the same bytes, plus the
expected reasons written out by hand. The memory bound itself is measured in
tests/python/hardening/test_bounded_memory.py.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
from _ingest_helpers import dumps, replay_game_log

import python_jobs.landing as landing
import python_jobs.parsers.payloads as payloads
from python_jobs.landing import LandingSession
from python_jobs.scrapers.base import Fetched, ScrapeRequest
from python_jobs.warehouse.connection import connect

pytestmark = pytest.mark.timeout(300)
PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P"}


def _land(settings, body: bytes, params: dict) -> tuple:
    with connect(settings) as con:
        session = LandingSession(con, settings, command="test", transport="file")
        result, _ = session.land(Fetched(ScrapeRequest("stats_nba", "leaguegamelog", params), body, "t",
                                         settings.utcnow()))
        session.finish()
        rows = con.fetchall("select record_index, player_id, points from raw.nba_player_game_logs "
                           "where payload_id = ? order by record_index", [result.payload_id])
        quarantine = con.fetchall("select record_index, reason_code from raw.quarantine where payload_id = ? "
                                 "order by record_index", [result.payload_id])
        landed = con.fetchone("select count(*) from raw.landed_payloads where payload_id = ?",
                             [result.payload_id])[0]
    return result, rows, quarantine, landed


@pytest.fixture
def payload(tmp_settings) -> dict:
    p = replay_game_log(tmp_settings, date(2024, 11, 6))
    rs = p["resultSets"][0]
    rs["rowSet"].append(copy.deepcopy(rs["rowSet"][3]))  # a duplicate of row 3, in the last chunk
    return p


def test_streamed_chunks_load_what_the_whole_parse_loads(tmp_settings, payload, monkeypatch):
    n = len(payload["resultSets"][0]["rowSet"])
    assert n > 200
    whole = _land(tmp_settings, dumps(payload), {**PARAMS, "path": "whole"})
    monkeypatch.setattr(landing, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(payloads, "STREAM_CHUNK_ROWS", 40)
    streamed = _land(tmp_settings, dumps(payload), {**PARAMS, "path": "streamed"})
    for result, _rows, quarantine, landed in (whole, streamed):
        assert (result.n_records, result.n_valid, result.n_quarantined) == (n, n - 1, 1)
        assert quarantine == [(n - 1, "duplicate_record")]  # caught across chunks too
        assert landed == 1
    assert streamed[1] == whole[1]


def test_a_stream_that_is_not_strict_json_is_parsed_whole(tmp_settings, payload, monkeypatch):
    monkeypatch.setattr(landing, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(payloads, "STREAM_CHUNK_ROWS", 40)
    rs = payload["resultSets"][0]
    rs["rowSet"].pop()
    rs["rowSet"][150][rs["headers"].index("PTS")] = "__NAN__"  # in the 4th chunk: 3 were loaded
    body = dumps(payload).replace(b'"__NAN__"', b"NaN")
    result, rows, quarantine, landed = _land(tmp_settings, body, PARAMS)
    n = len(rs["rowSet"])
    assert quarantine == [(150, "non_finite_number")]
    assert (result.n_records, result.n_valid, len(rows), landed) == (n, n - 1, n - 1, 1)
    with connect(tmp_settings, read_only=True) as con:  # nothing left of the stopped stream
        assert con.fetchone("select count(*) from raw.nba_player_game_logs")[0] == n - 1


def test_records_of_a_stream_killed_before_its_payload_row_are_deleted(tmp_settings, payload):
    good = _land(tmp_settings, dumps(payload), PARAMS)
    with connect(tmp_settings) as con:
        # a chunk committed by a process killed before it wrote the payload row
        con.execute("insert into raw.nba_player_game_logs select * replace ('orphan' as payload_id) "
                    "from raw.nba_player_game_logs limit 5")
        con.execute("insert into raw.quarantine (quarantine_id, payload_id, scrape_run_id, record_kind, "
                    "reason_code, reason, quarantined_at) values ('q', 'orphan', 'dead-run', "
                    "'nba_player_game_logs', 'x', 'x', now())")
        LandingSession(con, tmp_settings, command="test", transport="file").finish()
        left = con.fetchone("select count(*) from raw.nba_player_game_logs where payload_id = 'orphan'")
        kept = con.fetchone("select count(*) from raw.nba_player_game_logs where payload_id = ?",
                           [good[0].payload_id])
        q = con.fetchone("select count(*) from raw.quarantine where payload_id = 'orphan'")
    assert left == (0,) and q == (0,)
    assert kept == (good[0].n_valid,)
