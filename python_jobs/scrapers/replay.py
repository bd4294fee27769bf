"""Replay transport: serves the bundled real data (``data/``) in the real APIs' payload shapes.

Replay is "as of" a clock: it serves only what was known at that time.

* ``leaguegamelog``: box-score rows with GAME_DATE before the as-of US/Eastern date, in the
  column order of the real stats.nba.com response (the bundle lacks FANTASY_PTS and
  VIDEO_AVAILABLE, so replay payloads lack them too; SEASON_LABEL, added by the source repo, is
  dropped). Regular season only: other season types answer with an empty rowSet.
* ``scoreboardv2``: GameHeader + LineScore of a date, from ``team_games`` (past seasons; tip time
  unknown, status text ``Final``/``TBD``) and from ``schedules`` (2025-26, real tip times).
* ``scheduleleaguev2``: the scheduleLeagueV2 shape (regular season, play-in and playoffs; no
  preseason, All-Star or NBA Cup final). Past seasons come from ``team_games`` (tip time unknown:
  the ``*UTC`` time fields are null), 2025-26 from ``schedules``.
* ``commonallplayers``: the recorded response, verbatim.
* The Odds API ``events`` / ``event_odds``: built from the bundled prop lines of scrape date D,
  served in the *historical* shape ``{timestamp, previous_timestamp, next_timestamp, data}`` with
  ``timestamp`` = D 15:00 UTC and ``commence_time`` null (see docs/CONTRACTS.md). Prices that are
  not integers in the bundle (one ``-Infinity``) are served as the original string, so the edge
  validation quarantines them exactly as it would a broken live payload.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from python_jobs.config import Settings
from python_jobs.errors import NotAvailableError
from python_jobs.files import atomic_write
from python_jobs.scrapers.base import Fetched, ScrapeRequest
from python_jobs.scrapers.endpoints import season_start_year
from python_jobs.validation.reference import load_teams

log = logging.getLogger(__name__)

ET = ZoneInfo("America/New_York")
SNAPSHOT_HOUR_UTC = 15  # the morning run: 10 am EST / 11 am EDT

# stats.nba.com LeagueGameLog (PlayerOrTeam=P) column order; the live response appends
# FANTASY_PTS and VIDEO_AVAILABLE, which the bundled files do not have.
LEAGUEGAMELOG_REPLAY_HEADERS = [
    "SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME", "GAME_ID",
    "GAME_DATE", "MATCHUP", "WL", "MIN", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM", "FTA",
    "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV", "PF", "PTS", "PLUS_MINUS",
]
LEAGUEGAMELOG_LIVE_HEADERS = [*LEAGUEGAMELOG_REPLAY_HEADERS, "FANTASY_PTS", "VIDEO_AVAILABLE"]

BOOKS = {  # bundled book code -> (Odds API key, title)
    "fd": ("fanduel", "FanDuel"), "dk": ("draftkings", "DraftKings"), "mgm": ("betmgm", "BetMGM"),
    "cz": ("williamhill_us", "Caesars"), "espn": ("espnbet", "ESPN BET"), "pn": ("pinnacle", "Pinnacle"),
    "365": ("bet365", "Bet365"), "bet365": ("bet365_alt", "Bet365 (second scrape)"),
    "kambi": ("kambi", "Kambi"),
}
SEASON_TYPE_DIGIT = {"Regular Season": "2", "Playoffs": "4", "PlayIn": "5", "Pre Season": "1"}


def snapshot_time(day: date) -> datetime:
    """The replayed capture time of scrape date ``day``'s lines (the morning run)."""
    return datetime.combine(day, time(SNAPSHOT_HOUR_UTC), UTC)


def replay_event_id(day: date, away_code: str, home_code: str) -> str:
    """Deterministic 32-hex event id (Odds API ids look like this) for a bundled game string."""
    return hashlib.md5(f"{day.isoformat()}|{away_code}@{home_code}".encode()).hexdigest()


