"""Payload parsers: turn one landed payload body into column batches of raw records.

Every parser reads columns **by header name** (stats.nba.com) or by key (cdn.nba.com, The Odds
API), so the bundled LeagueGameLog layout and the live one (which adds ``FANTASY_PTS`` and
``VIDEO_AVAILABLE`` in a different order) parse the same way. Parsers do not judge record values:
they only move them, untouched, into columns; the vectorised SQL checks in
:mod:`python_jobs.validation.records` decide what is valid. A record whose *shape* is wrong (a row
with the wrong number of cells, an outcome that is not an object...) gets a ``pre_reason_code``.

A payload that cannot be used as a whole (not JSON, truncated, unknown shape) raises
:class:`~python_jobs.errors.PayloadError` with a ``reason_code``; the caller lands and quarantines it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from python_jobs.errors import PayloadError, PayloadValidationError
from python_jobs.validation.envelopes import (
    UTF8_BOM,
    OddsEvent,
    ScheduleEnvelope,
    StatsEnvelope,
    check_event_id,
    contains_non_finite,
    parse_json,
    unwrap_odds,
    validate,
)

ET = ZoneInfo("America/New_York")
SEASON_TYPE_DIGIT = {"Regular Season": "2", "Playoffs": "4", "PlayIn": "5", "Pre Season": "1"}

# raw column -> LeagueGameLog header
GAME_LOG_HEADERS: dict[str, str] = {
    "season_id": "SEASON_ID", "player_id": "PLAYER_ID", "player_name": "PLAYER_NAME", "team_id": "TEAM_ID",
    "team_abbreviation": "TEAM_ABBREVIATION", "team_name": "TEAM_NAME", "game_id": "GAME_ID",
    "game_date": "GAME_DATE", "matchup": "MATCHUP", "wl": "WL", "minutes": "MIN", "points": "PTS",
    "fgm": "FGM", "fga": "FGA", "fg_pct": "FG_PCT", "fg3m": "FG3M", "fg3a": "FG3A", "fg3_pct": "FG3_PCT",
    "ftm": "FTM", "fta": "FTA", "ft_pct": "FT_PCT", "oreb": "OREB", "dreb": "DREB", "reb": "REB", "ast": "AST",
    "stl": "STL", "blk": "BLK", "tov": "TOV", "pf": "PF", "plus_minus": "PLUS_MINUS",
    "fantasy_pts": "FANTASY_PTS", "video_available": "VIDEO_AVAILABLE",
}
GAME_LOG_REQUIRED_HEADERS = ("PLAYER_ID", "GAME_ID", "GAME_DATE", "PTS", "TEAM_ID", "MATCHUP")

PLAYER_HEADERS: dict[str, str] = {
    "player_id": "PERSON_ID", "display_last_comma_first": "DISPLAY_LAST_COMMA_FIRST",
    "display_first_last": "DISPLAY_FIRST_LAST", "roster_status": "ROSTERSTATUS", "from_year": "FROM_YEAR",
    "to_year": "TO_YEAR", "player_slug": "PLAYER_SLUG", "team_id": "TEAM_ID",
    "team_abbreviation": "TEAM_ABBREVIATION",
}


@dataclass
class RecordBatch:
    """Records of one kind parsed from one payload, as columns of untouched values."""

    kind: str  # record kind = raw table name
    n: int
    data: dict[str, Sequence[Any]]
    record_json: Callable[[int], str]  # record_index -> JSON of the original record (for quarantine)
    pre_reason_code: list[str | None] | None = None
    pre_reason: list[str | None] | None = None
    context: dict[str, Any] = field(default_factory=dict)
    start: int = 0  # record_index of the first record (a streamed payload comes in chunks)


@dataclass
class ParsedPayload:
    batches: list[RecordBatch] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)  # Odds API events endpoint
    params: dict[str, Any] = field(default_factory=dict)  # params found in the payload itself

    @property
    def n_records(self) -> int:
        return sum(b.n for b in self.batches)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS, default=repr).decode()


def _mark_non_finite(records: Sequence[Any], codes: list[str | None] | None, reasons: list[str | None] | None
                     ) -> tuple[list[str | None] | None, list[str | None] | None]:
    """Quarantine (pre_reason) each record holding a NaN/Infinity token; only leniently parsed payloads."""
    bad = [i for i, r in enumerate(records) if contains_non_finite(r)]
    if not bad:
        return codes, reasons
    n = len(records)
    codes = list(codes) if codes is not None else [None] * n
    reasons = list(reasons) if reasons is not None else [None] * n
    for i in bad:
        if codes[i] is None:
            codes[i], reasons[i] = "non_finite_number", "NaN or Infinity token in the record (not a JSON number)"
    return codes, reasons


# ------------------------------------------------------------------------------------ stats.nba.com
def _result_set_columns(rs_headers: list[str], rows: list[Any], wanted: dict[str, str]
                        ) -> tuple[dict[str, Sequence[Any]], list[str | None] | None, list[str | None] | None]:
    """Columns of ``wanted`` (raw name -> header) from a rowSet, by header name (case-insensitive)."""
    headers = [h.upper() for h in rs_headers]
    width = len(headers)
    n = len(rows)
    codes: list[str | None] | None = None
    reasons: list[str | None] | None = None
    good = all(isinstance(r, list) and len(r) == width for r in rows)
    if not good:
        codes, reasons = [None] * n, [None] * n
        fixed = []
        for i, r in enumerate(rows):
            if isinstance(r, list) and len(r) == width:
                fixed.append(r)
            else:
                codes[i] = "row_shape"
                got = f"{len(r)} cells" if isinstance(r, list) else f"a JSON {type(r).__name__}"
                reasons[i] = f"row has {got}, expected {width} cells (one per header)"
                fixed.append([None] * width)
        rows = fixed
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    index = {h: i for i, h in enumerate(headers)}
    data: dict[str, Sequence[Any]] = {}
    for name, header in wanted.items():
        i = index.get(header)
        if i is not None:
            data[name] = columns[i] if n else []
    return data, codes, reasons


def _row_json(rs_headers: list[str], rows: list[Any]) -> Callable[[int], str]:
    def fn(i: int) -> str:
        row = rows[i]
        if isinstance(row, list) and len(row) == len(rs_headers):
            return _dumps(dict(zip(rs_headers, row, strict=True)))
        return _dumps(row)

    return fn


def _game_log_context(merged: dict[str, Any]) -> dict[str, Any]:
    """The SEASON_ID the request asked for (``expected_season_id``), from Season and SeasonType."""
    season = merged.get("Season") or merged.get("SeasonYear")
    digit = SEASON_TYPE_DIGIT.get(str(merged.get("SeasonType", "")))
    context: dict[str, Any] = {"expected_season_id": None}
    if isinstance(season, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}", season) and digit:
        context["expected_season_id"] = f"{digit}{season[:4]}"
    return context


def parse_league_game_log(body: str | bytes, params: dict[str, Any]) -> ParsedPayload:
    obj, lenient = parse_json(body)
    env = validate(StatsEnvelope, obj, "leaguegamelog")
    _, rs = env.result_set("LeagueGameLog")
    upper = {h.upper() for h in rs.headers}
    missing = [h for h in GAME_LOG_REQUIRED_HEADERS if h not in upper]
    if missing:
        raise PayloadValidationError(
            f"LeagueGameLog is not in player mode (missing headers {missing}); team-mode logs are not ingested",
            reason_code="unknown_shape")
    context = _game_log_context({**env.params, **params})
    data, codes, reasons = _result_set_columns(rs.headers, rs.rowSet, GAME_LOG_HEADERS)
    if lenient:
        codes, reasons = _mark_non_finite(rs.rowSet, codes, reasons)
    batch = RecordBatch("nba_player_game_logs", len(rs.rowSet), data, _row_json(rs.headers, rs.rowSet),
                        codes, reasons, context)
    return ParsedPayload([batch] if batch.n else [], params=env.params)


def parse_common_all_players(body: str | bytes, params: dict[str, Any]) -> ParsedPayload:
    obj, lenient = parse_json(body)
    env = validate(StatsEnvelope, obj, "commonallplayers")
    _, rs = env.result_set("CommonAllPlayers")
    if "PERSON_ID" not in {h.upper() for h in rs.headers}:
        raise PayloadValidationError("CommonAllPlayers without PERSON_ID header", reason_code="unknown_shape")
    data, codes, reasons = _result_set_columns(rs.headers, rs.rowSet, PLAYER_HEADERS)
    if lenient:
        codes, reasons = _mark_non_finite(rs.rowSet, codes, reasons)
    batch = RecordBatch("nba_players", len(rs.rowSet), data, _row_json(rs.headers, rs.rowSet), codes, reasons)
    return ParsedPayload([batch] if batch.n else [], params=env.params)


_STATUS_TIME = re.compile(r"\s*(\d{1,2}):(\d{2})\s*([ap])m\s*ET\s*", re.IGNORECASE)


def _tip_from_status(game_date: Any, status_text: Any) -> str | None:
    """ScoreboardV2 has no UTC tip time; a scheduled game's status text says e.g. '7:30 pm ET'."""
    if not isinstance(game_date, str) or not isinstance(status_text, str):
        return None
    m = _STATUS_TIME.fullmatch(status_text)
    if not m:
        return None
    try:
        day = date.fromisoformat(game_date[:10])
    except ValueError:
        return None
    hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
    local = datetime(day.year, day.month, day.day, hour, int(m.group(2)), tzinfo=ET)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_scoreboard_v2(body: str | bytes, params: dict[str, Any]) -> ParsedPayload:
    obj, lenient = parse_json(body)
    env = validate(StatsEnvelope, obj, "scoreboardv2")
    _, gh = env.result_set("GameHeader")
    wanted = {"game_date": "GAME_DATE_EST", "game_id": "GAME_ID", "game_status": "GAME_STATUS_ID",
              "status_text": "GAME_STATUS_TEXT", "gamecode": "GAMECODE", "home_team_id": "HOME_TEAM_ID",
              "away_team_id": "VISITOR_TEAM_ID", "season_year": "SEASON", "arena_name": "ARENA_NAME"}
    data, codes, reasons = _result_set_columns(gh.headers, gh.rowSet, wanted)
    if lenient:
        codes, reasons = _mark_non_finite(gh.rowSet, codes, reasons)
    n = len(gh.rowSet)
    # tricodes: LineScore (team id -> abbreviation), else the GAMECODE 'YYYYMMDD/AWYHOM'
    tricode_of: dict[Any, Any] = {}
    try:
        _, ls = env.result_set("LineScore")
        ls_data, _, _ = _result_set_columns(ls.headers, [r for r in ls.rowSet if isinstance(r, list)
                                                          and len(r) == len(ls.headers)],
                                            {"team_id": "TEAM_ID", "tri": "TEAM_ABBREVIATION"})
        tricode_of = dict(zip(ls_data.get("team_id", []), ls_data.get("tri", []), strict=True))
    except PayloadValidationError:
        tricode_of = {}
    empty: list[Any] = [None] * n
    codes_in = data.get("gamecode", empty)
    home_ids, away_ids = data.get("home_team_id", empty), data.get("away_team_id", empty)
    home_tri, away_tri, seasons, tips = [], [], [], []
    for i in range(n):
        code = codes_in[i] if isinstance(codes_in[i], str) else ""
        teams = code.split("/", 1)[1] if "/" in code else ""
        home_tri.append(tricode_of.get(home_ids[i]) or (teams[3:6] if len(teams) == 6 else None))
        away_tri.append(tricode_of.get(away_ids[i]) or (teams[:3] if len(teams) == 6 else None))
        year = data.get("season_year", empty)[i]
        seasons.append(f"{int(year)}-{(int(year) + 1) % 100:02d}" if isinstance(year, str | int)
                       and str(year).isdigit() else None)
        tips.append(_tip_from_status(data.get("game_date", empty)[i], data.get("status_text", empty)[i]))
    out = {"game_id": data.get("game_id", empty), "season": seasons, "game_date": data.get("game_date", empty),
           "tip_at": tips, "home_team_id": home_ids, "away_team_id": away_ids, "home_team_tricode": home_tri,
           "away_team_tricode": away_tri, "game_status": data.get("game_status", empty),
           "arena_name": data.get("arena_name", empty)}
    batch = RecordBatch("nba_schedule_games", n, out, _row_json(gh.headers, gh.rowSet), codes, reasons)
    return ParsedPayload([batch] if n else [], params=env.params)


