"""Batch-level validation at the edge (issue #11, point 1): records that pass their own checks but
are wrong together with the rest of their payload, the schedule, or what is already landed.

Applied by :func:`python_jobs.validation.records.validate_and_load` to the checked batch (temp table
``_checked``, alias ``c``) after the per-record checks and before loading: a failing record gets its
reason code and is quarantined like any other (``raw.quarantine``), the rest of the payload lands.
The SQL is static: no data is ever put into it.

* ``nba_player_game_logs`` / ``game_not_in_schedule``: a game id that matches no scheduled game,
  for a team that already has a scheduled game that date under another id (a fabricated or
  mistyped id; real games missing from the schedule, such as the NBA Cup knockout games, have no
  such twin and land). ``inconsistent_game``: one game id whose rows name more than two teams or
  more than one date.
* ``nba_player_game_logs`` / ``implausible_points``: points far above the player's range in that
  season AND at an implausible rate. Far above: more than max(IMPLAUSIBLE_POINTS_P95_FACTOR x p95,
  max + IMPLAUSIBLE_POINTS_MARGIN) of his other games of the season (landed by other payloads, or
  in the batch; the row's own game left out), judged only with at least IMPLAUSIBLE_POINTS_MIN_GAMES such games. Rate:
  more than IMPLAUSIBLE_POINTS_PER_MINUTE points per minute played. Real breakout games pass (the
  range bound alone trips 10 real rows of the ten bundled seasons, e.g. 50 points in 34 minutes,
  all at <= 1.25 points a minute); no bundled row trips the rule
  (``tests/python/ingest/test_implausible_points.py``). Conservative on purpose: a 4 -> 24 correction
  in 20 minutes is not caught here (it is recorded and alerted as a correction downstream).
* ``odds_player_props`` / ``duplicate_event``: the same game (home and away team) and the same
  snapshot time already landed, or earlier in the batch, under another event id; the second copy
  would give every (player, book, snapshot) group two main lines.
* ``odds_player_props`` / ``implausible_line``: a two-sided line (Over and Under priced: the kind
  that can become a book's main line and move the consensus) farther than
  max(IMPLAUSIBLE_LINE_MIN_POINTS, IMPLAUSIBLE_LINE_SHARE x median) from the median of the other
  books' two-sided lines for the same player and event (landed or in the batch). On the bundled
  2024-25 lines no record trips it (one-sided alternates of a ladder are not compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb

from python_jobs.warehouse.partitions import floor_timestamp, landed_since

if TYPE_CHECKING:
    from python_jobs.warehouse.base import Warehouse

_SEASON_SPAN = timedelta(days=366)  # a season's games span less than a year


def _landed_since(first: date | None) -> datetime:
    """The partition bound of the landed context: rows about ``first`` or later (an empty batch:
    nothing to match, any bound)."""
    return floor_timestamp() if first is None else landed_since(first)


def _utc_date(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    return value

IMPLAUSIBLE_POINTS_P95_FACTOR = 3
IMPLAUSIBLE_POINTS_MARGIN = 15
IMPLAUSIBLE_POINTS_MIN_GAMES = 20
IMPLAUSIBLE_POINTS_PER_MINUTE = 1.5
IMPLAUSIBLE_LINE_MIN_POINTS = 8
IMPLAUSIBLE_LINE_SHARE = 0.6


@dataclass(frozen=True)
class BatchCheck:
    code: str
    condition: str  # SQL over alias c (a still-valid row of _checked)
    reason: str     # SQL string expression over c


def _captured_at(insert: dict[str, str]) -> str:
    """The snapshot time of an odds record: the loader's own expression (one rule, one place)."""
    return insert["captured_at"].replace("snapshot_at_v", "c.snapshot_at_v").replace(
        "market_last_update_v", "c.market_last_update_v").replace("scraped_at", "c.scraped_at")


# the player's points in his other games of the season: landed, and valid rows earlier in the batch
_season_points = (
    "(select r.points from raw.nba_player_game_logs as r where r.player_id = c.player_id_v"
    "  and r.season_id = c.season_id and r.game_id <> c.game_id and r.points is not null"
    " union all"
    " select o.points_v from _checked as o where o.player_id_v = c.player_id_v and o.season_id = c.season_id"
    "  and o.game_id <> c.game_id and o.reason_code is null and o.points_v is not null) as x(points)"
)


