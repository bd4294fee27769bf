"""Edge validation: every corrupted record or payload is quarantined with its reason, no valid record lost.

Base payloads are real: three LeagueGameLog rows of 2024-10-22 (bundled box scores, replayed), three
Over/Under pairs of the recorded ORL @ CLE Odds API event odds, the recorded CommonAllPlayers and
ScoreboardV2 responses. Each case corrupts one thing; the invariant records in = valid + quarantined
is asserted for every case.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from _ingest_helpers import (
    SCOREBOARD_SAMPLE,
    close_connections,
    dumps,
    land_one,
    read_body_of,
    read_gz_json,
    replay_game_log,
    small_event_odds,
    small_players,
)

from python_jobs.config import PROJECT_ROOT, Settings

GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    wh = tmp_path_factory.mktemp("quarantine_wh")
    yield Settings(home=PROJECT_ROOT, warehouse_dir=wh, dbt_target="ci")
    close_connections()


@pytest.fixture(scope="module")
def game_log(settings: Settings) -> dict:
    payload = replay_game_log(settings, date(2024, 10, 22))
    rs = payload["resultSets"][0]
    rs["rowSet"] = rs["rowSet"][:3]
    return payload


def _cell(name: str, value: object) -> Callable[[dict], None]:
    """Set one cell of record 1."""
    def apply(p: dict) -> None:
        rs = p["resultSets"][0]
        rs["rowSet"][1][rs["headers"].index(name)] = value
    return apply


def _row(value: object) -> Callable[[dict], None]:
    def apply(p: dict) -> None:
        p["resultSets"][0]["rowSet"][1] = value
    return apply


def _cells(**values: object) -> Callable[[dict], None]:
    def apply(p: dict) -> None:
        for k, v in values.items():
            _cell(k, v)(p)
    return apply


def _duplicate(p: dict) -> None:
    rows = p["resultSets"][0]["rowSet"]
    rows[2] = list(rows[1])


def _short_row(p: dict) -> None:
    p["resultSets"][0]["rowSet"][1] = p["resultSets"][0]["rowSet"][1][:-1]


# (case id, corruption, expected reason_code) -- exactly record 1 (or 2 for duplicates) is bad
GAME_LOG_RECORD_CASES = [
    ("pts_null", _cell("PTS", None), "missing_field"),
    ("pts_string", _cell("PTS", "12"), "wrong_type"),
    ("pts_fraction", _cell("PTS", 12.5), "wrong_type"),
    ("pts_negative", _cell("PTS", -3), "negative_stat"),
    ("pts_bool", _cell("PTS", True), "wrong_type"),
    ("player_id_null", _cell("PLAYER_ID", None), "missing_field"),
    ("player_id_text", _cell("PLAYER_ID", "abc"), "wrong_type"),
    ("player_name_empty", _cell("PLAYER_NAME", ""), "missing_field"),
    ("team_abbreviation_null", _cell("TEAM_ABBREVIATION", None), "missing_field"),
    ("game_id_short", _cell("GAME_ID", "22400061"), "bad_game_id"),
    ("game_id_letters", _cell("GAME_ID", "00224000AB"), "bad_game_id"),
    ("game_date_impossible", _cell("GAME_DATE", "2024-13-45"), "invalid_date"),
    ("game_date_word", _cell("GAME_DATE", "yesterday"), "invalid_date"),
    ("season_id_other", _cell("SEASON_ID", "22023"), "wrong_season"),
    ("game_date_other_season", _cell("GAME_DATE", "2019-01-01"), "wrong_season"),
    ("season_id_playoffs", _cell("SEASON_ID", "42024"), "wrong_season"),
    ("team_unknown", _cell("TEAM_ID", 1610612799), "unknown_team"),
    ("matchup_garbage", _cell("MATCHUP", "XXX @ YYY"), "invalid_matchup"),
    ("matchup_other_team", _cell("MATCHUP", "LAL @ DEN"), "invalid_matchup"),
    ("wl_tie", _cell("WL", "T"), "invalid_value"),
    ("minutes_word", _cell("MIN", "abc"), "malformed_minutes"),
    ("minutes_bad_seconds", _cell("MIN", "12:75"), "malformed_minutes"),
    ("minutes_negative", _cell("MIN", -5), "malformed_minutes"),
    ("minutes_over_70", _cell("MIN", 75), "minutes_out_of_range"),
    ("fgm_negative", _cell("FGM", -1), "negative_stat"),
    ("reb_negative", _cell("REB", -2), "negative_stat"),
    ("tov_negative", _cell("TOV", -1), "negative_stat"),
    ("fgm_over_fga", _cells(FGM=11, FGA=10), "stat_out_of_range"),
    ("pts_inconsistent", _cell("PTS", 40), "stat_out_of_range"),
    ("fg_pct_over_one", _cell("FG_PCT", 1.5), "stat_out_of_range"),
    ("ast_list", _cell("AST", [1]), "wrong_type"),
    ("plus_minus_text", _cell("PLUS_MINUS", "x"), "wrong_type"),
    ("row_short", _short_row, "row_shape"),
    ("row_object", _row({"PTS": 3}), "row_shape"),
    ("row_null", _row(None), "row_shape"),
]


@pytest.mark.parametrize(("corrupt", "code"), [c[1:] for c in GAME_LOG_RECORD_CASES],
                         ids=[c[0] for c in GAME_LOG_RECORD_CASES])
def test_game_log_record_quarantined(settings: Settings, game_log: dict, corrupt: Callable, code: str) -> None:
    payload = copy.deepcopy(game_log)
    corrupt(payload)
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    assert result.n_records == 3
    assert result.n_records == result.n_valid + result.n_quarantined
    assert quarantined == [("nba_player_game_logs", 1, code)]
    assert (result.n_valid, valid) == (2, 2)  # no valid record lost


def test_duplicate_record_in_payload(settings: Settings, game_log: dict) -> None:
    payload = copy.deepcopy(game_log)
    _duplicate(payload)
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    assert quarantined == [("nba_player_game_logs", 2, "duplicate_record")]
    assert (result.n_records, result.n_valid, valid) == (3, 2, 2)


def _gl_payload(mutate: Callable[[dict], object]) -> Callable[[dict], bytes]:
    def build(base: dict) -> bytes:
        p = copy.deepcopy(base)
        out = mutate(p)
        return out if isinstance(out, bytes) else dumps(out if out is not None else p)
    return build


def _drop(key: str) -> Callable[[dict], dict]:
    def f(p: dict) -> dict:
        del p[key]
        return p
    return f


def _set_rs(**kv: object) -> Callable[[dict], dict]:
    def f(p: dict) -> dict:
        p["resultSets"][0].update(kv)
        return p
    return f


GAME_LOG_PAYLOAD_CASES = [
    ("truncated_json", lambda p: dumps(p)[: len(dumps(p)) // 2], "invalid_json"),
    ("empty_body", lambda p: b"", "invalid_json"),
    ("html_error_page", lambda p: b"<html><body>Access Denied</body></html>", "invalid_json"),
    ("top_level_list", lambda p: [p], "invalid_envelope"),
    ("no_result_sets", _drop("resultSets"), "invalid_envelope"),
    ("empty_result_sets", lambda p: {**p, "resultSets": []}, "invalid_envelope"),
    ("result_set_renamed", _set_rs(name="PlayerStats"), "missing_result_set"),
    ("team_mode", lambda p: {**p, "resultSets": [{"name": "LeagueGameLog", "headers": ["TEAM_ID", "GAME_ID"],
                                                   "rowSet": [[1610612738, "0022400061"]]}]}, "unknown_shape"),
    ("duplicate_headers", _set_rs(headers=["PTS"] * 30), "invalid_envelope"),
    ("headers_not_list", _set_rs(headers="SEASON_ID,PLAYER_ID"), "invalid_envelope"),
    ("rowset_not_list", _set_rs(rowSet={"a": 1}), "invalid_envelope"),
]


@pytest.mark.parametrize(("build", "code"), [c[1:] for c in GAME_LOG_PAYLOAD_CASES],
                         ids=[c[0] for c in GAME_LOG_PAYLOAD_CASES])
def test_game_log_payload_quarantined(settings: Settings, game_log: dict, build: Callable, code: str) -> None:
    body = _gl_payload(build)(game_log)
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, body)
    assert result.status == "failed"
    assert quarantined == [("payload", None, code)]
    assert valid == 0
    assert read_body_of(settings, result.payload_id) == body  # the body is kept unchanged


# ----------------------------------------------------------------------------------------- odds
def _outcome(i: int, **kv: object) -> Callable[[dict], None]:
    def apply(e: dict) -> None:
        outcome = e["bookmakers"][0]["markets"][0]["outcomes"][i]
        for k, v in kv.items():
            if v is _DEL:
                outcome.pop(k, None)
            else:
                outcome[k] = v
    return apply


_DEL = object()


def _both(**kv: object) -> Callable[[dict], None]:
    def apply(e: dict) -> None:
        _outcome(2, **kv)(e)
        _outcome(3, **kv)(e)
    return apply


def _event(**kv: object) -> Callable[[dict], None]:
    def apply(e: dict) -> None:
        e.update(kv)
    return apply


def _book(**kv: object) -> Callable[[dict], None]:
    def apply(e: dict) -> None:
        for k, v in kv.items():
            if v is _DEL:
                e["bookmakers"][0].pop(k)
            else:
                e["bookmakers"][0][k] = v
    return apply


def _extra_over(e: dict) -> None:
    outcomes = e["bookmakers"][0]["markets"][0]["outcomes"]
    outcomes.append(dict(outcomes[2], price=-150))


def _outcome_string(e: dict) -> None:
    e["bookmakers"][0]["markets"][0]["outcomes"].append("Over 11.5")


def _market_not_object(e: dict) -> None:
    e["bookmakers"].append({"key": "fanduel", "title": "FanDuel", "markets": ["player_points"]})


# (id, corruption, expected reason_code, records in, quarantined) -- base: 3 pairs = 3 records
ODDS_RECORD_CASES = [
    ("both_prices_null", _both(price=None), "null_odds", 3, 1),
    ("price_word", _outcome(2, price="abc"), "odds_not_number", 3, 1),
    ("price_plus_string", _outcome(2, price="+110"), "odds_not_number", 3, 1),
    ("price_decimal_odds", _outcome(2, price=1.91), "odds_not_number", 3, 1),
    ("price_minus_infinity", _outcome(3, price="-Infinity"), "odds_not_number", 3, 1),
    ("price_too_small", _outcome(2, price=50), "odds_out_of_range", 3, 1),
    ("price_too_large", _outcome(3, price=-99999), "odds_out_of_range", 3, 1),
    ("line_word", _both(point="eleven"), "line_not_number", 3, 1),
    ("line_null", _both(point=None), "missing_field", 3, 1),
    ("line_negative", _both(point=-5.5), "line_out_of_range", 3, 1),
    ("player_missing", _both(description=_DEL), "missing_field", 3, 1),
    ("unknown_side", _outcome(2, name="Yes"), "unknown_outcome_side", 4, 1),
    ("duplicate_over", _extra_over, "duplicate_record", 4, 1),
    ("outcome_not_object", _outcome_string, "row_shape", 4, 1),
    ("market_not_object", _market_not_object, "row_shape", 4, 1),
    ("home_team_unknown", _event(home_team="Springfield Isotopes"), "unknown_team", 3, 3),
    ("team_plays_itself", _event(away_team="Cleveland Cavaliers"), "unknown_team", 3, 3),
    ("commence_time_garbage", _event(commence_time="tomorrow"), "invalid_timestamp", 3, 3),
    ("bookmaker_key_missing", _book(key=_DEL), "missing_field", 3, 3),
    ("home_team_null", _event(home_team=None), "missing_field", 3, 3),
]


@pytest.mark.parametrize(("corrupt", "code", "n_in", "n_bad"), [c[1:] for c in ODDS_RECORD_CASES],
                         ids=[c[0] for c in ODDS_RECORD_CASES])
def test_odds_record_quarantined(settings: Settings, corrupt: Callable, code: str, n_in: int, n_bad: int) -> None:
    event = small_event_odds(3)
    corrupt(event)
    result, quarantined, valid = land_one(settings, "odds_api", "event_odds", {"event_id": event["id"]}, dumps(event))
    assert result.n_records == n_in
    assert result.n_records == result.n_valid + result.n_quarantined
    assert [q[2] for q in quarantined] == [code] * n_bad
    assert valid == n_in - n_bad


ODDS_PAYLOAD_CASES = [
    ("truncated", lambda e: dumps(e)[:100], "invalid_json"),
    ("event_without_id", lambda e: dumps({k: v for k, v in e.items() if k != "id"}), "invalid_envelope"),
    ("wrapper_data_list", lambda e: dumps({"timestamp": "2024-02-22T15:00:00Z", "data": [e]}), "unknown_shape"),
    ("wrapper_without_timestamp_value", lambda e: dumps({"timestamp": None, "data": e}), "invalid_envelope"),
    ("bookmakers_not_list", lambda e: dumps({**e, "bookmakers": {"dk": 1}}), "invalid_envelope"),
]


@pytest.mark.parametrize(("build", "code"), [c[1:] for c in ODDS_PAYLOAD_CASES],
                         ids=[c[0] for c in ODDS_PAYLOAD_CASES])
def test_odds_payload_quarantined(settings: Settings, build: Callable, code: str) -> None:
    event = small_event_odds(3)
    result, quarantined, valid = land_one(settings, "odds_api", "event_odds", {"event_id": "x"}, build(event))
    assert result.status == "failed"
    assert quarantined == [("payload", None, code)]
    assert valid == 0


# ------------------------------------------------------------------------------ players, scoreboard
@pytest.fixture(scope="module")
def players() -> dict:
    return small_players(3)


PLAYER_CASES = [
    ("person_id_negative", "PERSON_ID", -7, "invalid_value"),
    ("roster_status_five", "ROSTERSTATUS", 5, "invalid_value"),
    ("person_id_null", "PERSON_ID", None, "missing_field"),
    ("from_year_word", "FROM_YEAR", "long ago", "wrong_type"),
    ("to_year_before_from", "TO_YEAR", "1900", "out_of_range"),
]


@pytest.mark.parametrize(("header", "value", "code"), [c[1:] for c in PLAYER_CASES], ids=[c[0] for c in PLAYER_CASES])
def test_player_record_quarantined(settings: Settings, players: dict, header: str, value: object, code: str) -> None:
    payload = copy.deepcopy(players)
    rs = payload["resultSets"][0]
    rs["rowSet"][1][rs["headers"].index(header)] = value
    result, quarantined, valid = land_one(settings, "stats_nba", "commonallplayers", {"Season": "2025-26"},
                                          dumps(payload))
    assert quarantined == [("nba_players", 1, code)]
    assert (result.n_records, result.n_valid, valid) == (3, 2, 2)


SCOREBOARD_CASES = [
    ("home_team_unknown", "HOME_TEAM_ID", 1610612799, "unknown_team"),
    ("game_id_short", "GAME_ID", "22500817", "bad_game_id"),
    ("status_seven", "GAME_STATUS_ID", 7, "invalid_value"),
    ("game_date_garbage", "GAME_DATE_EST", "soon", "invalid_date"),
]


@pytest.mark.parametrize(("header", "value", "code"), [c[1:] for c in SCOREBOARD_CASES],
                         ids=[c[0] for c in SCOREBOARD_CASES])
def test_scoreboard_record_quarantined(settings: Settings, header: str, value: object, code: str) -> None:
    payload = read_gz_json(SCOREBOARD_SAMPLE)
    gh = next(rs for rs in payload["resultSets"] if rs["name"] == "GameHeader")
    n = len(gh["rowSet"])
    gh["rowSet"][0][gh["headers"].index(header)] = value
    result, quarantined, valid = land_one(settings, "stats_nba", "scoreboardv2", {"GameDate": "2026-02-22"},
                                          dumps(payload))
    # the recorded response repeats game 0022500823 three times (rows 6-8): the copies are duplicates
    assert quarantined == [("nba_schedule_games", 0, code), ("nba_schedule_games", 7, "duplicate_record"),
                           ("nba_schedule_games", 8, "duplicate_record")]
    assert (result.n_records, result.n_valid, valid) == (n, n - 3, n - 3)


def test_at_least_fifty_distinct_corruptions() -> None:
    cases = (len(GAME_LOG_RECORD_CASES) + 1 + len(GAME_LOG_PAYLOAD_CASES) + len(ODDS_RECORD_CASES)
             + len(ODDS_PAYLOAD_CASES) + len(PLAYER_CASES) + len(SCOREBOARD_CASES))
    assert cases >= 50
    assert Path(__file__).exists()