def parse_schedule_league_v2(body: str | bytes, params: dict[str, Any]) -> ParsedPayload:
    obj, lenient = parse_json(body)
    env = validate(ScheduleEnvelope, obj, "scheduleleaguev2")
    sched = env.leagueSchedule
    season = sched.seasonYear
    games: list[Any] = [g for d in sched.gameDates for g in d.games]
    n = len(games)
    cols: dict[str, list[Any]] = {k: [None] * n for k in (
        "game_id", "season", "game_date", "tip_at", "home_team_id", "away_team_id", "home_team_tricode",
        "away_team_tricode", "game_status", "arena_name")}
    codes: list[str | None] = [None] * n
    reasons: list[str | None] = [None] * n
    for i, g in enumerate(games):
        if not isinstance(g, dict):
            codes[i], reasons[i] = "row_shape", f"game is a JSON {type(g).__name__}, expected an object"
            continue
        home = g.get("homeTeam") if isinstance(g.get("homeTeam"), dict) else {}
        away = g.get("awayTeam") if isinstance(g.get("awayTeam"), dict) else {}
        cols["game_id"][i] = g.get("gameId")
        cols["season"][i] = season
        cols["game_date"][i] = g.get("gameDateEst")
        cols["tip_at"][i] = g.get("gameDateTimeUTC")
        cols["home_team_id"][i] = home.get("teamId")
        cols["away_team_id"][i] = away.get("teamId")
        cols["home_team_tricode"][i] = home.get("teamTricode")
        cols["away_team_tricode"][i] = away.get("teamTricode")
        cols["game_status"][i] = g.get("gameStatus")
        cols["arena_name"][i] = g.get("arenaName")
    if lenient:
        marked, marked_reasons = _mark_non_finite(games, codes, reasons)
        codes, reasons = list(marked or codes), list(marked_reasons or reasons)
    has_bad = any(codes)
    batch = RecordBatch("nba_schedule_games", n, cols, lambda i: _dumps(games[i]),
                        codes if has_bad else None, reasons if has_bad else None)
    return ParsedPayload([batch] if n else [], params={"Season": season})