def batch_checks(kind_name: str, insert: dict[str, str]) -> list[BatchCheck]:
    if kind_name == "nba_player_game_logs":
        return [
            BatchCheck(
                "inconsistent_game",
                "(select count(distinct o.team_id_v) from _checked as o where o.game_id = c.game_id "
                " and o.reason_code is null) > 2 "
                "or (select count(distinct o.game_date_v) from _checked as o where o.game_id = c.game_id "
                " and o.reason_code is null) > 1",
                "'GAME_ID ' || c.game_id || ' has rows for more than two teams or more than one date in this batch'",
            ),
            BatchCheck(
                "game_not_in_schedule",
                "not exists (select 1 from raw.nba_schedule_games as s where s.game_id = c.game_id) "
                "and exists (select 1 from raw.nba_schedule_games as s where s.game_date = c.game_date_v "
                " and c.team_id_v in (s.home_team_id, s.away_team_id) and s.game_id <> c.game_id)",
                "'GAME_ID ' || c.game_id || ' is not scheduled; team ' || c.team_abbreviation || ' has another "
                "scheduled game on ' || cast(c.game_date_v as varchar)",
            ),
            BatchCheck(
                "implausible_points",
                f"c.points_v > {IMPLAUSIBLE_POINTS_PER_MINUTE} * coalesce(c.minutes_v, 0) and c.points_v > (select case when count(*) >= {IMPLAUSIBLE_POINTS_MIN_GAMES} then greatest("
                f"{IMPLAUSIBLE_POINTS_P95_FACTOR} * quantile_cont(x.points, 0.95), max(x.points) + "
                f"{IMPLAUSIBLE_POINTS_MARGIN}) end from {_season_points}) ",
                f"'PTS ' || cast(c.points_v as varchar) || ' is far above the season range of player ' || "
                f"cast(c.player_id_v as varchar) || ' (max of ' || {IMPLAUSIBLE_POINTS_P95_FACTOR} || ' x p95, "
                f"season max + ' || {IMPLAUSIBLE_POINTS_MARGIN} || ' of his other games) in ' || "
                f"coalesce(cast(round(c.minutes_v, 1) as varchar), '?') || ' minutes (over ' || "
                f"{IMPLAUSIBLE_POINTS_PER_MINUTE} || ' a minute)'",
            ),
        ]
    if kind_name == "odds_player_props":
        captured = _captured_at(insert)
        others_median = (
            "(select median(x.line_points) from ("
            " select r.line_points, r.bookmaker_key from raw.odds_player_props as r where r.event_id = c.event_id"
            "  and r.player_name = c.player_name and r.over_price is not null and r.under_price is not null"
            " union all"
            " select o.line_points_v, o.bookmaker_key from _checked as o where o.event_id = c.event_id"
            "  and o.player_name = c.player_name and o.reason_code is null"
            "  and o.over_price_v is not null and o.under_price_v is not null"
            ") as x where x.bookmaker_key <> c.bookmaker_key)"
        )
        return [
            BatchCheck(
                "duplicate_event",
                "exists (select 1 from raw.odds_player_props as r where r.event_id <> c.event_id "
                f" and r.home_team = c.home_team and r.away_team = c.away_team and r.captured_at = {captured}) "
                "or exists (select 1 from _checked as o where o.reason_code is null and o.event_id < c.event_id "
                " and o.home_team = c.home_team and o.away_team = c.away_team and "
                f" {captured.replace('c.', 'o.')} = {captured})",
                "'event ' || c.event_id || ': ' || c.away_team || ' at ' || c.home_team || ' with this snapshot time "
                "is already landed under another event id'",
            ),
            BatchCheck(
                "implausible_line",
                f"c.over_price_v is not null and c.under_price_v is not null and abs(c.line_points_v - {others_median}) "
                f"> greatest({IMPLAUSIBLE_LINE_MIN_POINTS}, {IMPLAUSIBLE_LINE_SHARE} * {others_median})",
                f"'line ' || cast(c.line_points_v as varchar) || ' of ' || c.bookmaker_key || ' for ' || c.player_name "
                f"|| ' is far from the other books (median ' || cast({others_median} as varchar) || ')'",
            ),
        ]
    return []


