"""The ops config file (``config/ops.yml``): deadlines, tiered waits, timeouts, retries, lock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from python_jobs.config import PROJECT_ROOT
from python_jobs.errors import ConfigurationError

DEFAULT_PATH = PROJECT_ROOT / "config" / "ops.yml"
LAND_PHASE = "phase1"  # the land step runs the whole tiered source wait


class SourceSpec(BaseModel):
    expected_at: time


class Tier(BaseModel):
    after_minutes: float = Field(gt=0)
    min_sources: int = Field(ge=0)


class SourceWait(BaseModel):
    all_sources_within_minutes: float = Field(gt=0)
    tiers: list[Tier]
    give_up_after_minutes: float = Field(gt=0)
    poll_interval_minutes: float = Field(gt=0)
    late_alert_minutes: float = Field(gt=0)

    @field_validator("tiers")
    @classmethod
    def _sorted(cls, tiers: list[Tier]) -> list[Tier]:
        return sorted(tiers, key=lambda t: t.after_minutes)


class Retries(BaseModel):
    max_attempts: int = Field(ge=1)
    backoff_seconds: float = Field(ge=0)
    backoff_factor: float = Field(ge=1)

    def delays(self) -> list[float]:
        """Seconds to wait before attempt 2, 3, ... (exponential backoff)."""
        return [self.backoff_seconds * self.backoff_factor**i for i in range(self.max_attempts - 1)]


class LockConfig(BaseModel):
    ttl_minutes: float = Field(gt=0)
    wait_minutes: float = Field(ge=0)
    poll_seconds: float = Field(gt=0)


class OpsConfig(BaseModel):
    timezone: str
    sources: dict[str, SourceSpec]
    source_wait: SourceWait
    phase_timeouts_seconds: dict[str, float]
    retries: Retries
    lock: LockConfig
    coverage_slo: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _tiers_fit(self) -> OpsConfig:
        n = len(self.sources)
        sw = self.source_wait
        for tier in sw.tiers:
            if tier.min_sources > n:
                raise ValueError(f"tier needs {tier.min_sources} sources but only {n} are configured")
            if tier.after_minutes >= sw.give_up_after_minutes:
                raise ValueError(f"source_wait tier after {tier.after_minutes:g} min is never reached: "
                                 f"give_up_after_minutes {sw.give_up_after_minutes:g} comes first")
        # the land step waits up to give_up_after_minutes, then lands once more (one poll's work):
        # its timeout must leave room for both, or the later tiers are unreachable in live mode
        land = self.timeout(LAND_PHASE).total_seconds()
        needed = (sw.give_up_after_minutes + sw.poll_interval_minutes) * 60
        if land < needed:
            unreachable = [f"{t.after_minutes:g} min" for t in sw.tiers if t.after_minutes * 60 >= land]
            raise ValueError(
                f"phase_timeouts_seconds.{LAND_PHASE} = {land:g} s cannot hold the tiered source wait: it needs "
                f">= {needed:g} s (give_up_after_minutes {sw.give_up_after_minutes:g} + poll_interval_minutes "
                f"{sw.poll_interval_minutes:g}); unreachable tiers: {', '.join(unreachable) or 'the give-up point'}")
        # the run lock is refreshed between steps only: it must outlive the longest step
        longest = max(self.phase_timeouts_seconds.values(), default=0.0)
        if self.lock.ttl_minutes * 60 <= longest:
            raise ValueError(f"lock.ttl_minutes {self.lock.ttl_minutes:g} is shorter than the longest step timeout "
                             f"({longest:g} s): the lock would expire during a step")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def expected_at(self, source: str, game_date: date) -> datetime:
        """When ``source`` is normally available for ``game_date`` (aware datetime, UTC)."""
        local = datetime.combine(game_date, self.sources[source].expected_at, tzinfo=self.tz)
        return local.astimezone(ZoneInfo("UTC"))

    def timeout(self, phase: str) -> timedelta:
        return timedelta(seconds=self.phase_timeouts_seconds.get(phase, 1800))


def load_ops_config(path: Path | None = None) -> OpsConfig:
    """Read and validate the ops config (default ``config/ops.yml``)."""
    path = path or DEFAULT_PATH
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    try:
        return OpsConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "<root>"
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"invalid ops config {path}: {loc}: {msg}".replace("\n", " ")) from None


@lru_cache(maxsize=1)
def ops_config() -> OpsConfig:
    return load_ops_config()