# ------------------------------------------------------------------------------------ The Odds API
def parse_odds_events(body: str | bytes, params: dict[str, Any]) -> ParsedPayload:
    data, _ = unwrap_odds(parse_json(body)[0])
    if not isinstance(data, list):
        raise PayloadValidationError(f"events payload must be a list, got a JSON {type(data).__name__}",
                                     reason_code="unknown_shape")
    ids = [check_event_id(validate(OddsEvent, e, f"event {i}").id) for i, e in enumerate(data)]
    return ParsedPayload(event_ids=ids)


_OD_COLS = ("event_id", "sport_key", "commence_time", "home_team", "away_team", "bookmaker_key", "bookmaker_title",
            "market_key", "market_last_update", "snapshot_at", "player_name", "line_points", "over_price",
            "under_price")


def parse_event_odds(body: str | bytes, params: dict[str, Any]) -> ParsedPayload:
    """One row per (bookmaker, market, player, line): the Over and Under outcomes paired."""
    obj, lenient = parse_json(body)
    inner, snapshot = unwrap_odds(obj)
    if not isinstance(inner, dict):
        raise PayloadValidationError(f"event odds payload must be an event object, got a JSON {type(inner).__name__}",
                                     reason_code="unknown_shape")
    event = validate(OddsEvent, inner, "event odds")
    check_event_id(event.id)
    bookmakers = event.bookmakers or []
    rows: list[dict[str, Any]] = []
    raw: list[Any] = []
    codes: list[str | None] = []
    reasons: list[str | None] = []
    base = {"event_id": event.id, "sport_key": event.sport_key, "commence_time": event.commence_time,
            "home_team": event.home_team, "away_team": event.away_team, "snapshot_at": snapshot}

    def bad(code: str, reason: str, original: Any, **extra: Any) -> None:
        rows.append({**base, **extra})
        raw.append(original)
        codes.append(code)
        reasons.append(reason)

    for b in bookmakers:
        if not isinstance(b, dict) or not isinstance(b.get("markets", []), list):
            bad("row_shape", "bookmaker is not an object with a markets list", b)
            continue
        for m in b.get("markets") or []:
            if not isinstance(m, dict) or not isinstance(m.get("outcomes", []), list):
                bad("row_shape", "market is not an object with an outcomes list", m, bookmaker_key=b.get("key"))
                continue
            ctx = {**base, "bookmaker_key": b.get("key"), "bookmaker_title": b.get("title"),
                   "market_key": m.get("key"), "market_last_update": m.get("last_update")}
            open_rows: dict[str, int] = {}
            for o in m.get("outcomes") or []:
                if not isinstance(o, dict):
                    bad("row_shape", "outcome is not an object", o, **{k: ctx[k] for k in ctx if k not in base})
                    continue
                side = o.get("name")
                if side not in ("Over", "Under"):
                    bad("unknown_outcome_side", f"outcome name must be Over or Under, got {side!r}",
                        {"bookmaker": b.get("key"), "market": m.get("key"), "outcome": o},
                        **{k: ctx[k] for k in ctx if k not in base}, player_name=o.get("description"),
                        line_points=o.get("point"))
                    continue
                price_col = "over_price" if side == "Over" else "under_price"
                key = _dumps([o.get("description"), o.get("point")])
                j = open_rows.get(key)
                if j is not None and price_col not in rows[j]:
                    rows[j][price_col] = o.get("price")
                    raw[j]["outcomes"].append(o)
                    continue
                if j is not None:
                    # the same side twice for one line (real: williamhill_us repeats lines with other
                    # prices): the later pair is a duplicate; its other side pairs with it, not the first
                    open_rows[key] = len(rows)
                    bad("duplicate_record", f"repeated {side} outcome for the same player and line in this market",
                        {"bookmaker": b.get("key"), "market": m.get("key"), "outcomes": [o]},
                        **{k: ctx[k] for k in ctx if k not in base}, player_name=o.get("description"),
                        line_points=o.get("point"), **{price_col: o.get("price")})
                    continue
                open_rows[key] = len(rows)
                rows.append({**ctx, "player_name": o.get("description"), "line_points": o.get("point"),
                             price_col: o.get("price")})
                raw.append({"bookmaker": b.get("key"), "market": m.get("key"), "outcomes": [o]})
                codes.append(None)
                reasons.append(None)
    n = len(rows)
    if lenient:
        marked, marked_reasons = _mark_non_finite(list(zip(rows, raw, strict=True)), codes, reasons)
        codes, reasons = list(marked or codes), list(marked_reasons or reasons)
    data = {c: [r.get(c) for r in rows] for c in _OD_COLS}
    has_bad = any(codes)
    batch = RecordBatch("odds_player_props", n, data, lambda i: _dumps(raw[i]),
                        codes if has_bad else None, reasons if has_bad else None)
    found = {"event_id": event.id}
    if snapshot:
        found["date"] = snapshot
    return ParsedPayload([batch] if n else [], params=found)


