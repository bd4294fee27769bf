"""One redaction function for every error text, log line and table column that may hold a secret.

``redact(text)`` masks

* the *value* of every known secret wherever it appears, as given and URL-encoded (a server that
  echoes the key in a body, a header or a redirect cannot leak it): the secrets are the values of
  the environment variables in :data:`SECRET_ENV_VARS` plus any registered at run time with
  :func:`register_secret` (the live transport registers the key it was configured with);
* the value of secret-looking query parameters (``apiKey=...``, ``token=...``), known or not.

Used by the HTTP client (error messages, logged URLs), the landing session
(``raw.scrape_runs.error_message``) and the ops records (``raw.pipeline_execution_log``,
``raw.pipeline_runs``). Truncate *after* redacting, never before: a cut can split a secret.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from urllib.parse import quote, quote_plus

SECRET_ENV_VARS = ("ODDS_API_KEY",)
SECRET_PARAM_NAMES = ("apikey", "api_key", "key", "token", "access_token")
MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(SECRET_PARAM_NAMES) + r")=([^&\s\"']+)")
_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in everything redacted from now on in this process."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def _secret_forms() -> list[str]:
    values = set(_registered)
    values.update(v for name in SECRET_ENV_VARS if (v := os.environ.get(name)) and len(v) >= MIN_SECRET_LENGTH)
    forms = {f for v in values for f in (v, quote(v, safe=""), quote_plus(v), quote(v))}
    return sorted(forms, key=len, reverse=True)  # longest first: an encoded form contains parts of others


def redact(text: object) -> str:
    """``text`` with every known secret value and secret query parameter replaced by ``***``."""
    out = str(text)
    for form in _secret_forms():
        if form in out:
            out = out.replace(form, MASK)
    return _PARAM_RE.sub(lambda m: f"{m.group(1)}={MASK}", out)


def _may_hold_secret(value: object) -> bool:
    """Text-like log arguments (numbers keep their type so that ``%d`` and ``%.1f`` still format)."""
    return isinstance(value, str | bytes | BaseException) or type(value).__module__.startswith(("httpx", "httpcore"))


def redact_record(record: logging.LogRecord) -> None:
    """Redact a log record's message and its text-like arguments in place."""
    if record.args and isinstance(record.args, tuple):  # (a mapping of args is left as it is)
        record.args = tuple(redact(a) if _may_hold_secret(a) else a for a in record.args)
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)


# A logger's filter does not apply to its children (httpcore logs as httpcore.http11 and
# httpcore.connection, with the response headers in the message), so every record of these
# logger trees is redacted where it is created, by a record factory installed once per process.
REDACTED_LOGGERS = ("httpx", "httpcore", "tenacity", "python_jobs")
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if record.name.startswith(REDACTED_LOGGERS):
        redact_record(record)
    return record


if not getattr(logging.getLogRecordFactory(), "_nba_props_redacting", False):
    _redacting_factory._nba_props_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(_redacting_factory)
