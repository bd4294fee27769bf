"""Fixtures of the report tests: a small synthetic warehouse (the default) and its generated site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from python_jobs.config import Settings
from tests.python.conftest import make_settings
from tests.python.report import synthetic


def synthetic_settings(directory: Path, **build_kwargs) -> Settings:
    """Settings whose warehouse is the synthetic one (clock at the morning of the report date)."""
    settings = make_settings(directory, now=synthetic.NOW)
    synthetic.build(settings.database_path, **build_kwargs)
    return settings


@pytest.fixture
def synth(tmp_path: Path) -> Settings:
    return synthetic_settings(tmp_path / "warehouse")


@pytest.fixture
def backtest_file(tmp_path: Path) -> Path:
    path = tmp_path / "backtest.json"
    path.write_text(json.dumps(synthetic.backtest_doc()))
    return path
