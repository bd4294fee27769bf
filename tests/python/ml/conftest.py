"""Fixtures of the ML tests: a synthetic feature store in a private DuckDB warehouse."""

from __future__ import annotations

from datetime import date

import pytest

from python_jobs.warehouse.connection import connect
from tests.python.ml import synthetic as syn

SCORE_DATE = date(2025, 1, 15)


@pytest.fixture
def synthetic_warehouse(tmp_settings):
    """tmp warehouse holding the synthetic store and consensus lines for SCORE_DATE."""
    store = syn.make_store()
    lines = syn.make_lines(store, [SCORE_DATE])
    with connect(tmp_settings) as con:
        syn.write_tables(con, store, lines)
    return tmp_settings, store, lines
