"""The edge checks and the Great Expectations suites come from the same field rules
(config/validation/<kind>.yml): they must give the same verdict on every corruption class.

Base records are real: three Over/Under pairs of the recorded ORL @ CLE Odds API event odds,
three LeagueGameLog rows of 2024-10-22 (bundled box scores, replayed, in the live
layout) and
three rows of the recorded CommonAllPlayers response. Each class changes ONE field of record 1 (null,
empty, wrong JSON type, fraction in an integer, out of range, too long, NUL or bidirectional
control characters, bad pattern, value not allowed; and legitimate variants that must pass). The
edge verdict is the real landing (``raw.quarantine`` or the raw table); the GX verdict is the
generated suite run on the same record. Every class also states the verdict expected (the oracle,
by hand), so a class on which both validators are wrong together fails too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date

import pytest
from _ingest_helpers import (
    close_connections,
    dumps,
    land_one,
    replay_game_log,
    small_event_odds,
    small_players,
    to_live_layout,
)

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.validation.spec import load_spec

pytestmark = pytest.mark.timeout(600)
GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P"}
BAD, OK = False, True


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    wh = tmp_path_factory.mktemp("agreement_wh")
    yield Settings(home=PROJECT_ROOT, warehouse_dir=wh, dbt_target="ci")
    close_connections()


@pytest.fixture(scope="module")
def game_log(settings: Settings) -> dict:
    payload = replay_game_log(settings, date(2024, 10, 22))
    payload["resultSets"][0]["rowSet"] = payload["resultSets"][0]["rowSet"][:3]
    return to_live_layout(payload)   # the live layout has every field (FANTASY_PTS, VIDEO_AVAILABLE)


@pytest.fixture(scope="module")
def players() -> dict:
    return small_players(3)


# (class id, header, new value or a function of the original value, expected verdict); a function
# re-types the record's own value (e.g. ``float``) so that no cross-field rule is touched
GAME_LOG_CLASSES = [
    ("pts_null", "PTS", None, BAD), ("pts_string", "PTS", "12", BAD), ("pts_fraction", "PTS", 12.5, BAD),
    ("pts_negative", "PTS", -3, BAD), ("pts_bool", "PTS", True, BAD), ("pts_list", "PTS", [1], BAD),
    ("pts_over_100", "PTS", 150, BAD), ("pts_whole_float", "PTS", float, OK),
    ("player_id_null", "PLAYER_ID", None, BAD), ("player_id_text", "PLAYER_ID", "abc", BAD),
    ("player_id_fraction", "PLAYER_ID", 1.5, BAD), ("player_id_object", "PLAYER_ID", {"id": 1}, BAD),
    ("player_id_whole_float", "PLAYER_ID", float, OK),
    ("player_name_empty", "PLAYER_NAME", "", BAD), ("player_name_blank", "PLAYER_NAME", "   ", BAD),
    ("player_name_null", "PLAYER_NAME", None, BAD), ("player_name_too_long", "PLAYER_NAME", "X" * 101, BAD),
    ("player_name_max_length", "PLAYER_NAME", "X" * 100, OK), ("player_name_nul", "PLAYER_NAME", "Bad\x00Name", BAD),
    ("player_name_rlo", "PLAYER_NAME", "Evil\u202eName", BAD), ("player_name_isolate", "PLAYER_NAME", "A\u2067B", BAD),
    ("player_name_accents", "PLAYER_NAME", "Nikola Jokić", OK), ("player_name_number", "PLAYER_NAME", 7, OK),
    ("team_abbreviation_null", "TEAM_ABBREVIATION", None, BAD),
    ("team_id_unknown", "TEAM_ID", 1610612799, BAD), ("team_id_string", "TEAM_ID", "1610612739", BAD),
    ("team_name_too_long", "TEAM_NAME", "T" * 101, BAD), ("team_name_bidi", "TEAM_NAME", "A\u202aB", BAD),
    ("team_name_null", "TEAM_NAME", None, OK),
    ("game_id_short", "GAME_ID", "22400061", BAD), ("game_id_letters", "GAME_ID", "00224000AB", BAD),
    ("game_id_null", "GAME_ID", None, BAD), ("game_id_too_long", "GAME_ID", "0" * 65, BAD),
    ("game_date_impossible", "GAME_DATE", "2024-13-45", BAD), ("game_date_word", "GAME_DATE", "yesterday", BAD),
    ("game_date_null", "GAME_DATE", None, BAD), ("game_date_with_time", "GAME_DATE", lambda v: v + "T00:00:00", OK),
    ("game_date_feb_30", "GAME_DATE", "2024-02-30", BAD),
    ("season_id_short", "SEASON_ID", "2024", BAD), ("season_id_letter", "SEASON_ID", "x2024", BAD),
    ("matchup_garbage", "MATCHUP", "garbage", BAD), ("matchup_too_long", "MATCHUP", "X" * 21, BAD),
    ("wl_tie", "WL", "T", BAD), ("wl_lowercase", "WL", "w", BAD), ("wl_null", "WL", None, OK),
    ("minutes_word", "MIN", "abc", BAD), ("minutes_bad_seconds", "MIN", "12:75", BAD), ("minutes_negative", "MIN", -5, BAD),
    ("minutes_over_70", "MIN", 75, BAD), ("minutes_clock_over_70", "MIN", "71:00", BAD),
    ("minutes_clock", "MIN", "34:12", OK), ("minutes_zero", "MIN", 0, OK), ("minutes_70", "MIN", 70, OK),
    ("minutes_clock_70", "MIN", "70:00", OK), ("minutes_null", "MIN", None, OK),
    ("fgm_negative", "FGM", -1, BAD), ("reb_negative", "REB", -2, BAD), ("tov_negative", "TOV", -1, BAD),
    ("pf_negative", "PF", -1, BAD), ("stl_text", "STL", "x", BAD), ("blk_fraction", "BLK", 2.5, BAD),
    ("ast_list", "AST", [1], BAD), ("stl_whole_float", "STL", float, OK), ("pf_null", "PF", None, OK),
    ("fg_pct_over_one", "FG_PCT", 1.5, BAD), ("ft_pct_negative", "FT_PCT", -0.1, BAD),
    ("fg3_pct_string", "FG3_PCT", "0.5", BAD), ("fg_pct_zero", "FG_PCT", 0, OK), ("fg_pct_one", "FG_PCT", 1, OK),
    ("plus_minus_text", "PLUS_MINUS", "x", BAD), ("plus_minus_large", "PLUS_MINUS", -45, OK),
    ("fantasy_pts_text", "FANTASY_PTS", "abc", BAD), ("fantasy_pts_null", "FANTASY_PTS", None, OK),
    ("video_available_fraction", "VIDEO_AVAILABLE", 0.5, BAD), ("video_available_whole_float", "VIDEO_AVAILABLE", 1.0, OK),
]

PLAYER_CLASSES = [
    ("person_id_negative", "PERSON_ID", -7, BAD), ("person_id_zero", "PERSON_ID", 0, BAD),
    ("person_id_null", "PERSON_ID", None, BAD), ("person_id_string", "PERSON_ID", "76002", BAD),
    ("roster_status_five", "ROSTERSTATUS", 5, BAD), ("roster_status_one", "ROSTERSTATUS", 1, OK),
    ("from_year_word", "FROM_YEAR", "long ago", BAD), ("from_year_number", "FROM_YEAR", int, OK),
    ("from_year_too_early", "FROM_YEAR", "1900", BAD), ("to_year_too_late", "TO_YEAR", "2101", BAD),
    ("to_year_fraction", "TO_YEAR", 1977.5, BAD),
    ("display_first_last_empty", "DISPLAY_FIRST_LAST", "", BAD),
    ("display_first_last_nul", "DISPLAY_FIRST_LAST", "A\x00", BAD),
    ("player_slug_too_long", "PLAYER_SLUG", "s" * 101, BAD), ("player_slug_null", "PLAYER_SLUG", None, OK),
    ("team_id_unknown", "TEAM_ID", 1610612799, BAD), ("team_id_real", "TEAM_ID", 1610612743, OK),
    ("team_abbreviation_too_long", "TEAM_ABBREVIATION", "ABCDEFGHIJK", BAD),
]


def _mutated(payload: dict, header: str, new: object) -> tuple[dict, dict]:
    """(payload with record 1's ``header`` changed, that record as {header: value})."""
    p = copy.deepcopy(payload)
    rs = p["resultSets"][0]
    row = rs["rowSet"][1]
    i = rs["headers"].index(header)
    row[i] = new(row[i]) if callable(new) else new
    return p, dict(zip(rs["headers"], row, strict=True))


def _gx_verdicts(kind: str, base: dict, classes: list[tuple]) -> dict[str, bool]:
    """GX verdict per class: one frame holding every mutated record (row i = class i), one run of the
    generated suite, a class passes when its row fails no expectation."""
    from python_jobs.validation.gx_checkpoint import GxRunner
    from python_jobs.validation.spec import gx_frame

    spec = load_spec(PROJECT_ROOT, kind)
    rows = [{f.name: _mutated(base, header, new)[1].get(f.header) for f in spec.fields}
            for _, header, new, _ in classes]
    summary = GxRunner().validate(kind, gx_frame(spec, rows), spec.expectations(), per_row=True)
    assert summary.failed_rows is not None, summary.failed   # no expectation raised
    return {c[0]: summary.row_ok(i) for i, c in enumerate(classes)}


@pytest.fixture(scope="module")
def gx_game_logs(game_log: dict) -> dict[str, bool]:
    return _gx_verdicts("nba_player_game_logs", game_log, GAME_LOG_CLASSES)


@pytest.fixture(scope="module")
def gx_players(players: dict) -> dict[str, bool]:
    return _gx_verdicts("nba_players", players, PLAYER_CLASSES)


@pytest.mark.parametrize(("name", "header", "new", "expected"), GAME_LOG_CLASSES, ids=[c[0] for c in GAME_LOG_CLASSES])
def test_game_log_edge_and_gx_agree(settings: Settings, game_log: dict, gx_game_logs: dict, name: str, header: str,
                                    new: object, expected: bool) -> None:
    payload, _ = _mutated(game_log, header, new)
    result, quarantined, _ = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    assert result.n_records == 3
    edge_ok = not any(idx == 1 for _, idx, _ in quarantined)
    gx_ok = gx_game_logs[name]
    assert (edge_ok, gx_ok) == (expected, expected), f"edge {quarantined}, gx {'pass' if gx_ok else 'fail'}"


@pytest.mark.parametrize(("name", "header", "new", "expected"), PLAYER_CLASSES, ids=[c[0] for c in PLAYER_CLASSES])
def test_player_edge_and_gx_agree(settings: Settings, players: dict, gx_players: dict, name: str, header: str,
                                  new: object, expected: bool) -> None:
    payload, _ = _mutated(players, header, new)
    result, quarantined, _ = land_one(settings, "stats_nba", "commonallplayers", {"Season": "2025-26"},
                                      dumps(payload))
    assert result.n_records == 3
    edge_ok = not any(idx == 1 for _, idx, _ in quarantined)
    gx_ok = gx_players[name]
    assert (edge_ok, gx_ok) == (expected, expected), f"edge {quarantined}, gx {'pass' if gx_ok else 'fail'}"


def test_at_least_fifty_corruption_classes() -> None:
    bad = [c for c in GAME_LOG_CLASSES + PLAYER_CLASSES if c[3] is BAD] + [c for c in ODDS_CLASSES if c[2] is BAD]
    assert len(bad) >= 50
    assert len({c[0] for c in GAME_LOG_CLASSES}) == len(GAME_LOG_CLASSES)


def test_real_records_pass_both(settings: Settings, game_log: dict) -> None:
    """The unchanged real records: no quarantine at the edge, no failed expectation in GX."""
    from python_jobs.validation.gx_checkpoint import GxRunner
    from python_jobs.validation.spec import gx_frame

    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(game_log))
    assert (quarantined, valid) == ([], 3)
    rs = game_log["resultSets"][0]
    spec = load_spec(PROJECT_ROOT, "nba_player_game_logs")
    rows = [{f.name: dict(zip(rs["headers"], r, strict=True)).get(f.header) for f in spec.fields} for r in rs["rowSet"]]
    summary = GxRunner().validate("real_game_logs", gx_frame(spec, rows), spec.expectations())
    assert summary.failed == [] and summary.rows == 3


