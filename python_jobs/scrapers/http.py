"""HTTP client for the live transport: timeouts, per-host rate limit, retries, secret redaction.

* Transient failures (timeouts, connection errors, 429, 5xx) are retried by tenacity with
  exponential backoff and jitter; a ``Retry-After`` header (seconds or HTTP date) is honoured
  (capped by ``max_retry_after``).
* Permanent failures (other 4xx) raise at once, without retry.
* A per-host minimum interval between requests keeps us polite (stats.nba.com bans bursts).
* Secrets are redacted (:func:`python_jobs.redaction.redact`: the key's value wherever it appears,
  and secret query params) from every URL we log and every error message, the 4xx body included
  (redacted before it is cut to 200 characters), and a logging filter redacts httpx's own lines.
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from python_jobs.errors import ClientError, NetworkError, RateLimited, ServerError, TransientError
from python_jobs.redaction import redact, redact_record

__all__ = ["HttpClient", "HostRateLimiter", "RetryPolicy", "redact"]

log = logging.getLogger(__name__)


STATS_NBA_HEADERS: dict[str, str] = {
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36"
    ),
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-US,en;q=0.9",
    "x-nba-stats-origin": "stats",
    "x-nba-stats-token": "true",
    "Connection": "keep-alive",
}


class RedactSecretsFilter(logging.Filter):
    """Redacts secrets from log records (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_FILTER = RedactSecretsFilter()
for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, RedactSecretsFilter) for f in _logger.filters):
        _logger.addFilter(_FILTER)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HostRateLimiter:
    """Minimum interval between requests to the same host (thread-safe)."""

    def __init__(self, min_interval: Mapping[str, float] | None = None, default: float = 0.0,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic):
        self._min = dict(min_interval or {})
        self._default = default
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sleep = sleep
        self._monotonic = monotonic

    def acquire(self, host: str) -> float:
        """Block until a request to ``host`` is allowed; returns the seconds waited."""
        interval = self._min.get(host, self._default)
        with self._lock:
            now = self._monotonic()
            last = self._last.get(host)
            wait = 0.0 if last is None else max(0.0, last + interval - now)
            self._last[host] = now + wait
        if wait > 0:
            self._sleep(wait)
        return wait


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep)


class HttpClient:
    """GET JSON-ish text with retries on transient errors only."""

    def __init__(self, *, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 rate_limiter: HostRateLimiter | None = None, headers: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.retry = retry or RetryPolicy()
        self.rate_limiter = rate_limiter or HostRateLimiter()
        self._client = httpx.Client(timeout=httpx.Timeout(timeout), headers=dict(headers or {}),
                                    follow_redirects=True, transport=transport)
        self.attempts: list[tuple[str, str]] = []  # (redacted url, outcome) for diagnostics/tests

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, state: RetryCallState) -> float:
        base = wait_exponential_jitter(multiplier=self.retry.initial_wait, max=self.retry.max_wait,
                                       jitter=self.retry.jitter)(state)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(max(base, retry_after), self.retry.max_retry_after)
        return base

    def get(self, url: str, *, params: Mapping[str, object] | None = None,
            headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET with retries; raises TransientError after the last attempt, PermanentError at once."""
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=self._wait,
            sleep=self.retry.sleep,
            reraise=True,
            before_sleep=self._log_retry,
        )
        return retrying(self._get_once, url, params=params, headers=headers)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("transient error (attempt %d/%d), retrying in %.2fs: %s", state.attempt_number,
                    self.retry.max_attempts, state.next_action.sleep if state.next_action else 0.0, exc)

    def _get_once(self, url: str, *, params: Mapping[str, object] | None,
                  headers: Mapping[str, str] | None) -> httpx.Response:
        request = self._client.build_request("GET", url, params=dict(params or {}), headers=headers)
        safe_url = redact(str(request.url))
        self.rate_limiter.acquire(urlsplit(str(request.url)).netloc)
        try:
            response = self._client.send(request)
        except httpx.TimeoutException as exc:
            self.attempts.append((safe_url, "timeout"))
            raise NetworkError(f"timeout ({type(exc).__name__}) on GET {safe_url}") from None
        except httpx.TransportError as exc:
            self.attempts.append((safe_url, type(exc).__name__))
            raise NetworkError(f"{type(exc).__name__} on GET {safe_url}: {redact(str(exc))}") from None
        code = response.status_code
        self.attempts.append((safe_url, str(code)))
        if code == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(f"HTTP 429 on GET {safe_url}", status_code=code, retry_after=retry_after)
        if code >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise ServerError(f"HTTP {code} on GET {safe_url}", status_code=code, retry_after=retry_after)
        if code >= 400:
            raise ClientError(f"HTTP {code} on GET {safe_url}: {redact(response.text)[:200]}", status_code=code)
        log.debug("GET %s -> %d (%d bytes)", safe_url, code, len(response.content))
        return response
