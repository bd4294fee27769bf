"""Retry behaviour of the live HTTP client against a real local server on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.errors import (
    ClientError,
    ConfigurationError,
    NetworkError,
    PermanentError,
    ServerError,
    TransientError,
)
from python_jobs.scrapers import endpoints as ep
from python_jobs.scrapers.http import HostRateLimiter, HttpClient, RetryPolicy
from python_jobs.scrapers.live import LiveTransport

SECRET = "SEKRET-odds-key-123456"


class _Handler(BaseHTTPRequestHandler):
    hits: Counter = Counter()

    def log_message(self, *args: object) -> None:  # keep the test output clean
        return

    def _send(self, code: int, body: bytes = b'{"ok": true}', headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = self.path.split("?", 1)[0]
        n = self.hits[path] = self.hits[path] + 1
        if path == "/rate-limited":
            return self._send(429, b"slow down", {"Retry-After": "2"}) if n == 1 else self._send(200)
        if path == "/server-error":
            return self._send(500 if n <= 2 else 200)
        if path == "/bad-gateway-then-ok":
            return self._send(502 if n == 1 else 200)
        if path == "/always-503":
            return self._send(503)
        if path == "/slow-then-ok":
            if n == 1:
                time.sleep(0.6)
            return self._send(200)
        if path == "/not-found":
            return self._send(404, b"no such thing")
        if path == "/unauthorized":
            return self._send(401, b'{"message": "invalid api key"}')
        if path.startswith("/v4/sports/basketball_nba/events"):
            if n == 1:
                return self._send(500)
            return self._send(200, b"[]")
        return self._send(404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[HttpClient]:
    _Handler.hits.clear()
    policy = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0.01, max_retry_after=5,
                         sleep=sleeps.append)  # recorded, not slept: the test stays fast
    with HttpClient(timeout=0.3, retry=policy, rate_limiter=HostRateLimiter()) as c:
        yield c


def test_429_is_retried_honouring_retry_after(server: str, client: HttpClient, sleeps: list[float]) -> None:
    response = client.get(f"{server}/rate-limited")
    assert response.status_code == 200
    assert [a[1] for a in client.attempts] == ["429", "200"]
    assert sleeps and sleeps[0] >= 2.0  # Retry-After: 2 beats the tiny exponential backoff


def test_500_is_retried_with_backoff(server: str, client: HttpClient, sleeps: list[float]) -> None:
    assert client.get(f"{server}/server-error").status_code == 200
    assert [a[1] for a in client.attempts] == ["500", "500", "200"]
    assert len(sleeps) == 2 and all(0 < s <= 0.06 for s in sleeps)


def test_502_then_ok(server: str, client: HttpClient) -> None:
    assert client.get(f"{server}/bad-gateway-then-ok").status_code == 200
    assert len(client.attempts) == 2


def test_timeout_is_retried(server: str, client: HttpClient) -> None:
    assert client.get(f"{server}/slow-then-ok").status_code == 200
    assert [a[1] for a in client.attempts] == ["timeout", "200"]


def test_transient_gives_up_after_max_attempts(server: str, client: HttpClient) -> None:
    with pytest.raises(ServerError) as exc:
        client.get(f"{server}/always-503")
    assert isinstance(exc.value, TransientError) and exc.value.status_code == 503
    assert len(client.attempts) == 4


@pytest.mark.parametrize(("path", "code"), [("/not-found", 404), ("/unauthorized", 401)])
def test_client_errors_fail_fast(server: str, client: HttpClient, sleeps: list[float], path: str, code: int) -> None:
    with pytest.raises(ClientError) as exc:
        client.get(f"{server}{path}")
    assert isinstance(exc.value, PermanentError) and exc.value.status_code == code
    assert len(client.attempts) == 1 and sleeps == []


def test_connection_refused_is_transient(client: HttpClient) -> None:
    with pytest.raises(NetworkError):
        client.get("http://127.0.0.1:9/")  # discard port: nothing listens
    assert len(client.attempts) == 4


def _live(server: str, key: str | None, sleeps: list[float]) -> LiveTransport:
    settings = Settings(home=PROJECT_ROOT, transport="live", odds_api_key=SecretStr(key) if key else None)
    policy = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.0, sleep=sleeps.append)
    client = HttpClient(timeout=1.0, retry=policy, rate_limiter=HostRateLimiter())
    return LiveTransport(settings, client=client, stats_base=f"{server}/stats", odds_base=f"{server}/v4")


def test_odds_api_key_never_logged(server: str, sleeps: list[float], caplog: pytest.LogCaptureFixture) -> None:
    _Handler.hits.clear()
    transport = _live(server, SECRET, sleeps)
    caplog.set_level(logging.DEBUG)
    try:
        fetched = transport.fetch(ep.odds_events(date(2025, 3, 19)))
    finally:
        transport.close()
    assert fetched.body == "[]"
    assert len(transport.client.attempts) == 2  # the 500 was retried
    assert "apiKey=***" in fetched.origin and SECRET not in fetched.origin
    assert caplog.records, "the retry must have been logged"
    assert SECRET not in caplog.text
    assert all(SECRET not in url for url, _ in transport.client.attempts)


def test_missing_odds_api_key_fails_fast(server: str, sleeps: list[float]) -> None:
    _Handler.hits.clear()
    transport = _live(server, None, sleeps)
    try:
        with pytest.raises(ConfigurationError):
            transport.fetch(ep.odds_events(date(2025, 3, 19)))
    finally:
        transport.close()
    assert sum(_Handler.hits.values()) == 0
