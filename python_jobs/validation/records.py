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
from python_jobs.validation.spec import Check, KindSpec, load_spec
from python_jobs.validation.staging import FieldSpec, StageBuilder
from python_jobs.warehouse.base import Warehouse


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


# The field rules (types, required, lengths, characters, patterns, ranges, allowed values) come from
# config/validation/<kind>.yml through ``KindSpec``: ``spec.check(code)`` is the edge check of every
# field rule with that reason code. The check ORDER below is the quarantine contract (the first failing
# check names the reason code); the ``extra`` conditions are the cross-field rules (edge only).

# ---------------------------------------------------------------------------------------- box scores
_COUNTS = ["fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb", "ast", "stl", "blk", "tov", "pf"]
_PCTS = ["fg_pct", "fg3_pct", "ft_pct"]


def _player_game_logs(spec: KindSpec) -> RecordKind:
    typed = (*spec.typed(), "try_cast(substr(season_id, 2, 4) as integer) as season_year_v")
    consistency = [
        ("FGM > FGA", "fgm_v > fga_v"),
        ("FG3M > FG3A", "fg3m_v > fg3a_v"),
        ("FTM > FTA", "ftm_v > fta_v"),
        ("FG3M > FGM", "fg3m_v > fgm_v"),
        ("PTS <> 2*FGM + FG3M + FTM", "points_v <> 2 * fgm_v + fg3m_v + ftm_v"),
        ("REB <> OREB + DREB", "reb_v <> oreb_v + dreb_v"),
    ]
    checks = (
        *spec.text_guards(),
        spec.check("missing_field"),
        spec.check("wrong_type"),
        spec.check("bad_game_id"),
        spec.check("invalid_date"),
        Check("future_date", "game_date_v > try_cast(ctx_run_date as date)",
              "'GAME_DATE ' || game_date || ' is after the run date ' || ctx_run_date || ' (US/Eastern)'"),
        spec.check("wrong_season", [(
            "SEASON_ID/GAME_ID/GAME_DATE",
            "(ctx_expected_season_id is not null and season_id <> ctx_expected_season_id) "
            "or substr(game_id, 3, 1) <> left(season_id, 1) or substr(game_id, 4, 2) <> right(season_id, 2) "
            "or game_date_v not between make_date(season_year_v, 9, 1) and make_date(season_year_v + 1, 10, 31)")],
            reason="'season mismatch: SEASON_ID ' || season_id || coalesce(' (expected ' || ctx_expected_season_id "
                   "|| ')', '') || ', GAME_ID ' || game_id || ', GAME_DATE ' || game_date"),
        spec.check("unknown_team", reason="'unknown TEAM_ID ' || team_id"),
        spec.check("invalid_matchup", [("MATCHUP", "team_abbreviation not in (left(matchup, 3), right(matchup, 3))")],
                   reason="'MATCHUP ' || matchup || ' does not name team ' || team_abbreviation"),
        spec.check("invalid_value", reason="'WL must be W or L, got ' || wl"),
        spec.check("malformed_minutes", reason="'MIN is not minutes: ' || minutes"),
        spec.check("minutes_out_of_range", reason="'MIN out of range [0, 70]: ' || minutes"),
        spec.check("negative_stat"),
        spec.check("stat_out_of_range", consistency),
    )
    insert = (
        ("season_id", "season_id"), ("player_id", "player_id_v"), ("player_name", "player_name"),
        ("team_id", "team_id_v"), ("team_abbreviation", "team_abbreviation"), ("team_name", "team_name"),
        ("game_id", "game_id"), ("game_date", "game_date_v"), ("matchup", "matchup"), ("wl", "wl"),
        ("minutes", "minutes_v"), ("points", "points_v"),
        *[(c, f"{c}_v") for c in [*_COUNTS, *_PCTS, "plus_minus", "fantasy_pts", "video_available"]],
    )
    return RecordKind("nba_player_game_logs", "nba_player_game_logs", spec.stage_fields,
                      ("expected_season_id", "run_date"), typed, checks, ("game_id", "player_id_v"), insert)


