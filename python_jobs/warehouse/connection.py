"""Open the warehouse of ``settings.dbt_target``: the one entry point (``connect``).

DuckDB (``dev``/``ci``): one writer at a time per file; dbt and Python never write concurrently
(``python_jobs.ops.guard.short_write`` serialises writers). BigQuery (``prod``):
``python_jobs.warehouse.bigquery_engine.BigQueryWarehouse``, imported only when the target needs it.
"""

from __future__ import annotations

import importlib

from python_jobs.config import Settings, get_settings
from python_jobs.warehouse.base import Warehouse
from python_jobs.warehouse.errors import EngineNotAvailable
from python_jobs.warehouse.schema import ensure_raw_schema

_bigquery_raw_ready: set[tuple[str, str]] = set()


def _bigquery(settings: Settings) -> Warehouse:
    try:
        module = importlib.import_module("python_jobs.warehouse.bigquery_engine")
    except ImportError as exc:
        raise EngineNotAvailable(
            f"target {settings.dbt_target!r} is BigQuery but its engine cannot be imported ({exc}); "
            "install the extra: uv sync --extra bigquery"
        ) from exc
    return module.BigQueryWarehouse(settings)


def connect(settings: Settings | None = None, read_only: bool = False) -> Warehouse:
    """A ``Warehouse`` for ``settings.dbt_target``; use it as ``with connect(settings) as wh: ...``.

    A read-write open creates the raw layer if it is missing, through dbt's ``create_raw_layer``
    (``python_jobs.warehouse.schema``): DuckDB before the file is opened (cheap once known to exist),
    BigQuery once per process and target.
    """
    settings = settings or get_settings()
    if settings.engine == "bigquery":
        wh = _bigquery(settings)
        key = (str(settings.home), settings.dbt_target)
        if not read_only and key not in _bigquery_raw_ready:
            try:
                ensure_raw_schema(wh, settings=settings)
            except BaseException:
                wh.close()
                raise
            _bigquery_raw_ready.add(key)
        return wh
    from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse

    if not read_only:
        # dbt creates the raw layer before the file is opened (one writer per DuckDB file)
        ensure_raw_schema(settings=settings)
    return DuckDBWarehouse.from_settings(settings, read_only=read_only)
