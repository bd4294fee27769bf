"""Error hierarchy shared by every area.

Two families matter for control flow:

* :class:`TransientError` — the same call may succeed later (timeouts, connection resets, HTTP 429,
  HTTP 5xx). Scrapers retry these with exponential backoff and jitter (tenacity), honouring
  ``Retry-After`` when the server sends it.
* :class:`PermanentError` — retrying cannot help (HTTP 4xx other than 429, a malformed or invalid
  payload, a missing API key). Fail fast, record the failure, move on.

Never swallow either into ``[]`` or ``None``: scrapes report them as a failed ``ScrapeResult``.
"""

from __future__ import annotations

import pickle
from typing import Any


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class PicklableError:
    """Mixin for exceptions whose ``__init__`` takes more than the message.

    Pickle rebuilds an exception as ``cls(*self.args)``, which fails for such a class: a pool child
    that raises one then never reports back and the parent waits forever. This rebuilds it without
    calling ``__init__``; attributes that cannot be pickled travel as their ``repr``.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        state: dict[str, Any] = {}
        for key, value in vars(self).items():
            try:
                pickle.dumps(value)
            except Exception:  # noqa: BLE001 - anything unpicklable is sent as text
                value = repr(value)
            state[key] = value
        return (_rebuild, (type(self), self.args, state))


class NbaPropsError(Exception):
    """Base class of every error raised on purpose by nba-props."""


class TransientError(NbaPropsError):
    """A failure that may go away on retry (timeout, reset connection, 429, 5xx)."""

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


class RateLimited(TransientError):
    """HTTP 429: the server asked us to slow down (``retry_after`` seconds when it said so)."""


class ServerError(TransientError):
    """HTTP 5xx."""


class NetworkError(TransientError):
    """Timeout, connection refused/reset, protocol error."""


class PermanentError(NbaPropsError):
    """A failure that retrying cannot fix."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class ClientError(PermanentError):
    """HTTP 4xx other than 429 (bad request, unauthorised, not found, ...)."""


class ConfigurationError(PermanentError):
    """Missing or invalid configuration, e.g. no ``ODDS_API_KEY`` for the live transport."""


class PayloadError(PermanentError):
    """A payload that cannot be used as a whole (not JSON, truncated, unknown shape)."""

    def __init__(self, message: str, *, reason_code: str = "invalid_payload"):
        super().__init__(message)
        self.reason_code = reason_code


class PayloadValidationError(PayloadError):
    """A payload that parses as JSON but does not have the expected envelope."""


class NotAvailableError(PermanentError):
    """The transport has nothing for this request (e.g. replay asked for data it does not bundle)."""


class IngestInvariantError(NbaPropsError):
    """An internal invariant of the landing broke (records in != valid + quarantined)."""