# ------------------------------------------------------------------------------------------- odds
# (class id, outcome fields set on the Over (2) and/or Under (3) outcome of pair 1, expected verdict)
ODDS_CLASSES = [
    ("over_price_word", {2: {"price": "abc"}}, BAD), ("over_price_plus_string", {2: {"price": "+110"}}, BAD),
    ("over_price_decimal", {2: {"price": 1.91}}, BAD), ("over_price_in_gap", {2: {"price": 50}}, BAD),
    ("over_price_99", {2: {"price": 99}}, BAD), ("over_price_zero", {2: {"price": 0}}, BAD),
    ("under_price_too_large", {3: {"price": -99999}}, BAD), ("under_price_over_max", {3: {"price": 50001}}, BAD),
    ("over_price_minus_100", {2: {"price": -100}}, OK), ("over_price_100", {2: {"price": 100}}, OK),
    ("under_price_max", {3: {"price": 50000}}, OK), ("over_price_whole_float", {2: {"price": -110.0}}, OK),
    ("over_price_null", {2: {"price": None}}, OK),
    ("line_word", {2: {"point": "eleven"}, 3: {"point": "eleven"}}, BAD),
    ("line_string_number", {2: {"point": "11.5"}, 3: {"point": "11.5"}}, BAD),
    ("line_null", {2: {"point": None}, 3: {"point": None}}, BAD),
    ("line_negative", {2: {"point": -5.5}, 3: {"point": -5.5}}, BAD),
    ("line_over_100", {2: {"point": 100.5}, 3: {"point": 100.5}}, BAD),
    ("line_zero", {2: {"point": 0}, 3: {"point": 0}}, OK), ("line_100", {2: {"point": 100}, 3: {"point": 100}}, OK),
    ("player_empty", {2: {"description": ""}, 3: {"description": ""}}, BAD),
    ("player_too_long", {2: {"description": "P" * 101}, 3: {"description": "P" * 101}}, BAD),
    ("player_bidi", {2: {"description": "A\u202eB"}, 3: {"description": "A\u202eB"}}, BAD),
    ("player_nul", {2: {"description": "A\x00B"}, 3: {"description": "A\x00B"}}, BAD),
    ("player_accents", {2: {"description": "Nikola Jokić"}, 3: {"description": "Nikola Jokić"}}, OK),
]


