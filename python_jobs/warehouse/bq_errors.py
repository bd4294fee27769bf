"""BigQuery errors -> ``TransientError`` (retry with backoff) or ``PermanentError`` (fail fast).

One classifier for every BigQuery call of the warehouse boundary. The message is one line: the
action (``query``, ``load into raw.alerts``), the HTTP status and BigQuery reason, and the first line
of BigQuery's message with quoted values redacted. Never SQL text, parameter values or secrets.
"""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Callable
from typing import TypeVar

from google.api_core import exceptions as gexc
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from python_jobs.errors import (
    ClientError,
    NbaPropsError,
    NetworkError,
    PermanentError,
    RateLimited,
    ServerError,
    TransientError,
)

# the engine-neutral "no such table/view" error that callers catch (e.g. ml/export.py)
from python_jobs.warehouse.errors import RelationNotFound  # noqa: E402

T = TypeVar("T")

# BigQuery ``reason`` codes (https://cloud.google.com/bigquery/docs/error-messages)
TRANSIENT_REASONS = frozenset({
    "rateLimitExceeded",  # incl. too many concurrent DML statements on one table
    "quotaExceeded",  # concurrent-query and per-minute quotas refill; bounded retries cover it
    "backendError",
    "internalError",
    "jobBackendError",
    "jobInternalError",
    "jobRateLimitExceeded",
    "tableUnavailable",
    "timeout",
})
PERMANENT_REASONS = frozenset({
    "accessDenied", "notFound", "invalid", "invalidQuery", "duplicate", "billingNotEnabled",
    "billingTierLimitExceeded", "resourcesExceeded", "responseTooLarge", "notImplemented",
    "blocked", "stopped",
})
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# messages of DML conflicts between concurrent transactions (retry the whole statement)
_CONCURRENT = re.compile(r"concurrent update|could not serialize access|aborted due to concurrent",
                         re.IGNORECASE)
_QUOTED_VALUE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
# google.api_core appends the error list ("; reason: invalidQuery, message: <the same again>")
_ERROR_LIST = re.compile(r";\s*reason:.*$")


def _reasons(exc: gexc.GoogleAPICallError) -> list[str]:
    return [str(e.get("reason")) for e in (exc.errors or []) if isinstance(e, dict) and e.get("reason")]


def _first_line(text: str) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    line = _ERROR_LIST.sub("", line)
    line = _QUOTED_VALUE.sub("'…'", line)  # values (a parameter quoted back by BigQuery) never leak
    return line[:300]


def classify(exc: BaseException, action: str) -> NbaPropsError:
    """The project error for ``exc`` raised by BigQuery while doing ``action`` (not raised here)."""
    if isinstance(exc, NbaPropsError):
        return exc
    if isinstance(exc, gexc.GoogleAPICallError):
        code = int(exc.code) if exc.code is not None else None
        reasons = _reasons(exc)
        reason = reasons[0] if reasons else type(exc).__name__
        detail = _first_line(exc.message or str(exc))
        message = f"BigQuery {action} failed ({code} {reason}): {detail}"
        if any(r in ("rateLimitExceeded", "jobRateLimitExceeded") for r in reasons) or code == 429:
            return RateLimited(message, status_code=code)
        if _CONCURRENT.search(exc.message or ""):
            return TransientError(message, status_code=code)
        if any(r in TRANSIENT_REASONS for r in reasons):
            return ServerError(message, status_code=code) if code and code >= 500 else TransientError(message, status_code=code)
        if "notFound" in reasons or code == 404:
            return RelationNotFound(message, status_code=code)
        if any(r in PERMANENT_REASONS for r in reasons):
            return ClientError(message, status_code=code)
        if code in TRANSIENT_STATUS:
            return ServerError(message, status_code=code) if code >= 500 else NetworkError(message, status_code=code)
        return ClientError(message, status_code=code)
    if isinstance(exc, gexc.RetryError | concurrent.futures.TimeoutError | TimeoutError | ConnectionError):
        return NetworkError(f"BigQuery {action} failed ({type(exc).__name__}): {_first_line(str(exc))}")
    try:  # transport errors of google-auth / requests (no HTTP answer at all)
        import requests
        from google.auth.exceptions import TransportError

        if isinstance(exc, TransportError | requests.ConnectionError | requests.Timeout):
            return NetworkError(f"BigQuery {action} failed ({type(exc).__name__}): {_first_line(str(exc))}")
    except ImportError:  # pragma: no cover - both ship with google-cloud-bigquery
        pass
    return PermanentError(f"BigQuery {action} failed ({type(exc).__name__}): {_first_line(str(exc))}")


def call(fn: Callable[[], T], action: str) -> T:
    """Run ``fn`` once, raising the classified project error (chained to the original) on failure."""
    try:
        return fn()
    except NbaPropsError:
        raise
    except Exception as exc:  # classified, never swallowed
        raise classify(exc, action) from exc


def with_retry(fn: Callable[[], T], action: str, *, attempts: int = 5, initial_wait: float = 1.0,
               max_wait: float = 30.0) -> T:
    """``call`` with bounded exponential backoff (with jitter) on transient errors only."""
    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential_jitter(multiplier=initial_wait, max=max_wait, jitter=initial_wait),
        reraise=True,
    )
    return retrying(call, fn, action)
