"""Phase 1 jobs: ``ingest_history`` (backfill the bundled seasons) and ``land_day`` (the morning scrape).

Both fetch through the configured transport (``replay`` serves the bundled real data as of a
clock, ``live`` calls the real APIs), land every payload (:mod:`python_jobs.landing`) and return an
:class:`IngestReport` with per-endpoint counts. Both are idempotent: a rerun lands only
duplicates (``duplicate_of_payload_id`` set, body null) and loads no new records.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.table import Table

from python_jobs.config import Settings
from python_jobs.errors import NbaPropsError
from python_jobs.landing import LandingSession
from python_jobs.ops.guard import short_write
from python_jobs.scrapers import endpoints as ep
from python_jobs.scrapers.base import ScrapeRequest, ScrapeResult, Transport, build_transport
from python_jobs.scrapers.replay import SNAPSHOT_HOUR_UTC, snapshot_time

log = logging.getLogger(__name__)

BUNDLED_PLAYERS_SEASON = "2025-26"  # the only CommonAllPlayers response bundled for replay


@dataclass
class EndpointCounts:
    payloads: int = 0
    duplicates: int = 0
    empty: int = 0
    records: int = 0
    valid: int = 0
    quarantined: int = 0
    failed: int = 0


@dataclass
class IngestReport:
    """What one ingest/land run did, per ``source/endpoint``."""

    command: str
    scrape_run_id: str
    correlation_id: str
    status: str
    seconds: float
    results: list[ScrapeResult] = field(default_factory=list, repr=False)

    @property
    def endpoints(self) -> dict[str, EndpointCounts]:
        out: dict[str, EndpointCounts] = {}
        for r in self.results:
            c = out.setdefault(f"{r.request.source}/{r.request.endpoint}", EndpointCounts())
            if r.payload_id:
                c.payloads += 1
            if r.is_duplicate:
                c.duplicates += 1
            elif r.status == "empty":
                c.empty += 1
            if r.status == "failed":
                c.failed += 1
            c.records += r.n_records
            c.valid += r.n_valid
            c.quarantined += r.n_quarantined
        return dict(sorted(out.items()))

    @property
    def n_payloads(self) -> int:
        return sum(1 for r in self.results if r.payload_id)

    @property
    def n_duplicates(self) -> int:
        return sum(1 for r in self.results if r.is_duplicate)

    @property
    def n_records(self) -> int:
        return sum(r.n_records for r in self.results)

    @property
    def n_records_valid(self) -> int:
        return sum(r.n_valid for r in self.results)

    @property
    def n_records_quarantined(self) -> int:
        return sum(r.n_quarantined for r in self.results)

    @property
    def n_failed(self) -> int:
        return sum(1 for r in self.results if r.status == "failed")

    @property
    def failures(self) -> list[ScrapeResult]:
        return [r for r in self.results if r.status == "failed"]

    def as_dict(self) -> dict[str, object]:
        return {"command": self.command, "scrape_run_id": self.scrape_run_id, "status": self.status,
                "seconds": round(self.seconds, 3), "payloads": self.n_payloads, "duplicates": self.n_duplicates,
                "records": self.n_records, "valid": self.n_records_valid,
                "quarantined": self.n_records_quarantined, "failed": self.n_failed,
                "endpoints": {k: vars(v) for k, v in self.endpoints.items()}}

    def __rich__(self) -> Table:
        table = Table(title=f"{self.command} {self.scrape_run_id[:12]}: {self.status} in {self.seconds:.1f} s")
        for col in ("endpoint", "payloads", "duplicates", "empty", "valid", "quarantined", "failed"):
            if col == "endpoint":
                table.add_column(col, no_wrap=True, min_width=26)
            else:
                table.add_column(col, justify="right")
        for name, c in self.endpoints.items():
            table.add_row(name, str(c.payloads), str(c.duplicates), str(c.empty), f"{c.valid:,}",
                          f"{c.quarantined:,}", f"[red]{c.failed}[/red]" if c.failed else "0")
        return table


def _as_of(until: date | None, settings: Settings) -> datetime:
    """Replay clock: the morning after ``until`` (what a run on until+1 knows), else now."""
    if until is None:
        return settings.utcnow()
    return datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC).replace(hour=SNAPSHOT_HOUR_UTC)


def bundled_seasons(settings: Settings) -> list[str]:
    """Seasons with bundled box scores (``data/boxscores/player_logs_<season>.csv.gz``)."""
    files = sorted(Path(settings.data_dir, "boxscores").glob("player_logs_*.csv.gz"))
    return [f.name.removeprefix("player_logs_").removesuffix(".csv.gz") for f in files]


class _Run:
    """A transport + landing session bound to one connection; fetch failures become typed results."""

    def __init__(self, session: LandingSession, transport: Transport):
        self.session = session
        self.transport = transport

    def scrape(self, request: ScrapeRequest) -> tuple[ScrapeResult, object | None]:
        try:
            fetched = self.transport.fetch(request)
        except NbaPropsError as exc:
            return self.session.record_failure(request, exc), None
        return self.session.land(fetched)


def _run(settings: Settings, command: str, as_of: datetime, correlation_id: str | None,
         body: Callable[[_Run], None], *, preload: list[str] | None = None) -> IngestReport:
    started = _time.perf_counter()
    transport = build_transport(settings, as_of=as_of)
    if preload is not None and hasattr(transport, "preload"):
        # replay: the bundled files load in the background (DuckDB, without the GIL) while the guard
        # and the raw layer are set up (dbt's parse, when its rendering of the layer is not cached)
        transport.preload(preload)
    try:
        with short_write(settings) as con:  # the writer guard: waits for a run, bounded
            session = LandingSession(con, settings, command=command, transport=transport.name,  # type: ignore[arg-type]
                                     correlation_id=correlation_id)
            try:
                body(_Run(session, transport))
            except BaseException as exc:
                session.finish(error=exc)
                raise
            status = session.finish()
    finally:
        transport.close()
    report = IngestReport(command, session.scrape_run_id, session.correlation_id, status,
                          _time.perf_counter() - started, session.results)
    log.info("%s: %s, %d payloads (%d duplicates), %d valid, %d quarantined, %d failed in %.2f s", command, status,
             report.n_payloads, report.n_duplicates, report.n_records_valid, report.n_records_quarantined,
             report.n_failed, report.seconds)
    return report


def _odds_for_day(run: _Run, day: date, *, historical: bool) -> None:
    result, parsed = run.scrape(ep.odds_events(day))
    event_ids = list(getattr(parsed, "event_ids", []) or [])
    if result.is_duplicate:
        # same events as already landed: their odds may still have moved (live), or are identical (replay)
        event_ids = _landed_event_ids(run, day)
    snap = snapshot_time(day) if historical else None
    for event_id in event_ids:
        run.scrape(ep.event_odds(event_id, snapshot_at=snap))


def _landed_event_ids(run: _Run, day: date) -> list[str]:
    from python_jobs.landing import read_body
    from python_jobs.parsers.payloads import parse_odds_events
    from python_jobs.scrapers.base import canonical_params
    from python_jobs.warehouse.partitions import landed_since

    row = run.session.con.fetchone(
        "select payload_id, scraped_at from raw.landed_payloads where scraped_at >= ? and source = 'odds_api' "
        "and endpoint = 'events' and params_json = ? and body is not null order by scraped_at desc limit 1",
        [landed_since(day, run.session.settings.home), canonical_params(ep.odds_events(day).params)])
    if row is None:
        return []
    body = read_body(run.session.con, row[0], row[1])
    return parse_odds_events(body or b"[]", {}).event_ids


def ingest_history(settings: Settings, seasons: list[str] | None = None, until: date | None = None,
                   *, correlation_id: str | None = None,
                   on_request: Callable[[int, int, str], None] | None = None) -> IngestReport:
    """Land every bundled season's LeagueGameLog and schedule, CommonAllPlayers and the odds snapshots.

    ``until`` is the last US/Eastern date whose results and lines are landed (None: everything the
    transport has); the replay clock is the morning after it. ``seasons`` defaults to every bundled
    season starting on or before ``until``. ``on_request(done, total, what)`` follows the steps (a
    season's log or schedule, the players, one date's odds) for the CLI's progress bar.
    """
    as_of = _as_of(until, settings)
    chosen = list(seasons) if seasons is not None else bundled_seasons(settings)
    for s in chosen:
        ep.season_start_year(s)
    if until is not None:
        chosen = [s for s in chosen if date(ep.season_start_year(s), 9, 1) <= until]

    def body(run: _Run) -> None:
        odds_days = [day for day in run.transport.available_odds_dates()  # type: ignore[attr-defined]
                     if until is None or day <= until] if settings.transport == "replay" else []
        total, done = 2 * len(chosen) + 1 + len(odds_days), 0

        def step(what: str) -> None:
            nonlocal done
            done += 1
            if on_request is not None:
                on_request(done, total, what)

        for season in chosen:
            run.scrape(ep.league_game_log(season))
            step(f"{season} game log")
        for season in chosen:
            run.scrape(ep.schedule_league_v2(season))
            step(f"{season} schedule")
        players_season = BUNDLED_PLAYERS_SEASON if settings.transport == "replay" else ep.season_of_date(
            as_of.date())
        run.scrape(ep.common_all_players(players_season))
        step("players")
        # the bundled lines (replay): every scrape date known at the clock (live history would cost API credits)
        for day in odds_days:
            _odds_for_day(run, day, historical=True)
            step(f"odds {day}")

    return _run(settings, "ingest", as_of, correlation_id, body, preload=chosen)


def _day_season_types(day: date) -> Iterator[str]:
    yield "Regular Season"
    if 4 <= day.month <= 6:
        yield "PlayIn"
        yield "Playoffs"


def land_day(settings: Settings, game_date: date, correlation_id: str | None = None) -> IngestReport:
    """The morning scrape for game date D (US/Eastern).

    LeagueGameLog DateFrom=DateTo=D-1 (yesterday's results), ScoreboardV2 for D (today's slate),
    The Odds API events of D and their ``player_points`` event odds. Replay runs at D 15:00 UTC
    (the morning run) and serves the historical odds snapshot of that time.
    """
    if not isinstance(game_date, date):
        raise TypeError(f"game_date must be a date, got {type(game_date).__name__}")
    yesterday = game_date - timedelta(days=1)
    as_of = datetime.combine(game_date, datetime.min.time(), UTC).replace(hour=SNAPSHOT_HOUR_UTC)
    if settings.transport == "live" and settings.now is None:
        as_of = settings.utcnow()

    def body(run: _Run) -> None:
        season = ep.season_of_date(yesterday)
        for season_type in _day_season_types(yesterday):
            run.scrape(ep.league_game_log(season, season_type=season_type, date_from=yesterday, date_to=yesterday))
        run.scrape(ep.scoreboard_v2(game_date))
        _odds_for_day(run, game_date, historical=settings.transport == "replay")

    return _run(settings, "land-day", as_of, correlation_id, body)
