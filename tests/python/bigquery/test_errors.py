"""The BigQuery error classifier on constructed google.api_core exceptions (the emulator cannot
produce rate limits or 5xx), and the bounded retry around it. Real emulator errors are classified
in test_engine.py::test_emulator_errors_are_permanent_one_line_and_value_free."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests
from google.api_core import exceptions as gexc

from python_jobs.errors import (
    ClientError,
    NetworkError,
    PermanentError,
    RateLimited,
    ServerError,
    TransientError,
)
from python_jobs.warehouse.bq_errors import RelationNotFound, classify, with_retry


def _err(cls: type[gexc.GoogleAPICallError], message: str, reason: str | None = None) -> gexc.GoogleAPICallError:
    return cls(message, errors=[{"reason": reason, "message": message}] if reason else [])


@pytest.mark.parametrize(("exc", "expected", "status"), [
    (_err(gexc.TooManyRequests, "Too many requests"), RateLimited, 429),
    (_err(gexc.Forbidden, "Exceeded rate limits: too many table update operations", "rateLimitExceeded"),
     RateLimited, 403),
    (_err(gexc.BadRequest, "Resources exceeded during query execution: too many concurrent DML statements",
          "rateLimitExceeded"), RateLimited, 400),
    (_err(gexc.BadRequest, "Transaction is aborted due to concurrent update against table p.raw.x"),
     TransientError, 400),
    (_err(gexc.BadRequest, "Could not serialize access to table p:raw.x due to concurrent update", "invalidQuery"),
     TransientError, 400),
    (_err(gexc.InternalServerError, "An internal error occurred", "internalError"), ServerError, 500),
    (_err(gexc.InternalServerError, "Backend error", "backendError"), ServerError, 500),
    (_err(gexc.BadGateway, "bad gateway"), ServerError, 502),
    (_err(gexc.ServiceUnavailable, "backend unavailable", "backendError"), ServerError, 503),
    (_err(gexc.GatewayTimeout, "gateway timeout"), ServerError, 504),
    (_err(gexc.Forbidden, "Quota exceeded: concurrent queries", "quotaExceeded"), TransientError, 403),
    (_err(gexc.Forbidden, "Access Denied: Table p:raw.x: User does not have permission", "accessDenied"),
     ClientError, 403),
    (_err(gexc.NotFound, "Not found: Table p:raw.x was not found in location US", "notFound"), RelationNotFound, 404),
    (_err(gexc.NotFound, "Not found: Dataset p:predictions", "notFound"), RelationNotFound, 404),
    (_err(gexc.BadRequest, "Syntax error: Unexpected keyword FROM at [1:8]", "invalidQuery"), ClientError, 400),
    (_err(gexc.BadRequest, "Provided Schema does not match Table p:raw.x", "invalid"), ClientError, 400),
    (_err(gexc.Unauthorized, "Request had invalid authentication credentials"), ClientError, 401),
])
def test_api_errors_are_classified(exc: gexc.GoogleAPICallError, expected: type, status: int) -> None:
    error = classify(exc, "query")
    assert type(error) is expected
    assert error.status_code == status
    assert isinstance(error, TransientError) != isinstance(error, PermanentError)
    assert str(error).startswith(f"BigQuery query failed ({status} ")


@pytest.mark.parametrize("exc", [
    gexc.RetryError("Deadline of 600.0s exceeded", cause=None),
    concurrent.futures.TimeoutError(),
    TimeoutError("timed out"),
    ConnectionResetError("reset by peer"),
    requests.ConnectionError("Connection refused"),
    requests.Timeout("read timeout"),
])
def test_transport_failures_are_transient(exc: BaseException) -> None:
    assert type(classify(exc, "load into raw.alerts")) is NetworkError


def test_message_is_one_line_without_values() -> None:
    exc = _err(gexc.BadRequest, "Invalid timestamp: 'player-secret-42' at [3:9]\nJob ID: abc\nLocation: US",
               "invalidQuery")
    message = str(classify(exc, "statement"))
    assert message == "BigQuery statement failed (400 invalidQuery): Invalid timestamp: '…' at [3:9]"
    assert type(classify(ValueError("odd\nthing"), "statement")) is PermanentError


def test_project_errors_pass_through() -> None:
    original = ClientError("already classified", status_code=404)
    assert classify(original, "query") is original


def test_retry_retries_transient_then_succeeds() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _err(gexc.ServiceUnavailable, "try later", "backendError")
        return "ok"

    assert with_retry(flaky, "query", attempts=5, initial_wait=0, max_wait=0) == "ok"
    assert len(calls) == 3


def test_retry_is_bounded_and_reraises_the_classified_error() -> None:
    calls = []

    def always_limited() -> None:
        calls.append(1)
        raise _err(gexc.Forbidden, "Exceeded rate limits", "rateLimitExceeded")

    with pytest.raises(RateLimited) as info:
        with_retry(always_limited, "merge into raw.x", attempts=4, initial_wait=0, max_wait=0)
    assert len(calls) == 4
    assert isinstance(info.value.__cause__, gexc.Forbidden)


def test_permanent_errors_fail_fast() -> None:
    calls = []

    def missing() -> None:
        calls.append(1)
        raise _err(gexc.NotFound, "Not found: Dataset p:nope", "notFound")

    with pytest.raises(RelationNotFound, match=r"^BigQuery query failed \(404 notFound\): Not found: Dataset p:nope$"):
        with_retry(missing, "query", attempts=5, initial_wait=0, max_wait=0)
    assert len(calls) == 1


def test_message_drops_the_repeated_error_list_and_double_quoted_values() -> None:
    # google-cloud-bigquery builds a failed job's message as "<message>; reason: <r>, message: <m>"
    exc = gexc.BadRequest('Query execution failed: Duplicate key "run_id: r1" violates primary key; '
                          'reason: invalidQuery, message: Duplicate key "run_id: r1"',
                          errors=[{"reason": "invalidQuery", "message": 'Duplicate key "run_id: r1"'}])
    assert str(classify(exc, "statement")) == (
        "BigQuery statement failed (400 invalidQuery): Query execution failed: Duplicate key '…' violates primary key")
