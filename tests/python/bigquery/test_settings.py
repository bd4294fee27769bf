"""BigQuery settings come from the environment; a missing project or key file fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from python_jobs.config import Settings
from python_jobs.errors import ConfigurationError
from python_jobs.warehouse.bigquery_engine import BigQueryWarehouse


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NBA_PROPS_BQ_PROJECT", "my-proj")
    monkeypatch.setenv("NBA_PROPS_BQ_LOCATION", "EU")
    monkeypatch.setenv("NBA_PROPS_BQ_API_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("NBA_PROPS_BQ_KEYFILE", str(tmp_path / "key.json"))
    settings = Settings()
    assert (settings.bq_project, settings.bq_location, settings.bq_api_endpoint, settings.bq_keyfile) == (
        "my-proj", "EU", "http://127.0.0.1:1", tmp_path / "key.json")


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NBA_PROPS_BQ_PROJECT", "NBA_PROPS_BQ_LOCATION", "NBA_PROPS_BQ_API_ENDPOINT", "NBA_PROPS_BQ_KEYFILE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert (settings.bq_project, settings.bq_location, settings.bq_api_endpoint, settings.bq_keyfile,
            settings.bq_max_attempts, settings.bq_job_timeout_s) == (None, "US", None, None, 5, 3600.0)


def test_missing_project_fails_with_one_line() -> None:
    with pytest.raises(ConfigurationError, match=r"^NBA_PROPS_BQ_PROJECT is not set"):
        BigQueryWarehouse(Settings(_env_file=None, bq_project=None))


def test_missing_keyfile_fails_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^NBA_PROPS_BQ_KEYFILE does not name a file"):
        BigQueryWarehouse(Settings(_env_file=None, bq_project="p", bq_keyfile=tmp_path / "absent.json"))


def test_emulator_endpoint_uses_anonymous_credentials() -> None:
    from google.auth.credentials import AnonymousCredentials

    warehouse = BigQueryWarehouse(Settings(_env_file=None, bq_project="p", bq_api_endpoint="http://127.0.0.1:1"))
    try:
        assert isinstance(warehouse.client._credentials, AnonymousCredentials)
        assert warehouse.client._connection.API_BASE_URL == "http://127.0.0.1:1"
        assert warehouse.client.location == "US"
    finally:
        warehouse.close()
