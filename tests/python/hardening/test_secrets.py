"""The Odds API key never reaches error text, logs or tables, even when a server echoes it.

A real HTTP server on 127.0.0.1 echoes the key back in the places a hostile or careless server
would: a 4xx body (in plain text, not as ``apiKey=``; and straddling the 200-character cut), a
response header, a redirect. The key is given to the live transport the way production gives it
(``Settings.odds_api_key``), and the error then goes through ``LandingSession.record_failure`` into
``raw.scrape_runs.error_message``, through ``records.log_step`` into the execution log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from python_jobs.config import Settings
from python_jobs.errors import ClientError, NbaPropsError
from python_jobs.landing import LandingSession
from python_jobs.ops import records
from python_jobs.redaction import redact
from python_jobs.scrapers import endpoints as ep
from python_jobs.scrapers.http import HostRateLimiter, HttpClient, RetryPolicy
from python_jobs.scrapers.live import LiveTransport
from python_jobs.warehouse.connection import connect

SECRET = "k3y/Echo+9f8e7d6c5b4a"  # '/' and '+' so that its URL-encoded form differs from it


class _Echo(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        key = self.path.split("apiKey=", 1)[1].split("&", 1)[0] if "apiKey=" in self.path else ""
        if "/events" in self.path and "/odds" not in self.path:
            # a 401 whose body quotes the key as received (URL-encoded) and decoded, 190 chars in
            body = ("x" * 180 + f" invalid key {SECRET} (sent as {key})").encode()  # the cut at 200 splits it
            self.send_response(401)
            self.send_header("X-Echo-Key", SECRET)
        else:
            body = f'{{"message": "quota exceeded for {SECRET}"}}'.encode()
            self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _transport(server: str, settings: Settings) -> LiveTransport:
    client = HttpClient(timeout=2.0, retry=RetryPolicy(max_attempts=1, sleep=lambda s: None),
                        rate_limiter=HostRateLimiter())
    return LiveTransport(settings, client=client, stats_base=f"{server}/stats", odds_base=f"{server}/v4")


def _assert_clean(text: str | None) -> None:
    assert text is not None
    for form in (SECRET, quote(SECRET, safe=""), SECRET[:7], SECRET[-7:]):
        assert form not in text, f"secret fragment {form!r} in {text!r}"


@pytest.mark.timeout(120)
def test_echoed_key_is_redacted_in_errors_logs_and_tables(server, tmp_settings, caplog):
    settings = tmp_settings.model_copy(update={"transport": "live", "odds_api_key": SecretStr(SECRET)})
    caplog.set_level(logging.DEBUG)
    transport = _transport(server, settings)
    errors: list[NbaPropsError] = []
    try:
        for request in (ep.odds_events(date(2025, 3, 19)),
                        ep.event_odds("abc123", snapshot_at=datetime(2025, 3, 19, 14, tzinfo=UTC))):
            with pytest.raises(ClientError) as info:
                transport.fetch(request)
            errors.append(info.value)
    finally:
        transport.close()
    assert [e.status_code for e in errors] == [401, 403]
    # the error says what happened, without the key
    assert "invalid key ***" in str(errors[0]) and "quota exceeded for ***" in str(errors[1])
    for e in errors:
        _assert_clean(str(e))
    with connect(settings) as con:
        session = LandingSession(con, settings, command="land-day", transport="live")
        for e in errors:
            session.record_failure(ep.odds_events(date(2025, 3, 19)), e)
        session.finish()
        (stored,) = con.fetchone("select error_message from raw.scrape_runs")
    _assert_clean(stored)
    assert "***" in stored
    records.log_step(settings, run_id="r", correlation_id="c", flow="daily", game_date=date(2025, 3, 19),
                     phase="phase1", node="land", node_type="step", started_at=None, finished_at=None,
                     status="error", error=errors[0], logged_at=settings.utcnow())
    with connect(settings) as con:
        (logged,) = con.fetchone("select error_message from raw.pipeline_execution_log")
    _assert_clean(logged)
    _assert_clean(caplog.text)


def test_redact_masks_every_form_of_a_known_secret(monkeypatch):
    monkeypatch.setenv("ODDS_API_KEY", SECRET)
    text = f"a {SECRET} b {quote(SECRET, safe='')} c apiKey=other&token=t0k d"
    out = redact(text)
    assert out == "a *** b *** c apiKey=***&token=*** d"
    assert redact("nothing secret here") == "nothing secret here"