# ---------------------------------------------------------------------------------------- players
def _players(spec: KindSpec) -> RecordKind:
    checks = (
        *spec.text_guards(),
        spec.check("missing_field"),
        spec.check("wrong_type"),
        spec.check("invalid_value", reason="'PERSON_ID must be positive and ROSTERSTATUS 0/1: ' || player_id "
                                           "|| ', ' || coalesce(roster_status, 'null')"),
        spec.check("out_of_range", [("TO_YEAR < FROM_YEAR", "to_year_v < from_year_v")],
                   reason="'career years out of range: ' || coalesce(from_year, 'null') || '-' "
                          "|| coalesce(to_year, 'null')"),
        spec.check("unknown_team", reason="'unknown TEAM_ID ' || team_id"),
    )
    insert = (
        ("player_id", "player_id_v"), ("display_first_last", "display_first_last"),
        ("display_last_comma_first", "display_last_comma_first"), ("roster_status", "roster_status_v"),
        ("from_year", "from_year_v"), ("to_year", "to_year_v"), ("player_slug", "player_slug"),
        ("team_id", "team_id_v"), ("team_abbreviation", "nullif(team_abbreviation, '')"),
    )
    return RecordKind("nba_players", "nba_players", spec.stage_fields, (), spec.typed(), checks, ("player_id_v",),
                      insert)


# ---------------------------------------------------------------------------------------- schedule
def _schedule_games(spec: KindSpec) -> RecordKind:
    checks = (
        *spec.text_guards(),
        spec.check("missing_field"),
        spec.check("wrong_type"),
        spec.check("bad_game_id", reason="'game id is not a 10-digit NBA id: ' || game_id"),
        spec.check("invalid_date", reason="'game date is not a date: ' || game_date"),
        spec.check("invalid_timestamp", reason="'tip time is not a timestamp: ' || tip_at"),
        spec.check("wrong_season", [("GAME_ID", "season is not null and substr(game_id, 4, 2) <> substr(season, 3, 2)")],
                   reason="'game ' || game_id || ' is not in season ' || season"),
        spec.check("unknown_team", reason="'unknown team: ' || home_team_tricode || ' / ' || away_team_tricode"),
        Check("invalid_matchup", "home_team_tricode = away_team_tricode or home_team_id_v = away_team_id_v",
              "'a team cannot play itself: ' || home_team_tricode"),
        spec.check("invalid_value", reason="'game status must be 1, 2 or 3: ' || game_status"),
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
    return RecordKind("nba_schedule_games", "nba_schedule_games", spec.stage_fields, (), spec.typed(), checks,
                      ("game_id",), insert)


# ---------------------------------------------------------------------------------------- odds
def _odds(spec: KindSpec) -> RecordKind:
    checks = (
        *spec.text_guards(),
        spec.check("missing_field"),
        spec.check("line_not_number", reason="'line (point) is not a number: ' || line_points"),
        spec.check("odds_not_number", reason="'American odds must be integers: over ' || coalesce(over_price, 'null') "
                                             "|| ', under ' || coalesce(under_price, 'null')"),
        Check("null_odds", "over_price is null and under_price is null", "'neither side of the line has a price'"),
        spec.check("odds_out_of_range"),
        spec.check("line_out_of_range", reason="'points line outside [0, 100]: ' || line_points"),
        spec.check("invalid_timestamp", reason="'bad timestamp: ' || concat_ws(', ', commence_time, "
                                               "market_last_update, snapshot_at)"),
        Check("line_after_tip", "snapshot_at_v > commence_time_v",
              "'line snapshot ' || snapshot_at || ' is after the tip ' || commence_time"),
        spec.check("unknown_team", [("home = away", "home_team = away_team")],
                   reason="'unknown team: ' || home_team || ' / ' || away_team"),
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
    return RecordKind("odds_player_props", "odds_player_props", spec.stage_fields, (), spec.typed(), checks,
                      ("event_id", "bookmaker_key", "market_key", "player_name", "line_points_v"), insert)


def record_kinds(home: Path) -> dict[str, RecordKind]:
    builders = {"nba_player_game_logs": _player_game_logs, "nba_players": _players,
                "nba_schedule_games": _schedule_games, "odds_player_props": _odds}
    return {name: build(load_spec(Path(home), name)) for name, build in builders.items()}


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
        # the first failing check, by its position: its conditions are evaluated once per record
        # (for the code and the reason alike), only where the parser did not already give both
        first_failing = "case " + " ".join(f"when coalesce({c.condition}, false) then {i}"
                                           for i, c in enumerate(checks)) + " end"
        code_case = "case _check_no " + " ".join(f"when {i} then '{c.code}'" for i, c in enumerate(checks)) + " end"
        reason_case = "case _check_no " + " ".join(f"when {i} then {c.reason}" for i, c in enumerate(checks)) + " end"
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
            numbered as (
                select *,
                       case when pre_reason_code is null or pre_reason is null then {first_failing} end as _check_no
                from typed
            ),
            reasoned as (
                select * exclude (_check_no),
                       coalesce(pre_reason_code, {code_case}) as reason_code0,
                       coalesce(pre_reason, {reason_case}) as reason0
                from numbered
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