def load_landed_context(wh: Warehouse, mem: duckdb.DuckDBPyConnection, kind_name: str,
                        insert: dict[str, str]) -> None:
    """Copy what the batch checks read of the warehouse (``raw.nba_schedule_games`` /
    ``raw.odds_player_props``) into the in-memory compute engine under the same names, restricted to
    the batch's games, dates, events and snapshot times (the checks run in memory, next to ``_checked``)."""
    if not batch_checks(kind_name, insert):
        return
    mem.execute("create schema if not exists raw")
    if kind_name == "nba_player_game_logs":
        games, dates = mem.execute(
            "select list(distinct game_id), list(distinct game_date_v) from _checked where reason_code is null"
        ).fetchall()[0]
        dates = [d for d in dates or [] if d is not None]
        # the batch's games are of its dates: their schedule rows landed from landed_since(first date)
        rows = wh.fetch_arrow(
            "select game_id, game_date, home_team_id, away_team_id from raw.nba_schedule_games "
            "where scraped_at >= ? and (game_id in (select unnest(?)) or game_date in (select unnest(?)))",
            [_landed_since(min(dates, default=None)), [g for g in games or [] if g is not None], dates])
        mem.register("_landed_schedule", rows)
        mem.execute("create or replace table raw.nba_schedule_games as select * from _landed_schedule")
        mem.unregister("_landed_schedule")
        players, seasons, payloads = mem.execute(
            "select list(distinct player_id_v), list(distinct season_id), list(distinct payload_id) "
            "from _checked where reason_code is null"
        ).fetchall()[0]
        # the player's games landed by OTHER payloads (the batch's own rows are in _checked): a
        # streamed payload's later chunks never re-read its earlier ones (bounded memory and time)
        # games of the batch's seasons: a season spans less than a year, so they are dated from a
        # year before the batch's first date on
        first = min(dates, default=None)
        rows = wh.fetch_arrow(
            "select player_id, season_id, game_id, points from raw.nba_player_game_logs "
            "where scraped_at >= ? and player_id in (select unnest(?)) and season_id in (select unnest(?)) "
            "and payload_id not in (select unnest(?))",
            [_landed_since(None if first is None else first - _SEASON_SPAN),
             [p for p in players or [] if p is not None], [s for s in seasons or [] if s is not None],
             [p for p in payloads or [] if p is not None]])
        mem.register("_landed_logs", rows)
        mem.execute("create or replace table raw.nba_player_game_logs as select * from _landed_logs")
        mem.unregister("_landed_logs")
    elif kind_name == "odds_player_props":
        events, captured = mem.execute(
            f"select list(distinct c.event_id), list(distinct {_captured_at(insert)}) from _checked as c "
            "where c.reason_code is null").fetchall()[0]
        captured = [t for t in captured or [] if t is not None]
        # the events' games are of the batch's snapshot dates or later (live odds: up to a day
        # earlier), so their rows landed from landed_since(first snapshot date - 1 day) on
        first = min(captured, default=None)
        rows = wh.fetch_arrow(
            "select event_id, home_team, away_team, captured_at, player_name, bookmaker_key, line_points, "
            "over_price, under_price from raw.odds_player_props "
            "where scraped_at >= ? and (event_id in (select unnest(?)) or captured_at in (select unnest(?)))",
            [_landed_since(None if first is None else _utc_date(first) - timedelta(days=1)),
             [e for e in events or [] if e is not None], captured])
        mem.register("_landed_odds", rows)
        mem.execute("create or replace table raw.odds_player_props as select * from _landed_odds")
        mem.unregister("_landed_odds")


def apply_batch_checks(con: duckdb.DuckDBPyConnection, kind_name: str, insert: dict[str, str]) -> None:
    """Mark the still-valid rows of ``_checked`` that fail a batch-level check (first check wins).
    ``con`` is the in-memory compute engine holding ``_checked`` and the landed context
    (:func:`load_landed_context`)."""
    for check in batch_checks(kind_name, insert):
        con.execute(
            f"""
            update _checked as c set reason_code = '{check.code}', reason = {check.reason}
            where c.reason_code is null and ({check.condition})
            """
        )
