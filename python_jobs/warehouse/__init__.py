"""The warehouse boundary of the Python side.

Every read and write of the warehouse goes through a ``Warehouse`` (``base.py``) opened with
``python_jobs.warehouse.connection.connect(settings, read_only=False)``, which picks the engine of
``settings.dbt_target`` (``Settings.engine``, from the target's ``type`` in profiles.yml):

- ``duckdb_engine.DuckDBWarehouse`` for ``dev``/``ci`` (a local DuckDB file; writers are
  serialised by ``python_jobs.ops.guard.short_write``);
- ``bigquery_engine.BigQueryWarehouse`` for ``prod`` (imported lazily, only when needed).

The rule: **no module outside this package opens the warehouse with ``duckdb.connect``.** An
in-memory DuckDB used purely as a compute engine over local files or Arrow data
(``duckdb.connect()`` / ``duckdb.connect(":memory:")``, e.g. the vectorised record checks in
``python_jobs/validation/records.py`` or the CSV reading in ``python_jobs/scrapers/replay.py``) is
allowed: it never touches the warehouse file. ``tests/python/warehouse/test_boundary.py`` scans
the source and fails on any other ``duckdb.connect``.

Also here: ``schema.py`` (the raw layer, defined in the dbt source YAML and created by dbt), the engine-neutral
errors callers catch (``errors.py``) and ``dbt_plugin.py``, the dbt-duckdb plugin of the DuckDB profiles that
attaches the warehouse file for dbt with the same ATTACH (``duckdb_engine.attach_warehouse_file``).
"""