def _odds_mutated(event: dict, changes: dict[int, dict]) -> tuple[dict, dict]:
    """(event with the outcomes changed, the record of pair 1 as {field name: value}, built by hand
    from the event: one record per player, line and book with the Over and Under prices)."""
    e = copy.deepcopy(event)
    book = e["bookmakers"][0]
    market = book["markets"][0]
    for i, kv in changes.items():
        market["outcomes"][i].update(kv)
    over, under = market["outcomes"][2], market["outcomes"][3]
    record = {"event_id": e["id"], "sport_key": e.get("sport_key"), "commence_time": e.get("commence_time"),
              "home_team": e["home_team"], "away_team": e["away_team"], "bookmaker_key": book["key"],
              "bookmaker_title": book.get("title"), "market_key": market["key"],
              "market_last_update": market.get("last_update"), "snapshot_at": e.get("timestamp"),
              "player_name": over.get("description"), "line_points": over.get("point"),
              "over_price": over.get("price"), "under_price": under.get("price")}
    return e, record


@pytest.fixture(scope="module")
def gx_odds() -> dict[str, bool]:
    from python_jobs.validation.gx_checkpoint import GxRunner
    from python_jobs.validation.spec import gx_frame

    spec = load_spec(PROJECT_ROOT, "odds_player_props")
    base = small_event_odds(3)
    rows = [_odds_mutated(base, changes)[1] for _, changes, _ in ODDS_CLASSES]
    summary = GxRunner().validate("odds_player_props", gx_frame(spec, rows), spec.expectations(), per_row=True)
    assert summary.failed_rows is not None, summary.failed
    return {c[0]: summary.row_ok(i) for i, c in enumerate(ODDS_CLASSES)}


@pytest.mark.parametrize(("name", "changes", "expected"), ODDS_CLASSES, ids=[c[0] for c in ODDS_CLASSES])
def test_odds_edge_and_gx_agree(settings: Settings, gx_odds: dict, name: str, changes: dict, expected: bool) -> None:
    event, _ = _odds_mutated(small_event_odds(3), changes)
    result, quarantined, _ = land_one(settings, "odds_api", "event_odds", {"event_id": event["id"]}, dumps(event))
    assert result.n_records == 3
    edge_ok = quarantined == []   # the other two records are real and valid: any quarantine is record 1
    assert (edge_ok, gx_odds[name]) == (expected, expected), f"edge {quarantined}, gx {gx_odds[name]}"
