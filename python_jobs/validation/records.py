"""Vectorised record validation: one SQL pass per record kind over a staged Arrow table.

For each kind the staged text columns are cast (strictly: ``20.5`` is not an integer, ``"12"`` in a
numeric field is a wrong type), checked in a fixed order (the first failing check gives the
``reason_code``), de-duplicated within a payload, then:

The checks run in an in-memory DuckDB over the staged Arrow table (a compute engine, never the
warehouse file); the results go to the warehouse through ``Warehouse.load_arrow``:

* valid rows -> ``raw.<table>`` (one bulk load),
* failing rows -> ``raw.quarantine`` with ``reason_code``, ``reason``, ``record_json`` and ``payload_id``.

The invariant *records in = valid + quarantined* is checked per payload on every flush and raises
:class:`~python_jobs.errors.IngestInvariantError` if it ever breaks.

Reason codes: ``row_shape``, ``missing_field``, ``wrong_type``, ``bad_game_id``, ``invalid_date``,
``invalid_timestamp``, ``wrong_season``, ``unknown_team``, ``invalid_matchup``, ``invalid_value``,
``malformed_minutes``, ``minutes_out_of_range``, ``negative_stat``, ``stat_out_of_range``,
``duplicate_record``, ``null_odds``, ``odds_not_number``, ``odds_out_of_range``, ``line_not_number``,
``line_out_of_range``, ``unknown_outcome_side``, ``field_too_long``, ``invalid_characters`` (NUL or a
bidirectional override/isolate U+202A-U+202E, U+2066-U+2069), ``future_date`` (a box score dated
after the run's US/Eastern date), ``line_after_tip`` (a line whose snapshot is after the tip); set by
the parsers: ``non_finite_number`` (NaN/Infinity token) (see docs/ingest.md); batch-level
(:mod:`python_jobs.validation.batch`): ``game_not_in_schedule``, ``inconsistent_game``,
``duplicate_event``, ``implausible_line``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from python_jobs.errors import IngestInvariantError
from python_jobs.validation.batch import apply_batch_checks, load_landed_context
from python_jobs.validation.reference import load_teams
from python_jobs.validation.staging import FieldSpec, StageBuilder
from python_jobs.warehouse.base import Warehouse

INT_RE = r"-?[0-9]+(\.0+)?"
NUM_RE = r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
TS_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?"


def INT(c: str) -> str:  # noqa: N802 - SQL-ish helper
    """Integer value of a staged text column, null unless it is a whole finite number.

    ``try_cast`` to double is much faster than a regular expression; the stage writes string values
    of numeric fields quoted (``"12"``), so they never cast. ``try_cast(.. as bigint)`` would round
    ``12.5`` to 13, hence the double and the whole-number test.
    """
    d = f"try_cast({c} as double)"
    return f"(case when isfinite({d}) and {d} = trunc({d}) and abs({d}) < 9e18 then cast({d} as bigint) end)"


def NUM(c: str) -> str:  # noqa: N802
    d = f"try_cast({c} as double)"
    return f"(case when isfinite({d}) then {d} end)"


def TS(c: str) -> str:  # noqa: N802
    return f"(case when regexp_full_match({c}, '{TS_RE}') then try_cast({c} as timestamptz) end)"


def _names_when(pairs: list[tuple[str, str]]) -> str:
    """SQL listing the labels whose condition holds: concat_ws(', ', case when cond then 'label' end, ...)."""
    return "concat_ws(', ', " + ", ".join(f"case when {cond} then '{label}' end" for label, cond in pairs) + ")"


@dataclass(frozen=True)
class Check:
    code: str
    condition: str  # SQL over the typed columns (``<name>`` text, ``<name>_v`` typed)
    reason: str  # SQL string expression


@dataclass(frozen=True)
class RecordKind:
    name: str  # record_kind in raw.quarantine
    table: str  # raw table
    fields: tuple[FieldSpec, ...]
    context_keys: tuple[str, ...]
    typed: tuple[str, ...]  # extra "expr as alias" select items
    checks: tuple[Check, ...]
    key: tuple[str, ...]  # duplicate key (typed aliases) within one payload
    insert: tuple[tuple[str, str], ...]  # (raw column, expression)

    def builder(self) -> StageBuilder:
        return StageBuilder(self.fields)


# Sane maximum lengths (characters) of staged fields; any field not listed gets the default. A real
# name is < 40 characters; numbers staged as text are short too.
DEFAULT_MAX_TEXT_LENGTH = 64
MAX_TEXT_LENGTH: dict[str, int] = {
    "player_name": 100, "team_name": 100, "display_first_last": 100, "display_last_comma_first": 100,
    "player_slug": 100, "arena_name": 200, "home_team": 100, "away_team": 100, "bookmaker_title": 100,
    "matchup": 20, "team_abbreviation": 10, "home_team_tricode": 10, "away_team_tricode": 10,
}
# NUL and the bidirectional embedding/override (U+202A-U+202E) and isolate (U+2066-U+2069) controls
BAD_CHARACTERS_RE = r"[\x00\x{202A}-\x{202E}\x{2066}-\x{2069}]"


def _text_guards(fields: tuple[FieldSpec, ...]) -> tuple[Check, Check]:
    """field_too_long (every field) and invalid_characters (text fields): the same rule for every kind."""
    long = [(f"{f.header or f.name} (max {MAX_TEXT_LENGTH.get(f.name, DEFAULT_MAX_TEXT_LENGTH)})",
             f"length({f.name}) > {MAX_TEXT_LENGTH.get(f.name, DEFAULT_MAX_TEXT_LENGTH)}") for f in fields]
    text = [f for f in fields if not f.numeric]
    bad = [(f.header or f.name, f"regexp_matches({f.name}, '{BAD_CHARACTERS_RE}')") for f in text]
    return (
        Check("field_too_long", " or ".join(c for _, c in long), "'field too long: ' || " + _names_when(long)),
        Check("invalid_characters",
              f"regexp_matches(concat_ws(' ', {', '.join(f.name for f in text)}), '{BAD_CHARACTERS_RE}')",
              "'NUL or bidirectional control character in: ' || " + _names_when(bad)),
    )


def _missing(fields: tuple[FieldSpec, ...]) -> Check:
    req = [(f.header or f.name, f"nullif(trim({f.name}), '') is null") for f in fields if f.required]
    cond = " or ".join(c for _, c in req)
    return Check("missing_field", cond, f"'required field missing: ' || {_names_when(req)}")


def _wrong_type(pairs: list[tuple[str, str]]) -> Check:
    cond = " or ".join(c for _, c in pairs)
    return Check("wrong_type", cond, f"'wrong type (expected a number): ' || {_names_when(pairs)}")


# ---------------------------------------------------------------------------------------- box scores
_COUNTS = ["fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb", "ast", "stl", "blk", "tov", "pf"]
_PCTS = ["fg_pct", "fg3_pct", "ft_pct"]
_GL_FIELDS = (
    FieldSpec("season_id", "SEASON_ID", required=True),
    FieldSpec("player_id", "PLAYER_ID", numeric=True, required=True),
    FieldSpec("player_name", "PLAYER_NAME", required=True),
    FieldSpec("team_id", "TEAM_ID", numeric=True, required=True),
    FieldSpec("team_abbreviation", "TEAM_ABBREVIATION", required=True),
    FieldSpec("team_name", "TEAM_NAME"),
    FieldSpec("game_id", "GAME_ID", required=True),
    FieldSpec("game_date", "GAME_DATE", required=True),
    FieldSpec("matchup", "MATCHUP", required=True),
    FieldSpec("wl", "WL"),
    FieldSpec("minutes", "MIN"),  # a number (LeagueGameLog) or "mm:ss" (box score endpoints)
    FieldSpec("points", "PTS", numeric=True, required=True),
    *[FieldSpec(c, c.upper(), numeric=True) for c in _COUNTS],
    *[FieldSpec(c, c.upper(), numeric=True) for c in _PCTS],
    FieldSpec("plus_minus", "PLUS_MINUS", numeric=True),
    FieldSpec("fantasy_pts", "FANTASY_PTS", numeric=True),
    FieldSpec("video_available", "VIDEO_AVAILABLE", numeric=True),
)
_GL_INTS = ["player_id", "team_id", "points", *_COUNTS, "video_available"]
_GL_NUMS = [*_PCTS, "plus_minus", "fantasy_pts"]


def _player_game_logs(team_ids: str) -> RecordKind:
    typed = (
        *[f"{INT(c)} as {c}_v" for c in _GL_INTS],
        *[f"{NUM(c)} as {c}_v" for c in _GL_NUMS],
        "(case when regexp_full_match(game_date, '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?') "
        "then try_cast(left(game_date, 10) as date) end) as game_date_v",
        "(case when regexp_full_match(minutes, '[0-9]+(\\.[0-9]+)?') then cast(minutes as double) "
        "when regexp_full_match(minutes, '[0-9]{1,3}:[0-5][0-9](\\.[0-9]+)?') "
        "then cast(split_part(minutes, ':', 1) as integer) + cast(split_part(minutes, ':', 2) as double) / 60 "
        "end) as minutes_v",
        "try_cast(substr(season_id, 2, 4) as integer) as season_year_v",
    )
    neg = " or ".join(f"{c}_v < 0" for c in ["points", *_COUNTS])
    consistency = [
        ("PTS > 100", "points_v > 100"),
        ("FGM > FGA", "fgm_v > fga_v"),
        ("FG3M > FG3A", "fg3m_v > fg3a_v"),
        ("FTM > FTA", "ftm_v > fta_v"),
        ("FG3M > FGM", "fg3m_v > fgm_v"),
        ("PTS <> 2*FGM + FG3M + FTM", "points_v <> 2 * fgm_v + fg3m_v + ftm_v"),
        ("REB <> OREB + DREB", "reb_v <> oreb_v + dreb_v"),
        *[(f"{c.upper()} outside [0, 1]", f"{c}_v not between 0 and 1") for c in _PCTS],
    ]
    checks = (
        *_text_guards(_GL_FIELDS),
        _missing(_GL_FIELDS),
        _wrong_type([(c.upper() if c != "points" else "PTS", f"({c} is not null and {c}_v is null)")
                     for c in [*_GL_INTS, *_GL_NUMS]]),
        Check("bad_game_id", "not regexp_full_match(game_id, '[0-9]{10}')",
              "'GAME_ID is not a 10-digit string: ' || game_id"),
        Check("invalid_date", "game_date_v is null", "'GAME_DATE is not a date: ' || game_date"),
        Check("future_date", "game_date_v > try_cast(ctx_run_date as date)",
              "'GAME_DATE ' || game_date || ' is after the run date ' || ctx_run_date || ' (US/Eastern)'"),
        Check("wrong_season",
              "not regexp_full_match(season_id, '[1-6][0-9]{4}') "
              "or (ctx_expected_season_id is not null and season_id <> ctx_expected_season_id) "
              "or substr(game_id, 3, 1) <> left(season_id, 1) or substr(game_id, 4, 2) <> right(season_id, 2) "
              "or game_date_v not between make_date(season_year_v, 9, 1) and make_date(season_year_v + 1, 10, 31)",
              "'season mismatch: SEASON_ID ' || season_id || coalesce(' (expected ' || ctx_expected_season_id || ')', '') "
              "|| ', GAME_ID ' || game_id || ', GAME_DATE ' || game_date"),
        Check("unknown_team", f"team_id_v not in ({team_ids})", "'unknown TEAM_ID ' || team_id"),
        Check("invalid_matchup",
              "not regexp_full_match(matchup, '[A-Z]{3} (vs\\.|@) [A-Z]{3}') "
              "or team_abbreviation not in (left(matchup, 3), right(matchup, 3))",
              "'MATCHUP ' || matchup || ' does not name team ' || team_abbreviation"),
        Check("invalid_value", "wl is not null and wl not in ('W', 'L')", "'WL must be W or L, got ' || wl"),
        Check("malformed_minutes", "minutes is not null and minutes_v is null", "'MIN is not minutes: ' || minutes"),
        Check("minutes_out_of_range", "minutes_v > 70", "'MIN out of range [0, 70]: ' || minutes"),
        Check("negative_stat", neg, "'negative stat: ' || " + _names_when([(c.upper() if c != 'points' else 'PTS', f"{c}_v < 0") for c in ["points", *_COUNTS]])),
        Check("stat_out_of_range", " or ".join(c for _, c in consistency),
              "'inconsistent stats: ' || " + _names_when(consistency)),
    )
    insert = (
        ("season_id", "season_id"), ("player_id", "player_id_v"), ("player_name", "player_name"),
        ("team_id", "team_id_v"), ("team_abbreviation", "team_abbreviation"), ("team_name", "team_name"),
        ("game_id", "game_id"), ("game_date", "game_date_v"), ("matchup", "matchup"), ("wl", "wl"),
        ("minutes", "minutes_v"), ("points", "points_v"),
        *[(c, f"{c}_v") for c in [*_COUNTS, *_PCTS, "plus_minus", "fantasy_pts", "video_available"]],
    )
    return RecordKind("nba_player_game_logs", "nba_player_game_logs", _GL_FIELDS,
                      ("expected_season_id", "run_date"), typed, checks, ("game_id", "player_id_v"), insert)


# ---------------------------------------------------------------------------------------- players
_PL_FIELDS = (
    FieldSpec("player_id", "PERSON_ID", numeric=True, required=True),
    FieldSpec("display_last_comma_first", "DISPLAY_LAST_COMMA_FIRST"),
    FieldSpec("display_first_last", "DISPLAY_FIRST_LAST", required=True),
    FieldSpec("roster_status", "ROSTERSTATUS", numeric=True),
    FieldSpec("from_year", "FROM_YEAR"),  # strings in the real payload ("1990")
    FieldSpec("to_year", "TO_YEAR"),
    FieldSpec("player_slug", "PLAYER_SLUG"),
    FieldSpec("team_id", "TEAM_ID", numeric=True),
    FieldSpec("team_abbreviation", "TEAM_ABBREVIATION"),
)


def _players(team_ids: str) -> RecordKind:
    typed = tuple(f"{INT(c)} as {c}_v" for c in ["player_id", "roster_status", "team_id", "from_year", "to_year"])
    checks = (
        *_text_guards(_PL_FIELDS),
        _missing(_PL_FIELDS),
        _wrong_type([(label, f"({c} is not null and {c}_v is null)") for label, c in
                     [("PERSON_ID", "player_id"), ("ROSTERSTATUS", "roster_status"), ("TEAM_ID", "team_id"),
                      ("FROM_YEAR", "from_year"), ("TO_YEAR", "to_year")]]),
        Check("invalid_value", "player_id_v <= 0 or roster_status_v not in (0, 1)",
              "'PERSON_ID must be positive and ROSTERSTATUS 0/1: ' || player_id || ', ' || coalesce(roster_status, 'null')"),
        Check("out_of_range", "from_year_v not between 1946 and 2100 or to_year_v not between 1946 and 2100 "
              "or to_year_v < from_year_v", "'career years out of range: ' || coalesce(from_year, 'null') || '-' || coalesce(to_year, 'null')"),
        Check("unknown_team", f"team_id_v <> 0 and team_id_v not in ({team_ids})", "'unknown TEAM_ID ' || team_id"),
    )
    insert = (
        ("player_id", "player_id_v"), ("display_first_last", "display_first_last"),
        ("display_last_comma_first", "display_last_comma_first"), ("roster_status", "roster_status_v"),
        ("from_year", "from_year_v"), ("to_year", "to_year_v"), ("player_slug", "player_slug"),
        ("team_id", "team_id_v"), ("team_abbreviation", "nullif(team_abbreviation, '')"),
    )
    return RecordKind("nba_players", "nba_players", _PL_FIELDS, (), typed, checks, ("player_id_v",), insert)


# ---------------------------------------------------------------------------------------- schedule
_SG_FIELDS = (
    FieldSpec("game_id", "gameId", required=True),
    FieldSpec("season"),
    FieldSpec("game_date", "gameDateEst", required=True),
    FieldSpec("tip_at", "gameDateTimeUTC"),
    FieldSpec("home_team_id", "homeTeam.teamId", numeric=True),
    FieldSpec("away_team_id", "awayTeam.teamId", numeric=True),
    FieldSpec("home_team_tricode", "homeTeam.teamTricode", required=True),
    FieldSpec("away_team_tricode", "awayTeam.teamTricode", required=True),
    FieldSpec("game_status", "gameStatus", numeric=True),
    FieldSpec("arena_name", "arenaName"),
)


def _schedule_games(team_ids: str, tricodes: str) -> RecordKind:
    typed = (
        *[f"{INT(c)} as {c}_v" for c in ["home_team_id", "away_team_id", "game_status"]],
        "(case when regexp_full_match(game_date, '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?') "
        "then try_cast(left(game_date, 10) as date) end) as game_date_v",
        f"{TS('tip_at')} as tip_at_v",
    )
    checks = (
        *_text_guards(_SG_FIELDS),
        _missing(_SG_FIELDS),
        _wrong_type([(label, f"({c} is not null and {c}_v is null)") for label, c in
                     [("HOME_TEAM_ID", "home_team_id"), ("VISITOR_TEAM_ID", "away_team_id"),
                      ("GAME_STATUS", "game_status")]]),
        Check("bad_game_id", "not regexp_full_match(game_id, '00[1-6][0-9]{7}')", "'game id is not a 10-digit NBA id: ' || game_id"),
        Check("invalid_date", "game_date_v is null", "'game date is not a date: ' || game_date"),
        Check("invalid_timestamp", "tip_at is not null and tip_at_v is null", "'tip time is not a timestamp: ' || tip_at"),
        Check("wrong_season", "season is not null and (not regexp_full_match(season, '[0-9]{4}-[0-9]{2}') "
              "or substr(game_id, 4, 2) <> substr(season, 3, 2))",
              "'game ' || game_id || ' is not in season ' || season"),
        Check("unknown_team", f"home_team_tricode not in ({tricodes}) or away_team_tricode not in ({tricodes}) "
              f"or home_team_id_v not in ({team_ids}) or away_team_id_v not in ({team_ids})",
              "'unknown team: ' || home_team_tricode || ' / ' || away_team_tricode"),
        Check("invalid_matchup", "home_team_tricode = away_team_tricode or home_team_id_v = away_team_id_v",
              "'a team cannot play itself: ' || home_team_tricode"),
        Check("invalid_value", "game_status_v not in (1, 2, 3)", "'game status must be 1, 2 or 3: ' || game_status"),
    )
    season_type = ("case substr(game_id, 3, 1) when '1' then 'Preseason' when '2' then 'Regular Season' "
                   "when '3' then 'All-Star' when '4' then 'Playoffs' when '5' then 'PlayIn' "
                   "when '6' then 'NBA Cup Final' end")
    insert = (
        ("game_id", "game_id"), ("season", "season"), ("season_type", season_type), ("game_date", "game_date_v"),
        ("tip_at", "tip_at_v"), ("home_team_id", "home_team_id_v"), ("away_team_id", "away_team_id_v"),
        ("home_team_tricode", "home_team_tricode"), ("away_team_tricode", "away_team_tricode"),
        ("game_status", "game_status_v"), ("arena_name", "arena_name"),
    )
    return RecordKind("nba_schedule_games", "nba_schedule_games", _SG_FIELDS, (), typed, checks, ("game_id",), insert)


# ---------------------------------------------------------------------------------------- odds
_OD_FIELDS = (
    FieldSpec("event_id", "id", required=True),
    FieldSpec("sport_key", "sport_key"),
    FieldSpec("commence_time", "commence_time"),
    FieldSpec("home_team", "home_team", required=True),
    FieldSpec("away_team", "away_team", required=True),
    FieldSpec("bookmaker_key", "bookmakers[].key", required=True),
    FieldSpec("bookmaker_title", "bookmakers[].title"),
    FieldSpec("market_key", "markets[].key", required=True),
    FieldSpec("market_last_update", "markets[].last_update"),
    FieldSpec("snapshot_at", "timestamp"),
    FieldSpec("player_name", "outcomes[].description", required=True),
    FieldSpec("line_points", "outcomes[].point", numeric=True, required=True),
    FieldSpec("over_price", "Over price", numeric=True),
    FieldSpec("under_price", "Under price", numeric=True),
)


def _odds(team_names: str) -> RecordKind:
    typed = (
        f"{NUM('line_points')} as line_points_v",
        f"{INT('over_price')} as over_price_v",
        f"{INT('under_price')} as under_price_v",
        *[f"{TS(c)} as {c}_v" for c in ["commence_time", "market_last_update", "snapshot_at"]],
    )
    price_bad = [("Over", "over_price_v not between -50000 and -100 and over_price_v not between 100 and 50000"),
                 ("Under", "under_price_v not between -50000 and -100 and under_price_v not between 100 and 50000")]
    checks = (
        *_text_guards(_OD_FIELDS),
        _missing(_OD_FIELDS),
        Check("line_not_number", "line_points_v is null", "'line (point) is not a number: ' || line_points"),
        Check("odds_not_number", "(over_price is not null and over_price_v is null) "
              "or (under_price is not null and under_price_v is null)",
              "'American odds must be integers: over ' || coalesce(over_price, 'null') || ', under ' || coalesce(under_price, 'null')"),
        Check("null_odds", "over_price is null and under_price is null", "'neither side of the line has a price'"),
        Check("odds_out_of_range", " or ".join(c for _, c in price_bad),
              "'American odds outside [-50000, -100] u [100, 50000]: ' || " + _names_when(price_bad)),
        Check("line_out_of_range", "line_points_v not between 0 and 100", "'points line outside [0, 100]: ' || line_points"),
        Check("invalid_timestamp", "(commence_time is not null and commence_time_v is null) "
              "or (market_last_update is not null and market_last_update_v is null) "
              "or (snapshot_at is not null and snapshot_at_v is null)",
              "'bad timestamp: ' || concat_ws(', ', commence_time, market_last_update, snapshot_at)"),
        Check("line_after_tip", "snapshot_at_v > commence_time_v",
              "'line snapshot ' || snapshot_at || ' is after the tip ' || commence_time"),
        Check("unknown_team", f"home_team not in ({team_names}) or away_team not in ({team_names}) or home_team = away_team",
              "'unknown team: ' || home_team || ' / ' || away_team"),
    )
    insert = (
        ("event_id", "event_id"), ("sport_key", "coalesce(sport_key, 'basketball_nba')"),
        ("commence_time", "commence_time_v"), ("home_team", "home_team"), ("away_team", "away_team"),
        ("bookmaker_key", "bookmaker_key"), ("bookmaker_title", "bookmaker_title"), ("market_key", "market_key"),
        ("market_last_update", "market_last_update_v"), ("snapshot_at", "snapshot_at_v"),
        ("captured_at", "coalesce(snapshot_at_v, market_last_update_v, scraped_at)"),
        ("player_name", "player_name"), ("line_points", "line_points_v"), ("over_price", "over_price_v"),
        ("under_price", "under_price_v"),
    )
    return RecordKind("odds_player_props", "odds_player_props", _OD_FIELDS, (), typed, checks,
                      ("event_id", "bookmaker_key", "market_key", "player_name", "line_points_v"), insert)


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def record_kinds(home: Path) -> dict[str, RecordKind]:
    teams = load_teams(home)
    ids = ", ".join(str(t.team_id) for t in teams.teams)
    tricodes = _sql_list([t.tricode for t in teams.teams])
    names = _sql_list([t.odds_api_name for t in teams.teams])
    kinds = [_player_game_logs(ids), _players(ids), _schedule_games(ids, tricodes), _odds(names)]
    return {k.name: k for k in kinds}


@dataclass
class FlushCounts:
    """Per payload: records in, valid, quarantined."""

    n_records: int
    n_valid: int
    n_quarantined: int


def _compute_connection() -> duckdb.DuckDBPyConnection:
    """In-memory DuckDB used only as a compute engine over the staged Arrow table (never the
    warehouse file: see ``python_jobs.warehouse``)."""
    mem = duckdb.connect(":memory:")
    mem.execute("set timezone = 'UTC'")
    mem.execute("set enable_progress_bar = false")
    return mem


def validate_and_load(con: Warehouse, kind: RecordKind, builder: StageBuilder,
                      *, quarantined_at: object, check_earlier: bool = False) -> dict[str, FlushCounts]:
    """Check every staged record of ``kind`` (in memory); load valid rows and quarantine the rest into
    the warehouse ``con`` (``load_arrow``); return counts.

    ``check_earlier``: the staged records continue a payload loaded in earlier chunks; a key that
    an earlier chunk of the same payload already loaded is a ``duplicate_record`` too.
    """
    if builder.n_rows == 0:
        return {}
    stage = builder.table(kind.context_keys)
    mem = _compute_connection()
    try:
        mem.register("_stage_in", stage)
        checks = kind.checks
        code_case = "case " + " ".join(f"when coalesce({c.condition}, false) then '{c.code}'" for c in checks) + " end"
        reason_case = "case " + " ".join(f"when coalesce({c.condition}, false) then {c.reason}" for c in checks) + " end"
        key = ", ".join(kind.key)
        earlier = "false"
        if check_earlier:
            # the keys earlier chunks of these payloads already loaded, read from the warehouse
            raw_cols = {expr: col for col, expr in kind.insert}
            payload_ids = sorted({v for v in stage.column("payload_id").to_pylist() if v is not None})
            marks = ", ".join("?" * len(payload_ids))
            loaded = con.fetch_arrow(
                f"select payload_id, {', '.join(raw_cols[k] + ' as ' + k for k in kind.key)} "
                f"from raw.{kind.table} where payload_id in ({marks})", payload_ids)
            mem.register("_earlier_in", loaded)
            same_key = " and ".join(f"t.{k} = ranked.{k}" for k in kind.key)
            earlier = (f"exists (select 1 from _earlier_in t "
                       f"where t.payload_id = ranked.payload_id and {same_key})")
        mem.execute(
            f"""
            create temp table _checked as
            with typed as (
                select *, {", ".join(kind.typed)} from _stage_in
            ),
            reasoned as (
                select *,
                       coalesce(pre_reason_code, {code_case}) as reason_code0,
                       coalesce(pre_reason, {reason_case}) as reason0
                from typed
            ),
            ranked as (
                select *,
                       row_number() over (partition by payload_id, (reason_code0 is null), {key}
                                          order by record_index) as key_rank
                from reasoned
            )
            select *,
                   case when reason_code0 is null and (key_rank > 1 or {earlier}) then 'duplicate_record'
                        else reason_code0 end as reason_code,
                   case when reason_code0 is null and (key_rank > 1 or {earlier})
                        then 'duplicate of an earlier record with the same key in this payload' else reason0 end
                       as reason
            from ranked
            """
        )
        # batch-level rules (validation/batch.py), against what is already landed
        load_landed_context(con, mem, kind.name, dict(kind.insert))
        apply_batch_checks(mem, kind.name, dict(kind.insert))
        items = ", ".join(f"{e} as {c}" for c, e in kind.insert)
        valid = mem.sql(
            f"""
            select payload_id, scrape_run_id, scraped_at, record_index, {items}
            from _checked where reason_code is null order by payload_id, record_index
            """
        ).to_arrow_table()
        con.load_arrow(f"raw.{kind.table}", valid)
        bad = mem.sql(
            """
            select cast(uuid() as varchar) as quarantine_id, payload_id, scrape_run_id, source, endpoint,
                   cast(? as varchar) as record_kind, record_index, reason_code,
                   coalesce(reason, reason_code) as reason, record_json,
                   cast(? as timestamptz) as quarantined_at
            from _checked where reason_code is not null order by payload_id, record_index
            """,
            params=[kind.name, quarantined_at],
        ).to_arrow_table()
        if bad.num_rows:
            pids = bad.column("payload_id").to_pylist()
            idx = bad.column("record_index").to_pylist()
            given = bad.column("record_json").to_pylist()
            filled = [g if g is not None else builder.record_json(p, i) for p, i, g in zip(pids, idx, given, strict=True)]
            bad = bad.set_column(bad.schema.get_field_index("record_json"), "record_json",
                                 pa.array(filled, type=pa.string()))
            con.load_arrow("raw.quarantine", bad)
        rows = mem.execute(
            """
            select payload_id, count(*), count(*) filter (where reason_code is null),
                   count(*) filter (where reason_code is not null)
            from _checked group by payload_id
            """
        ).fetchall()
    finally:
        mem.close()
    counts = {pid: FlushCounts(n, v, q) for pid, n, v, q in rows}
    staged_per_payload: dict[str, int] = {}
    for chunk in builder.columns["payload_id"]:
        if len(chunk):
            pid = chunk[0].as_py()
            staged_per_payload[pid] = staged_per_payload.get(pid, 0) + len(chunk)
    for pid, n in staged_per_payload.items():
        c = counts.get(pid)
        if c is None or c.n_records != n or c.n_valid + c.n_quarantined != n:
            raise IngestInvariantError(f"payload {pid}: {n} records staged but counts are {c}")
    builder.clear()
    return counts