# ------------------------------------------------------------------------------------ streaming
STREAM_MIN_BYTES = 16 * 1024 * 1024  # larger LeagueGameLog payloads are parsed as a stream, in chunks
STREAM_CHUNK_ROWS = 20_000


class _ViewReader:
    """A read-only file over bytes without copying them (``io.BytesIO`` copies its buffer)."""

    def __init__(self, data: bytes):
        self._view = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._pos + size
        out = bytes(self._view[self._pos:end])
        self._pos += len(out)
        return out


def _stream_source(body: bytes | str) -> _ViewReader:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    reader = _ViewReader(raw)
    if raw[:3] == UTF8_BOM:
        reader.read(3)
    return reader


def peek_stats_envelope(body: bytes | str) -> dict[str, Any] | None:
    """``{parameters, resultSets: [{name, headers}]}`` of a stats.nba.com payload read as a stream,
    stopping at the first ``rowSet`` (the rows are never built); None when the text is not one."""
    import ijson

    out: dict[str, Any] = {"parameters": {}, "resultSets": []}
    current: dict[str, Any] | None = None
    try:
        events = ijson.parse(_stream_source(body), use_float=True)
        for prefix, event, value in events:
            if prefix == "parameters" and event == "start_map":
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 1
                for _, ev, val in events:
                    builder.event(ev, val)
                    depth += ev in ("start_map", "start_array")
                    depth -= ev in ("end_map", "end_array")
                    if depth == 0:
                        break
                out["parameters"] = builder.value
            elif prefix == "resultSets.item" and event == "start_map":
                current = {"name": None, "headers": []}
                out["resultSets"].append(current)
            elif current is not None and prefix == "resultSets.item.name":
                current["name"] = value
            elif current is not None and prefix == "resultSets.item.headers.item":
                current["headers"].append(value)
            elif prefix == "resultSets.item.rowSet" and event == "start_array":
                return out if out["resultSets"] else None
    except ijson.JSONError:
        return None
    return out if out["resultSets"] else None


