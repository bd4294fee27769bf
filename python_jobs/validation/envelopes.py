"""Pydantic models of the payload envelopes (the shape around the records).

Records themselves are checked in bulk by SQL (:mod:`python_jobs.validation.records`): row-by-row
pydantic over 250k box-score rows would be far too slow.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from python_jobs.errors import PayloadError, PayloadValidationError


class ResultSet(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    headers: list[str]
    rowSet: list[Any]  # noqa: N815 - the API's name

    @field_validator("headers")
    @classmethod
    def _unique_headers(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("duplicate header names")
        return v


class StatsEnvelope(BaseModel):
    """stats.nba.com ``{resource, parameters, resultSets: [{name, headers, rowSet}]}``."""

    model_config = ConfigDict(extra="allow")

    resource: str | None = None
    parameters: dict[str, Any] | list[Any] | None = None
    resultSets: list[ResultSet] = Field(min_length=1)  # noqa: N815

    def result_set(self, name: str) -> tuple[int, ResultSet]:
        for i, rs in enumerate(self.resultSets):
            if rs.name.lower() == name.lower():
                return i, rs
        raise PayloadValidationError(f"resultSet {name!r} not in payload (has {[r.name for r in self.resultSets]})",
                                     reason_code="missing_result_set")

    @property
    def params(self) -> dict[str, Any]:
        return self.parameters if isinstance(self.parameters, dict) else {}


class ScheduleTeam(BaseModel):
    model_config = ConfigDict(extra="allow")
    teamId: Any = None  # noqa: N815
    teamTricode: Any = None  # noqa: N815


class ScheduleGame(BaseModel):
    model_config = ConfigDict(extra="allow")
    gameId: Any = None  # noqa: N815
    homeTeam: ScheduleTeam | None = None  # noqa: N815
    awayTeam: ScheduleTeam | None = None  # noqa: N815


class ScheduleDate(BaseModel):
    model_config = ConfigDict(extra="allow")
    gameDate: str | None = None  # noqa: N815
    games: list[Any]


class LeagueSchedule(BaseModel):
    model_config = ConfigDict(extra="allow")
    seasonYear: str  # noqa: N815
    gameDates: list[ScheduleDate]  # noqa: N815


class ScheduleEnvelope(BaseModel):
    """cdn.nba.com / stats.nba.com scheduleLeagueV2 ``{meta, leagueSchedule: {seasonYear, gameDates}}``."""

    model_config = ConfigDict(extra="allow")
    leagueSchedule: LeagueSchedule  # noqa: N815


class OddsEvent(BaseModel):
    """The Odds API v4 event (with ``bookmakers`` for the event-odds endpoint)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    sport_key: str | None = None
    commence_time: str | None = None
    home_team: Any = None
    away_team: Any = None
    bookmakers: list[Any] | None = None


class HistoricalWrapper(BaseModel):
    """The Odds API historical endpoints: ``{timestamp, previous_timestamp, next_timestamp, data}``."""

    model_config = ConfigDict(extra="allow")
    timestamp: str
    previous_timestamp: str | None = None
    next_timestamp: str | None = None
    data: Any


UTF8_BOM = b"\xef\xbb\xbf"
# an Odds API event id as it goes into URLs and params: a plain id, never a path
EVENT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class NonFiniteToken:
    """A ``NaN`` / ``Infinity`` / ``-Infinity`` token of a leniently parsed payload (not JSON).

    The record holding one is quarantined (``non_finite_number``); the payload's other records are kept.
    """

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    def __repr__(self) -> str:
        return self.token


def parse_json(body: str | bytes) -> tuple[Any, bool]:
    """(object, lenient) of payload text.

    Strict JSON first (orjson, fast). Failing that, leniently: a UTF-8 byte-order mark is stripped
    and ``NaN``/``Infinity`` tokens become :class:`NonFiniteToken` (``lenient`` is then True so the
    parsers quarantine the records holding one). Truncated or non-JSON text raises
    PayloadError('invalid_json').
    """
    try:
        return orjson.loads(body), False
    except orjson.JSONDecodeError as exc:
        strict_error = exc
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    had_bom = raw.startswith(UTF8_BOM)
    if had_bom:
        raw = raw[len(UTF8_BOM):]
        try:
            return orjson.loads(raw), False
        except orjson.JSONDecodeError as exc:
            strict_error = exc
    try:
        return json.loads(raw, parse_constant=NonFiniteToken), True
    except (ValueError, RecursionError):
        raise PayloadError(f"payload is not valid JSON: {strict_error}", reason_code="invalid_json") from None


def load_json(body: str | bytes) -> Any:
    """The parsed payload (see :func:`parse_json`); raises PayloadError('invalid_json')."""
    return parse_json(body)[0]


def contains_non_finite(value: Any) -> bool:
    if isinstance(value, NonFiniteToken):
        return True
    if isinstance(value, list | tuple):
        return any(contains_non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(contains_non_finite(v) for v in value.values())
    return False


def check_event_id(value: Any) -> str:
    """The event id if it is a plain id; PayloadValidationError('bad_event_id') otherwise."""
    if not isinstance(value, str) or not EVENT_ID_RE.fullmatch(value):
        shown = repr(value)[:80]
        raise PayloadValidationError(f"event id {shown} is not a plain id (1-64 of A-Z a-z 0-9 _ -)",
                                     reason_code="bad_event_id")
    return value


def validate(model: type[BaseModel], obj: Any, what: str) -> Any:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise PayloadValidationError(f"{what}: {loc}: {first['msg']} ({exc.error_count()} error(s))",
                                     reason_code="invalid_envelope") from None


def unwrap_odds(obj: Any) -> tuple[Any, str | None]:
    """(inner data, snapshot timestamp) of a plain or historical Odds API payload."""
    if isinstance(obj, dict) and "data" in obj and "timestamp" in obj:
        wrapper = validate(HistoricalWrapper, obj, "odds historical wrapper")
        return wrapper.data, wrapper.timestamp
    return obj, None
