"""Request builders for every endpoint Phase 1 scrapes (the one place that knows their params).

The params are the real APIs' query params (minus secrets: the Odds API key is added by the live
transport and never stored). Their canonical JSON is the landing dedup key.
"""

from __future__ import annotations

from datetime import date, datetime

from python_jobs.scrapers.base import ScrapeRequest

SEASON_TYPES = ("Regular Season", "Playoffs", "PlayIn", "Pre Season")
ODDS_SPORT = "basketball_nba"
PLAYER_POINTS = "player_points"


def season_label(start_year: int) -> str:
    """2024 -> '2024-25'."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def season_start_year(season: str) -> int:
    """'2024-25' -> 2024 (validates the label)."""
    if len(season) != 7 or season[4] != "-" or not season[:4].isdigit() or not season[5:].isdigit():
        raise ValueError(f"season must look like '2024-25', got {season!r}")
    start = int(season[:4])
    if (start + 1) % 100 != int(season[5:]):
        raise ValueError(f"season {season!r}: second year must follow the first")
    return start


def season_of_date(day: date) -> str:
    """NBA season label a game date belongs to (seasons start in the autumn; 2020-21 started in Dec)."""
    return season_label(day.year if day.month >= 9 else day.year - 1)


def _mdy(day: date | None) -> str:
    return day.strftime("%m/%d/%Y") if day else ""


def league_game_log(season: str, *, season_type: str = "Regular Season", date_from: date | None = None,
                    date_to: date | None = None) -> ScrapeRequest:
    """stats.nba.com leaguegamelog, player mode."""
    season_start_year(season)
    if season_type not in SEASON_TYPES:
        raise ValueError(f"season_type must be one of {SEASON_TYPES}, got {season_type!r}")
    return ScrapeRequest("stats_nba", "leaguegamelog", {
        "Counter": 0, "DateFrom": _mdy(date_from), "DateTo": _mdy(date_to), "Direction": "ASC",
        "LeagueID": "00", "PlayerOrTeam": "P", "Season": season, "SeasonType": season_type, "Sorter": "DATE",
    })


def scoreboard_v2(game_date: date) -> ScrapeRequest:
    return ScrapeRequest("stats_nba", "scoreboardv2",
                         {"DayOffset": 0, "GameDate": game_date.isoformat(), "LeagueID": "00"})


def schedule_league_v2(season: str) -> ScrapeRequest:
    """The season schedule (scheduleLeagueV2 shape: leagueSchedule.gameDates[].games[])."""
    season_start_year(season)
    return ScrapeRequest("nba_cdn", "scheduleleaguev2", {"LeagueID": "00", "Season": season})


def common_all_players(season: str) -> ScrapeRequest:
    season_start_year(season)
    return ScrapeRequest("stats_nba", "commonallplayers",
                         {"IsOnlyCurrentSeason": 0, "LeagueID": "00", "Season": season})


def odds_events(game_date: date) -> ScrapeRequest:
    """The Odds API v4 events of one US/Eastern game date."""
    return ScrapeRequest("odds_api", "events", {"date": game_date.isoformat(), "sport": ODDS_SPORT})


def event_odds(event_id: str, *, snapshot_at: datetime | None = None, markets: str = PLAYER_POINTS,
               regions: str = "us") -> ScrapeRequest:
    """The Odds API v4 event odds (``snapshot_at`` -> the historical endpoint at that time)."""
    params: dict[str, str | int | float | None] = {
        "event_id": event_id, "markets": markets, "oddsFormat": "american", "regions": regions,
        "sport": ODDS_SPORT,
    }
    if snapshot_at is not None:
        params["date"] = snapshot_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return ScrapeRequest("odds_api", "event_odds", params)