def stream_league_game_log(body: bytes | str, params: dict[str, Any], *, chunk_rows: int | None = None
                           ) -> ParsedPayload:
    """Like :func:`parse_league_game_log`, but the records come as chunks of ``chunk_rows`` parsed
    from a stream (ijson): a 200 MB payload never exists as one Python object tree.

    Only a payload with exactly one result set, LeagueGameLog, is streamed; raises PayloadError for
    anything else, and the iteration raises ``ijson.JSONError`` on text that is not strict JSON
    (the caller then falls back to the whole-payload parser, which has the lenient rules).
    """
    import ijson

    env = peek_stats_envelope(body)
    if env is None or len(env["resultSets"]) != 1 or str(env["resultSets"][0]["name"]).lower() != "leaguegamelog":
        raise PayloadValidationError("not a single-result-set LeagueGameLog", reason_code="unknown_shape")
    headers = [str(h) for h in env["resultSets"][0]["headers"]]
    upper = {h.upper() for h in headers}
    missing = [h for h in GAME_LOG_REQUIRED_HEADERS if h not in upper]
    if missing:
        raise PayloadValidationError(
            f"LeagueGameLog is not in player mode (missing headers {missing}); team-mode logs are not ingested",
            reason_code="unknown_shape")
    env_params = env["parameters"] if isinstance(env["parameters"], dict) else {}
    context = _game_log_context({**env_params, **params})
    chunk_rows = chunk_rows or STREAM_CHUNK_ROWS

    def batches() -> Iterator[RecordBatch]:
        rows: list[Any] = []
        start = 0
        for row in ijson.items(_stream_source(body), "resultSets.item.rowSet.item", use_float=True):
            rows.append(row)
            if len(rows) >= chunk_rows:
                yield _game_log_batch(headers, rows, context, start)
                start += len(rows)
                rows = []
        if rows:
            yield _game_log_batch(headers, rows, context, start)

    return ParsedPayload(batches=batches(), params=env_params)  # type: ignore[arg-type]