def _z(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


BOX_CACHE_VERSION = 1  # bump when the cached table changes shape (columns, types, file_row)


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal body (COPY ... TO takes no parameter)."""
    return str(path).replace("'", "''")


class _Bundle:
    """The bundled files loaded once into an in-memory DuckDB (shared by replay transports)."""

    _lock = threading.Lock()
    _instances: dict[tuple[Path, Path | None], _Bundle] = {}

    @classmethod
    def get(cls, data_dir: Path, cache_dir: Path | None = None) -> _Bundle:
        key = (Path(data_dir).resolve(), Path(cache_dir).resolve() if cache_dir is not None else None)
        with cls._lock:
            if key not in cls._instances:
                cls._instances[key] = cls(*key)
            return cls._instances[key]

    def __init__(self, data_dir: Path, cache_dir: Path | None = None):
        self.data_dir = data_dir
        self.cache_dir = cache_dir  # columnar copies of the box-score CSVs (None: no cache)
        self.con = duckdb.connect()
        self.con.execute("set threads = 2")
        self.con.execute("set enable_progress_bar = false")
        self._loaded: set[str] = set()
        self._box_seasons: set[str] = set()
        self._lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def ensure(self, what: str) -> None:
        with self._lock:
            if what in self._loaded:
                return
            getattr(self, f"_load_{what}")()
            self._loaded.add(what)

    def preload(self, seasons: Iterable[str]) -> None:
        """Load what a backfill of ``seasons`` reads, in the order it reads it (the prop dates
        first, then the box scores, then the games). Meant for a background thread: DuckDB reads
        and decompresses the CSVs without holding the GIL, so the caller's work (dbt's parse
        creating the raw layer) runs meanwhile. A file that fails to load is left unloaded: the
        request that needs it loads it again and raises the error where it belongs."""
        steps = [lambda: self.ensure("props")]
        steps += [lambda s=s: self.load_boxscore_season(s) for s in seasons]
        steps += [lambda: self.ensure("team_games"), lambda: self.ensure("schedule")]
        for step in steps:
            try:
                step()
            except Exception:  # noqa: BLE001 - re-raised by the request that needs the file
                log.debug("replay preload step failed; the request that needs it will raise", exc_info=True)

    def load_boxscore_season(self, season: str) -> bool:
        """Load one season's bundled box scores (only what a request needs: a one-day replay
        must not pay for ten seasons). Returns False when the season is not bundled.

        The CSV is decompressed and parsed once per machine: its table (the types DuckDB's
        reader detected, plus ``file_row``) is kept as Parquet in the cache directory under the
        sha256 of the CSV file, so an edited or replaced CSV can never be served from a stale copy.
        """
        with self._lock:
            if season in self._box_seasons:
                return True
            path = self.data_dir / "boxscores" / f"player_logs_{season}.csv.gz"
            if not path.exists():
                return False
            cached = self._box_cache_path(path)
            cur = self.con.cursor()
            if cached is not None and cached.exists():
                try:
                    self._insert_season(cur, "read_parquet(?)", [str(cached)])
                    self._box_seasons.add(season)
                    return True
                except duckdb.Error as exc:  # a damaged cache entry: read from the CSV below
                    log.warning("replay cache %s unreadable (%s): reading %s again", cached, exc, path.name)
                    cached.unlink(missing_ok=True)
            text = ", ".join(f"'{c}': 'VARCHAR'" for c in
                             ("SEASON_ID", "GAME_ID", "GAME_DATE", "SEASON_LABEL", "WL", "PLAYER_NAME", "MATCHUP"))
            cur.execute(
                f"""
                create temp table _season as
                select *, row_number() over () as file_row from read_csv(?, header = true, types = {{{text}}})
                """,
                [str(path)],
            )
            try:
                if cached is not None:
                    self._write_box_cache(cur, cached)
                self._insert_season(cur, "_season", [])
            finally:
                cur.execute("drop table if exists _season")
            self._box_seasons.add(season)
            return True

    @staticmethod
    def _insert_season(cur: duckdb.DuckDBPyConnection, source: str, params: list[str]) -> None:
        """Append one season (``source``: its columns then ``file_row``) to ``boxscores``; the
        first season loaded fixes the columns' types, later ones are cast to them."""
        cur.execute(f"create table if not exists boxscores as select * from {source} limit 0", params)
        cur.execute(f"insert into boxscores select * from {source}", params)

    def _box_cache_path(self, csv_path: Path) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
        name = csv_path.name.removesuffix(".csv.gz")
        return self.cache_dir / "replay" / f"{name}.{digest}.v{BOX_CACHE_VERSION}.parquet"

    @staticmethod
    def _write_box_cache(cur: duckdb.DuckDBPyConnection, cached: Path) -> None:
        """Keep the parsed season (temp table ``_season``) for the next process, written atomically
        (a concurrent reader never sees half a file). A cache that cannot be written costs only
        speed: a warning, and the season is served from the CSV."""
        try:
            atomic_write(cached, lambda tmp: cur.execute(f"copy _season to '{_sql_path(tmp)}' (format parquet)"))
        except (OSError, duckdb.Error) as exc:
            log.warning("replay cache %s not written: %s", cached, exc)

    def _load_team_games(self) -> None:
        files = sorted((self.data_dir / "team_games").glob("*.csv.gz"))
        self.con.execute(
            """
            create table team_games as
            select * from read_csv(?, header = true,
                types = {'SEASON_ID': 'VARCHAR', 'GAME_ID': 'VARCHAR', 'GAME_DATE': 'DATE', 'SEASON': 'VARCHAR'})
            where left(SEASON_ID, 1) in ('2', '4', '5')
            """,
            [[str(f) for f in files]],
        )

    def _load_schedule(self) -> None:
        files = sorted((self.data_dir / "schedules").glob("*.csv.gz"))
        self.con.execute(
            """
            create table schedule as
            select *,
                   cast(timezone('America/New_York', tip_utc) as date) as game_date_et,
                   split_part(away_team, ' ', 1) as away_tricode,
                   split_part(home_team, ' ', 1) as home_tricode
            from read_csv(?, header = true, types = {'game_id': 'VARCHAR', 'tip_utc': 'TIMESTAMPTZ'})
            where season_type <> 'Preseason'
            """,
            [[str(f) for f in files]],
        )

    def _load_props(self) -> None:
        files = sorted((self.data_dir / "props").glob("*.csv.gz"))
        self.con.execute(
            """
            create table props as
            select *, row_number() over () as file_row,
                   split_part(game, ' @ ', 1) as away_code, split_part(game, ' @ ', 2) as home_code
            from read_csv(?, header = true, all_varchar = true)
            """,
            [[str(f) for f in files]],
        )


