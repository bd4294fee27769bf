"""Builders of real-data payloads for the ingest tests (rows come from the bundled data)."""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.landing import LandingSession
from python_jobs.scrapers import endpoints as ep
from python_jobs.scrapers.base import Fetched, ScrapeRequest, ScrapeResult
from python_jobs.scrapers.replay import LEAGUEGAMELOG_LIVE_HEADERS, ReplayTransport
from python_jobs.warehouse.connection import connect

SAMPLES = PROJECT_ROOT / "data" / "api_samples"
ODDS_SAMPLE = SAMPLES / "odds_api" / "event_odds_player_points_f54c4a22568ce9dc33fb410d1b0e75e9_ORL_at_CLE_2024-02-23.json.gz"
ODDS_SAMPLE_2 = SAMPLES / "odds_api" / "event_odds_player_points_f9f3f99b5124a4ecf984003f0af23d2e_BKN_at_TOR_2024-02-23.json.gz"
SCOREBOARD_SAMPLE = SAMPLES / "stats_nba" / "scoreboardv2_2026-02-22.json.gz"


def read_gz_json(path: Path) -> Any:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def replay_game_log(settings: Settings, day: date, season: str = "2024-25") -> dict:
    """The replayed LeagueGameLog (bundled layout) of one date, as a dict."""
    transport = ReplayTransport(settings, as_of=datetime(2026, 1, 1, tzinfo=UTC))
    fetched = transport.fetch(ep.league_game_log(season, date_from=day, date_to=day))
    return json.loads(fetched.body)


def to_live_layout(payload: dict) -> dict:
    """The same rows in the live layout: FANTASY_PTS and VIDEO_AVAILABLE added, columns reordered."""
    rs = payload["resultSets"][0]
    rows = [dict(zip(rs["headers"], r, strict=True)) for r in rs["rowSet"]]
    for r in rows:
        r["FANTASY_PTS"] = round(r["PTS"] + 1.2 * r["REB"] + 1.5 * r["AST"], 1)
        r["VIDEO_AVAILABLE"] = 1
    headers = list(reversed(LEAGUEGAMELOG_LIVE_HEADERS))  # a different column order on purpose
    out = copy.deepcopy(payload)
    out["resultSets"][0] = {"name": "LeagueGameLog", "headers": headers, "rowSet": [[r[h] for h in headers] for r in rows]}
    return out


def small_players(n_rows: int = 3) -> dict:
    """The real CommonAllPlayers payload (2025-26) trimmed to its first ``n_rows`` players."""
    payload = read_gz_json(SAMPLES.parent / "reference" / "commonallplayers_2025-26.json.gz")
    payload["resultSets"][0]["rowSet"] = payload["resultSets"][0]["rowSet"][:n_rows]
    return payload


def small_event_odds(n_players: int = 3) -> dict:
    """The real ORL @ CLE event odds trimmed to one bookmaker and ``n_players`` Over/Under pairs."""
    event = read_gz_json(ODDS_SAMPLE)
    book = event["bookmakers"][0]
    book["markets"][0]["outcomes"] = book["markets"][0]["outcomes"][: 2 * n_players]
    event["bookmakers"] = [book]
    return event


_CONNECTIONS: dict[str, Any] = {}


def land_one(settings: Settings, source: str, endpoint: str, params: dict, body: str | bytes
             ) -> tuple[ScrapeResult, list[tuple], int]:
    """Land one payload in its own run; (result, quarantine rows (record_kind, record_index, reason_code),
    records of that payload in its raw table). One connection per warehouse is reused (speed)."""
    key = str(settings.database_path)
    if key not in _CONNECTIONS:
        cm = connect(settings)
        _CONNECTIONS[key] = (cm, cm.__enter__())
    con = _CONNECTIONS[key][1]
    session = LandingSession(con, settings, command="test", transport="file")
    fetched = Fetched(ScrapeRequest(source, endpoint, params), body, "test", settings.utcnow())  # type: ignore[arg-type]
    result, _ = session.land(fetched)
    session.finish()
    q = con.fetchall("select record_kind, record_index, reason_code from raw.quarantine where payload_id = ? "
                    "order by record_index", [result.payload_id])
    table = {"leaguegamelog": "nba_player_game_logs", "event_odds": "odds_player_props",
             "commonallplayers": "nba_players", "scoreboardv2": "nba_schedule_games",
             "scheduleleaguev2": "nba_schedule_games"}.get(endpoint)
    valid = con.fetchone(f"select count(*) from raw.{table} where payload_id = ?",
                        [result.payload_id])[0] if table else 0
    return result, q, valid


def close_connections() -> None:
    while _CONNECTIONS:
        _, (cm, _con) = _CONNECTIONS.popitem()
        cm.__exit__(None, None, None)


def read_body_of(settings: Settings, payload_id: str) -> bytes | None:
    from python_jobs.landing import read_body

    key = str(settings.database_path)
    if key in _CONNECTIONS:
        return read_body(_CONNECTIONS[key][1], payload_id)
    with connect(settings) as con:
        return read_body(con, payload_id)


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def landed_event_odds(settings: Settings, min_books: int = 3) -> tuple[str, dict, dict]:
    """The latest real landed event-odds snapshot with at least ``min_books`` books:
    (payload_id, request params, body), params and body parsed from their JSON."""
    from python_jobs.landing import read_body

    with connect(settings) as con:
        payload_id, params = con.fetchone(
            "select p.payload_id, p.params_json from raw.landed_payloads p where p.endpoint = 'event_odds' "
            "and p.duplicate_of_payload_id is null and (select count(distinct r.bookmaker_key) from "
            "raw.odds_player_props r where r.payload_id = p.payload_id) >= ? "
            "order by p.scraped_at desc, p.payload_id limit 1", [min_books])
        body = read_body(con, payload_id)
    return payload_id, json.loads(params), json.loads(body)