def _game_log_batch(headers: list[str], rows: list[Any], context: dict[str, Any], start: int) -> RecordBatch:
    data, codes, reasons = _result_set_columns(headers, rows, GAME_LOG_HEADERS)
    return RecordBatch("nba_player_game_logs", len(rows), data, _row_json(headers, rows), codes, reasons,
                       dict(context), start)


STREAMING_PARSERS: dict[tuple[str, str], Callable[..., ParsedPayload]] = {
    ("stats_nba", "leaguegamelog"): stream_league_game_log,
}


PARSERS: dict[tuple[str, str], Callable[[str | bytes, dict[str, Any]], ParsedPayload]] = {
    ("stats_nba", "leaguegamelog"): parse_league_game_log,
    ("stats_nba", "commonallplayers"): parse_common_all_players,
    ("stats_nba", "scoreboardv2"): parse_scoreboard_v2,
    ("nba_cdn", "scheduleleaguev2"): parse_schedule_league_v2,
    ("odds_api", "events"): parse_odds_events,
    ("odds_api", "event_odds"): parse_event_odds,
}


def parse_payload(source: str, endpoint: str, body: str | bytes, params: dict[str, Any] | None = None
                  ) -> ParsedPayload:
    """Parse a payload of a known endpoint; raises PayloadError when it cannot be used at all."""
    parser = PARSERS.get((source, endpoint))
    if parser is None:
        raise PayloadError(f"no parser for {source}/{endpoint}", reason_code="unknown_endpoint")
    return parser(body, dict(params or {}))
