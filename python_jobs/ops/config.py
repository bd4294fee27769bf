"""The ops config file (``config/ops.yml``): deadlines, tiered waits, timeouts, retries, lock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from python_jobs.config import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "config" / "ops.yml"


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
    gate_sources: list[str] = Field(min_length=1)
    source_wait: SourceWait
    phase_timeouts_seconds: dict[str, float]
    retries: Retries
    lock: LockConfig
    coverage_slo: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _tiers_fit(self) -> OpsConfig:
        n = len(self.sources)
        for tier in self.source_wait.tiers:
            if tier.min_sources > n:
                raise ValueError(f"tier needs {tier.min_sources} sources but only {n} are configured")
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
    return OpsConfig.model_validate(raw)


@lru_cache(maxsize=1)
def ops_config() -> OpsConfig:
    return load_ops_config()
