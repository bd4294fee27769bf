"""Request/response types shared by both transports, and the typed scrape result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from python_jobs.config import Settings

Source = Literal["stats_nba", "nba_cdn", "odds_api", "file"]


@dataclass(frozen=True)
class ScrapeRequest:
    """What to fetch: a source, a logical endpoint and its parameters (all JSON scalars)."""

    source: Source
    endpoint: str
    params: dict[str, str | int | float | None] = field(default_factory=dict)

    @property
    def params_json(self) -> str:
        """Canonical JSON of the params (sorted keys, no spaces): the landing dedup key."""
        return canonical_params(self.params)


def canonical_params(params: dict) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Fetched:
    """A payload as received: the raw text, where it came from and when."""

    request: ScrapeRequest
    body: str
    origin: str  # URL (secrets redacted), replay source description or file path
    fetched_at: datetime  # UTC wall clock of the fetch
    status_code: int | None = None


@dataclass
class ScrapeResult:
    """Outcome of one scrape: ``ok`` (records), ``empty`` (valid payload, nothing in it) or ``failed``.

    A failure carries the error class name and message; it is never an empty list or ``None``.
    """

    request: ScrapeRequest
    status: Literal["ok", "empty", "failed"]
    payload_id: str | None = None
    duplicate_of_payload_id: str | None = None
    n_records: int = 0
    n_valid: int = 0
    n_quarantined: int = 0
    error_class: str | None = None
    error_message: str | None = None

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of_payload_id is not None


class Transport(Protocol):
    """Fetches one request. Raises TransientError/PermanentError (errors.py) on failure."""

    name: str

    def fetch(self, request: ScrapeRequest) -> Fetched: ...

    def close(self) -> None: ...


def build_transport(settings: Settings, *, as_of: datetime | None = None) -> Transport:
    """The transport chosen by ``settings.transport``; replay serves data known at ``as_of``."""
    if settings.transport == "live":
        from python_jobs.scrapers.live import LiveTransport

        return LiveTransport(settings)
    from python_jobs.scrapers.replay import ReplayTransport

    return ReplayTransport(settings, as_of=as_of or settings.utcnow())
