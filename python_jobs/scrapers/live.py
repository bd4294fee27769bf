"""Live transport: real HTTP to stats.nba.com, cdn.nba.com and The Odds API v4."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from python_jobs.config import Settings
from python_jobs.errors import ConfigurationError, NotAvailableError
from python_jobs.redaction import register_secret
from python_jobs.scrapers.base import Fetched, ScrapeRequest
from python_jobs.scrapers.http import (
    STATS_NBA_HEADERS,
    HostRateLimiter,
    HttpClient,
    RetryPolicy,
    redact,
)

log = logging.getLogger(__name__)
ET = ZoneInfo("America/New_York")

STATS_BASE = "https://stats.nba.com/stats"
ODDS_BASE = "https://api.the-odds-api.com/v4"
DEFAULT_MIN_INTERVAL = {"stats.nba.com": 0.7, "cdn.nba.com": 0.2, "api.the-odds-api.com": 0.25}


class LiveTransport:
    name = "live"

    def __init__(self, settings: Settings, *, client: HttpClient | None = None,
                 stats_base: str = STATS_BASE, odds_base: str = ODDS_BASE):
        self.settings = settings
        self.client = client or HttpClient(
            timeout=30.0, retry=RetryPolicy(), rate_limiter=HostRateLimiter(DEFAULT_MIN_INTERVAL))
        self.stats_base = stats_base.rstrip("/")
        self.odds_base = odds_base.rstrip("/")

    def close(self) -> None:
        self.client.close()

    def _odds_key(self) -> str:
        key = self.settings.odds_api_key
        if key is None or not key.get_secret_value():
            raise ConfigurationError("ODDS_API_KEY is not set: the live transport cannot call The Odds API")
        register_secret(key.get_secret_value())  # masked wherever it appears from now on
        return key.get_secret_value()

    def url_for(self, request: ScrapeRequest) -> tuple[str, dict[str, object], dict[str, str]]:
        """(url, query params, headers) of a request; secrets are added here and nowhere else."""
        p = dict(request.params)
        if request.source in ("stats_nba", "nba_cdn"):
            return f"{self.stats_base}/{request.endpoint}", p, STATS_NBA_HEADERS
        if request.source == "odds_api":
            sport = p.pop("sport")
            if request.endpoint == "events":
                day = date.fromisoformat(str(p.pop("date")))
                start = datetime.combine(day, time(6, 0), ET)  # an ET game date's tips fall in [06:00, +1d 06:00)
                q = {"apiKey": self._odds_key(), "dateFormat": "iso",
                     "commenceTimeFrom": start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "commenceTimeTo": (start + timedelta(days=1)).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")}
                return f"{self.odds_base}/sports/{sport}/events", q, {"Accept": "application/json"}
            if request.endpoint == "event_odds":
                event_id = p.pop("event_id")
                snapshot = p.pop("date", None)
                q = {"apiKey": self._odds_key(), "dateFormat": "iso", **p}
                if snapshot:
                    q["date"] = snapshot
                    return (f"{self.odds_base}/historical/sports/{sport}/events/{event_id}/odds", q,
                            {"Accept": "application/json"})
                return f"{self.odds_base}/sports/{sport}/events/{event_id}/odds", q, {"Accept": "application/json"}
        raise NotAvailableError(f"live transport has no route for {request.source}/{request.endpoint}")

    def fetch(self, request: ScrapeRequest) -> Fetched:
        url, query, headers = self.url_for(request)
        response = self.client.get(url, params=query, headers=headers)
        origin = redact(str(response.request.url)) if response.request is not None else redact(url)
        return Fetched(request=request, body=response.text, origin=origin,
                       fetched_at=self.settings.utcnow(),
                       status_code=response.status_code)
