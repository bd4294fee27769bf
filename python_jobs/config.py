"""Runtime configuration: one pydantic settings object read from the environment.

Every path is absolute once resolved. Secrets (``ODDS_API_KEY``) come only from the environment
and are stored as ``SecretStr`` so they never appear in logs or reprs.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EASTERN = ZoneInfo("America/New_York")  # a game date is the US/Eastern calendar date
DUCKDB_FILE = "nba_props.duckdb"  # the warehouse file's name in warehouse_dir unless duckdb_path says otherwise


def _default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nba-props"


class Settings(BaseSettings):
    """Settings for the CLI, the flows and the tests (env prefix ``NBA_PROPS_``)."""

    model_config = SettingsConfigDict(env_prefix="NBA_PROPS_", env_file=".env", extra="ignore")

    home: Path = Field(default=PROJECT_ROOT, description="project root (dbt_project.yml lives here)")
    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="bundled real data")
    warehouse_dir: Path = Field(default_factory=lambda data: Path(data["home"]) / "warehouse",
                                description="git-ignored state; default home/warehouse")
    duckdb_path: Path | None = Field(default=None, description="DuckDB file; default warehouse_dir/nba_props.duckdb")
    dbt_target: str = Field(default="dev", description="dbt target: dev, ci or prod")
    cache_dir: Path = Field(default_factory=_default_cache_dir, description=(
        "machine-level cache, every entry keyed by the sha256 of its source (replay's columnar "
        "copies of the bundled box scores, dbt's rendering of the raw layer, dbt's latest saved parse "
        "per project, target and catalog); safe to delete"))
    transport: Literal["replay", "live"] = Field(default="replay")
    odds_api_key: SecretStr | None = Field(default=None, validation_alias="ODDS_API_KEY")
    threads: int = Field(default=2, ge=1, le=64)
    now: datetime | None = Field(default=None, description="fake clock for tests/replay (UTC)")
    # BigQuery (prod target); datasets are named like the DuckDB schemas (raw, staging, ...)
    bq_project: str | None = Field(default=None, description="GCP project of the BigQuery warehouse")
    bq_location: str = Field(default="US", description="BigQuery location of the datasets and jobs")
    bq_api_endpoint: str | None = Field(
        default=None, description="BigQuery API endpoint override (a local emulator; anonymous credentials)")
    bq_keyfile: Path | None = Field(
        default=None, description="service-account JSON key; default: application default credentials")
    bq_max_attempts: int = Field(default=5, ge=1, le=20, description="tries of a call on transient errors")
    bq_job_timeout_s: float = Field(default=3600.0, gt=0, description="longest wait for one BigQuery job")
    guard_wait_seconds: float = Field(
        default=600.0, gt=0, description="longest wait for the DuckDB writer guard held by another process; "
        "then WarehouseBusy (exit 3)")
    import_max_decompressed_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1024,
        description="cap on a payload's decompressed size (gzip bombs): a larger file is rejected")

    @property
    def database_path(self) -> Path:
        return self.duckdb_file()

    def duckdb_file(self, default_name: str = DUCKDB_FILE) -> Path:
        """THE rule for the DuckDB warehouse file: ``duckdb_path``, else ``warehouse_dir/default_name``
        (absolute). dbt opens the same file: the profile's plugin (python_jobs/warehouse/dbt_plugin.py)
        applies this rule with the target's default file name."""
        return (self.duckdb_path or self.warehouse_dir / default_name).resolve()

    @property
    def models_dir(self) -> Path:
        return self.warehouse_dir / "models"

    @property
    def exports_dir(self) -> Path:
        return self.warehouse_dir / "exports"

    @property
    def report_dir(self) -> Path:
        return self.warehouse_dir / "report"

    @property
    def dbt_target_path(self) -> Path:
        return self.warehouse_dir / "dbt_target"

    @property
    def engine(self) -> str:
        """Warehouse engine of ``dbt_target``: 'bigquery' when its profiles.yml ``type`` says so, else 'duckdb'."""
        return "bigquery" if profile_target_types(self.home).get(self.dbt_target) == "bigquery" else "duckdb"

    def utcnow(self) -> datetime:
        """Current time in UTC (or the fake clock)."""
        if self.now is not None:
            return self.now if self.now.tzinfo else self.now.replace(tzinfo=UTC)
        return datetime.now(UTC)

    def eastern_today(self) -> date:
        """Today's game date (US/Eastern) by this settings' clock."""
        return self.utcnow().astimezone(EASTERN).date()


@lru_cache(maxsize=8)
def profile_target_types(home: Path) -> dict[str, str]:
    """target -> adapter ``type`` from ``home/profiles.yml`` (read once per project root)."""
    import yaml

    path = home / "profiles.yml"
    if not path.exists():
        return {}
    profiles = yaml.safe_load(path.read_text()) or {}
    return {target: str(out.get("type", "")).strip()
            for profile in profiles.values() if isinstance(profile, dict)
            for target, out in (profile.get("outputs") or {}).items() if isinstance(out, dict)}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment variables dbt needs (profiles.yml reads them).

    Pure: the caller decides how long they apply (``run_dbt`` sets them for one invocation and
    restores the previous values, so a later ``Settings()`` is never redirected to this database).
    """
    return {
        "NBA_PROPS_DUCKDB_PATH": str(settings.database_path),
        "DBT_TARGET": settings.dbt_target,
        "DBT_PROFILES_DIR": str(settings.home),
    }