class ReplayTransport:
    """Serves bundled data as of ``as_of`` (UTC instant; its US/Eastern date is the cut-off)."""

    name = "replay"

    def __init__(self, settings: Settings, *, as_of: datetime):
        self.settings = settings
        self.as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        self.as_of_date = self.as_of.astimezone(ET).date()
        self.bundle = _Bundle.get(settings.data_dir, settings.cache_dir)
        self.teams = load_teams(settings.home)
        self._preload: threading.Thread | None = None
        self._events_by_day: dict[date, list[dict]] = {}

    def preload(self, seasons: Iterable[str]) -> None:
        """Start loading the bundled files of ``seasons`` in a background thread (see
        ``_Bundle.preload``); requests made meanwhile wait for the file they need."""
        if self._preload is None:
            self._preload = threading.Thread(target=self.bundle.preload, args=(list(seasons),),
                                             name="replay-preload", daemon=True)
            self._preload.start()

    def close(self) -> None:
        """Wait for a preload still running (the bundle itself is shared and read-only)."""
        if self._preload is not None:
            self._preload.join()
            self._preload = None

    def fetch(self, request: ScrapeRequest) -> Fetched:
        handler = getattr(self, f"_{request.source}_{request.endpoint}", None)
        if handler is None:
            raise NotAvailableError(f"replay has no data for {request.source}/{request.endpoint}")
        body, origin = handler(dict(request.params))
        return Fetched(request=request, body=body, origin=f"replay:{origin}", fetched_at=self.settings.utcnow())

    # ---------------------------------------------------------------- stats.nba.com
    def _stats_nba_leaguegamelog(self, p: dict) -> tuple[str, str]:
        season = str(p["Season"])
        season_start_year(season)
        digit = SEASON_TYPE_DIGIT.get(str(p.get("SeasonType", "Regular Season")))
        if digit is None:
            raise NotAvailableError(f"unknown SeasonType {p.get('SeasonType')!r}")
        date_from = datetime.strptime(p["DateFrom"], "%m/%d/%Y").date() if p.get("DateFrom") else date.min
        date_to = datetime.strptime(p["DateTo"], "%m/%d/%Y").date() if p.get("DateTo") else date.max
        date_to = min(date_to, self.as_of_date - timedelta(days=1))  # results known the morning after
        rows = ""
        if date_from <= date_to and self.bundle.load_boxscore_season(season):
            # the rowSet JSON is built by DuckDB (vectorised): ~25k rows per season in a few ms
            cells = ", ".join(LEAGUEGAMELOG_REPLAY_HEADERS)
            rows = self.bundle.cursor().execute(
                f"""
                select coalesce(string_agg(cast(json_array({cells}) as varchar), ',' order by file_row), '')
                from boxscores
                where SEASON_LABEL = ? and SEASON_ID = ? and GAME_DATE between ? and ?
                """,
                [season, f"{digit}{season[:4]}", date_from.isoformat(), date_to.isoformat()],
            ).fetchone()[0]
        body = (
            '{"resource":"leaguegamelog","parameters":' + _dumps(p)
            + ',"resultSets":[{"name":"LeagueGameLog","headers":' + _dumps(LEAGUEGAMELOG_REPLAY_HEADERS)
            + ',"rowSet":[' + rows + "]}]}"
        )
        return body, f"boxscores/player_logs_{season}.csv.gz"

    def _games_of_dates(self, date_from: date, date_to: date) -> list[dict]:
        """Games (regular, play-in, playoffs) between two ET dates, from team_games and the schedule."""
        self.bundle.ensure("team_games")
        self.bundle.ensure("schedule")
        cur = self.bundle.cursor()
        past = cur.execute(
            """
            select h.GAME_ID, h.GAME_DATE, h.SEASON, h.TEAM_ID, a.TEAM_ID, h.TEAM_ABBREVIATION, a.TEAM_ABBREVIATION,
                   h.PTS, a.PTS, null::timestamptz as tip_utc, null as arena
            from team_games h join team_games a on a.GAME_ID = h.GAME_ID and a.TEAM_ID <> h.TEAM_ID
            where h.MATCHUP like '% vs. %' and h.GAME_DATE between ? and ?
            order by h.GAME_DATE, h.GAME_ID
            """,
            [date_from, date_to],
        ).fetchall()
        future = cur.execute(
            """
            select game_id, game_date_et, '2025-26', null, null, home_tricode, away_tricode, null, null, tip_utc, venue
            from schedule where game_date_et between ? and ? order by tip_utc, game_id
            """,
            [date_from, date_to],
        ).fetchall()
        by_tri = self.teams.by_tricode
        games = []
        for row in [*past, *future]:
            gid, gdate, season, hid, aid, htri, atri, hpts, apts, tip, arena = row
            hid = hid or (by_tri[htri].team_id if htri in by_tri else None)
            aid = aid or (by_tri[atri].team_id if atri in by_tri else None)
            games.append({"game_id": gid, "game_date": gdate, "season": season, "home_id": hid, "away_id": aid,
                          "home_tri": htri, "away_tri": atri, "home_pts": hpts, "away_pts": apts,
                          "tip_utc": tip, "arena": arena})
        return games

    def _status(self, game_date: date) -> tuple[int, bool]:
        final = game_date < self.as_of_date
        return (3 if final else 1), final

    def _stats_nba_scoreboardv2(self, p: dict) -> tuple[str, str]:
        day = date.fromisoformat(str(p["GameDate"]))
        games = self._games_of_dates(day, day)
        headers = ["GAME_DATE_EST", "GAME_SEQUENCE", "GAME_ID", "GAME_STATUS_ID", "GAME_STATUS_TEXT", "GAMECODE",
                   "HOME_TEAM_ID", "VISITOR_TEAM_ID", "SEASON", "LIVE_PERIOD", "LIVE_PC_TIME",
                   "NATL_TV_BROADCASTER_ABBREVIATION", "HOME_TV_BROADCASTER_ABBREVIATION",
                   "AWAY_TV_BROADCASTER_ABBREVIATION", "LIVE_PERIOD_TIME_BCAST", "ARENA_NAME", "WH_STATUS",
                   "WNBA_COMMISSIONER_FLAG"]
        ls_headers = ["GAME_DATE_EST", "GAME_SEQUENCE", "GAME_ID", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_CITY_NAME",
                      "TEAM_NAME", "TEAM_WINS_LOSSES", "PTS"]
        header_rows, line_rows = [], []
        by_id = self.teams.by_id
        for seq, g in enumerate(games, start=1):
            status, final = self._status(day)
            if final:
                text = "Final"
            elif g["tip_utc"] is not None:
                text = g["tip_utc"].astimezone(ET).strftime("%I:%M %p ET").lstrip("0").replace("AM", "am").replace("PM", "pm")
            else:
                text = "TBD"
            est = f"{day.isoformat()}T00:00:00"
            code = f"{day.strftime('%Y%m%d')}/{g['away_tri']}{g['home_tri']}"
            header_rows.append([est, seq, g["game_id"], status, text, code, g["home_id"], g["away_id"],
                                str(season_start_year(g["season"])), 0, "", None, None, None, "Q0", g["arena"], 0, 0])
            for tid, tri, pts in ((g["away_id"], g["away_tri"], g["away_pts"]), (g["home_id"], g["home_tri"], g["home_pts"])):
                team = by_id.get(tid)
                line_rows.append([est, seq, g["game_id"], tid, tri, team.city if team else None,
                                  team.nickname if team else None, None, pts if final else None])
        body = _dumps({"resource": "scoreboardV2", "parameters": {"LeagueID": "00", "GameDate": day.strftime("%m/%d/%Y"),
                                                                  "DayOffset": 0},
                       "resultSets": [{"name": "GameHeader", "headers": headers, "rowSet": header_rows},
                                      {"name": "LineScore", "headers": ls_headers, "rowSet": line_rows}]})
        return body, "team_games+schedules"

    def _stats_nba_commonallplayers(self, p: dict) -> tuple[str, str]:
        path = self.settings.data_dir / "reference" / f"commonallplayers_{p['Season']}.json.gz"
        if not path.exists():
            raise NotAvailableError(f"replay bundles commonallplayers only for 2025-26, not {p['Season']!r}")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read(), str(path.relative_to(self.settings.data_dir))

    # ---------------------------------------------------------------- schedule
    def _nba_cdn_scheduleleaguev2(self, p: dict) -> tuple[str, str]:
        season = str(p["Season"])
        start = season_start_year(season)
        games = [g for g in self._games_of_dates(date(start, 9, 1), date(start + 1, 8, 31)) if g["season"] == season]
        # playoff/play-in pairings are only known shortly before they are played
        horizon = self.as_of_date + timedelta(days=2)
        games = [g for g in games if g["game_id"][2] == "2" or g["game_date"] <= horizon]
        by_id = self.teams.by_id
        dates: dict[date, list[dict]] = {}
        for g in games:
            status, final = self._status(g["game_date"])
            tip = g["tip_utc"]

            def team(tid: int | None, tri: str, pts: int | None, _final: bool = final) -> dict:
                t = by_id.get(tid)
                return {"teamId": tid, "teamName": t.nickname if t else None, "teamCity": t.city if t else None,
                        "teamTricode": tri, "teamSlug": t.nickname.lower() if t else None, "wins": None,
                        "losses": None, "score": pts if _final else 0, "seed": None}

            dates.setdefault(g["game_date"], []).append({
                "gameId": g["game_id"], "gameCode": f"{g['game_date'].strftime('%Y%m%d')}/{g['away_tri']}{g['home_tri']}",
                "gameStatus": status, "gameStatusText": "Final" if final else ("TBD" if tip is None else "Scheduled"),
                "gameSequence": len(dates.get(g["game_date"], [])) + 1,
                "gameDateEst": f"{g['game_date'].isoformat()}T00:00:00Z",
                "gameDateTimeEst": _z(tip.astimezone(ET).replace(tzinfo=UTC)) if tip else None,
                "gameDateUTC": f"{g['game_date'].isoformat()}T04:00:00Z",
                "gameTimeUTC": f"1900-01-01T{tip.astimezone(UTC).strftime('%H:%M:%S')}Z" if tip else None,
                "gameDateTimeUTC": _z(tip),
                "arenaName": g["arena"], "isNeutral": False,
                "homeTeam": team(g["home_id"], g["home_tri"], g["home_pts"]),
                "awayTeam": team(g["away_id"], g["away_tri"], g["away_pts"]),
            })
        body = _dumps({
            "meta": {"version": 1, "request": "replay",
                     "time": _z(datetime.combine(self.as_of_date, time(0), ET))},
            "leagueSchedule": {"seasonYear": season, "leagueId": "00", "gameDates": [
                {"gameDate": d.strftime("%m/%d/%Y 00:00:00"), "games": gs} for d, gs in sorted(dates.items())]},
        })
        return body, "team_games+schedules"

    # ---------------------------------------------------------------- The Odds API
    def _prop_dates(self) -> list[date]:
        self.bundle.ensure("props")
        rows = self.bundle.cursor().execute("select distinct file_date from props order by 1").fetchall()
        return [date.fromisoformat(r[0]) for r in rows]

    def available_odds_dates(self) -> list[date]:
        """Scrape dates with bundled lines known at the as-of date."""
        return [d for d in self._prop_dates() if d <= self.as_of_date]

    def _events(self, day: date) -> list[dict]:
        """The events of scrape date ``day`` (the bundle is read-only: built once per transport,
        then shared by the events request and each of its event-odds requests)."""
        if day not in self._events_by_day:
            self._events_by_day[day] = self._build_events(day)
        return [dict(e) for e in self._events_by_day[day]]

    def _build_events(self, day: date) -> list[dict]:
        self.bundle.ensure("props")
        rows = self.bundle.cursor().execute(
            "select distinct away_code, home_code from props where file_date = ? order by 1, 2", [day.isoformat()]
        ).fetchall()
        by_espn = self.teams.by_espn
        events = []
        for away, home in rows:
            events.append({
                "id": replay_event_id(day, away, home), "sport_key": "basketball_nba", "sport_title": "NBA",
                "commence_time": None,
                "home_team": by_espn[home].odds_api_name if home in by_espn else home,
                "away_team": by_espn[away].odds_api_name if away in by_espn else away,
                "_codes": (away, home),
            })
        return events

    def _historical(self, day: date, data: object) -> str:
        ts = snapshot_time(day)
        return _dumps({"timestamp": _z(ts), "previous_timestamp": _z(ts - timedelta(minutes=5)),
                       "next_timestamp": _z(ts + timedelta(minutes=5)), "data": data})

    def _odds_api_events(self, p: dict) -> tuple[str, str]:
        day = date.fromisoformat(str(p["date"]))
        events = self._events(day) if day <= self.as_of_date else []
        data = [{k: v for k, v in e.items() if k != "_codes"} for e in events]
        return self._historical(day, data), f"props file_date={day}"

    def _odds_api_event_odds(self, p: dict) -> tuple[str, str]:
        event_id = str(p["event_id"])
        snap = p.get("date")
        if not snap:
            raise NotAvailableError("replay serves historical event odds only: pass a snapshot time (date)")
        day = datetime.strptime(str(snap), "%Y-%m-%dT%H:%M:%SZ").date()
        if day > self.as_of_date:
            raise NotAvailableError(f"event odds snapshot {snap} is after the replay clock {self.as_of_date}")
        event = next((e for e in self._events(day) if e["id"] == event_id), None)
        if event is None:
            from python_jobs.errors import ClientError

            raise ClientError(f"replay: unknown event id {event_id} on {day} (HTTP 404 equivalent)", status_code=404)
        away, home = event["_codes"]
        rows = self.bundle.cursor().execute(
            """
            select book, player, line, over_odds, under_odds from props
            where file_date = ? and away_code = ? and home_code = ? order by file_row
            """,
            [day.isoformat(), away, home],
        ).fetchall()
        ts = _z(snapshot_time(day))
        books: dict[str, dict] = {}
        for book, player, line, over, under in rows:
            key, title = BOOKS.get(book, (book, book))
            b = books.setdefault(key, {"key": key, "title": title, "last_update": ts,
                                       "markets": [{"key": "player_points", "last_update": ts, "outcomes": []}]})
            outcomes = b["markets"][0]["outcomes"]
            point = _number(line)
            for side, price in (("Over", over), ("Under", under)):
                if price is None or price == "":
                    continue
                outcomes.append({"name": side, "description": player, "price": _american(price), "point": point})
        data = {k: v for k, v in event.items() if k != "_codes"}
        data["bookmakers"] = list(books.values())
        return self._historical(day, data), f"props file_date={day} game={away} @ {home}"


def _american(text: str) -> int | str:
    """'+110' -> 110; anything that is not an integer is passed through unchanged (validation catches it)."""
    t = text.strip()
    body = t[1:] if t.startswith("+") else t
    try:
        return int(body)
    except ValueError:
        return text


def _number(text: str) -> float | str:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return value if math.isfinite(value) else text
