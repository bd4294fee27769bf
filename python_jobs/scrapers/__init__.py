"""Phase 1 scrapers: one request model, two transports (``live`` HTTP and ``replay``).

``build_transport(settings, as_of=...)`` returns the transport chosen by ``settings.transport``;
the endpoint helpers in :mod:`python_jobs.scrapers.endpoints` build the requests.
"""

from python_jobs.scrapers.base import (
    Fetched,
    ScrapeRequest,
    ScrapeResult,
    Transport,
    build_transport,
)

__all__ = ["Fetched", "ScrapeRequest", "ScrapeResult", "Transport", "build_transport"]
