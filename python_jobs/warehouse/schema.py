"""The raw layer (the tables Phase 1, scoring and ops write; dbt reads them as sources).

Defined once, in dbt: the source YAML of schema ``raw`` lists every column with a neutral type,
its constraints and the table's BigQuery layout; ``macros/raw/create_raw_layer.sql`` renders it per
engine and creates what is missing (dbt's ``on-run-start`` and ``dbt run-operation
create_raw_layer``). There is no DDL in Python: this module only makes sure the layer exists
before a Python job writes, through that macro.

DuckDB: one writer per file, so dbt never runs against a file this process holds open. The macro
renders the layer once per process into a scratch DuckDB file; the statements DuckDB recorded there
are replayed on the warehouse connection (same columns, types, constraints, order).
BigQuery: the run-operation runs once per process (one tables.list call when the layer exists).

All timestamps are ``timestamp with time zone`` in UTC. A game date is the US/Eastern date.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from python_jobs.config import Settings, get_settings
from python_jobs.files import atomic_write_text, cache_key
from python_jobs.warehouse.duckdb_engine import warehouse_file

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw"
# the table whose presence means "the raw layer exists" (every raw table is created together)
SENTINEL_TABLE = "scrape_runs"

_lock = threading.Lock()
_duckdb_ddl: list[str] | None = None  # CREATE statements rendered by dbt for DuckDB (per process)
_bigquery_done: set[tuple[str, str]] = set()  # (project home, target) whose layer was ensured
_duckdb_done: set[str] = set()  # DuckDB files known to have the layer


class RawLayerError(RuntimeError):
    """The raw layer could not be created."""


def raw_layer_ddl_duckdb(settings: Settings | None = None) -> list[str]:
    """The raw layer's CREATE statements for DuckDB, rendered by dbt's ``create_raw_layer`` into a
    scratch file once per process (``create schema`` first, then one ``create table`` per table),
    or dbt's earlier rendering of the very same project (``cached_ddl``)."""
    global _duckdb_ddl
    settings = settings or get_settings()
    with _lock:
        if _duckdb_ddl is None:
            _duckdb_ddl = cached_ddl(settings)
        if _duckdb_ddl is None:
            _duckdb_ddl = _render_duckdb_ddl(settings)
            _keep_ddl(settings, _duckdb_ddl)
        return list(_duckdb_ddl)


# ---------------------------------------------------------------- dbt's rendering, kept per project content
DDL_CACHE_VERSION = 1


def _ddl_cache_path(settings: Settings) -> Path:
    """Where dbt's DuckDB rendering of the layer is kept: named by the sha256 of everything it can
    depend on (the content of every file dbt parses, the dbt target, the dbt, dbt-duckdb and
    DuckDB versions), so a changed source YAML, macro or version is never served an old rendering."""
    from importlib.metadata import version

    from python_jobs.dbt_runner import _project_fingerprint

    def files() -> Iterator[str | bytes]:  # the files dbt reads (a change re-parses): name, content
        for entry in _project_fingerprint(settings.home):
            path = Path(settings.home, entry[0])
            yield str(path.relative_to(settings.home))
            yield path.read_bytes()

    key = cache_key(itertools.chain((f"v{DDL_CACHE_VERSION}", settings.dbt_target, version("dbt-core"),
                                     version("dbt-duckdb"), version("duckdb")), files()))
    return settings.cache_dir / "raw-ddl" / f"{key}.json"


def cached_ddl(settings: Settings) -> list[str] | None:
    """dbt's recorded rendering for exactly this project content, or None (dbt must render it)."""
    path = _ddl_cache_path(settings)
    if not path.exists():
        return None
    try:
        statements = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("raw layer cache %s unreadable (%s): dbt renders the layer again", path, exc)
        return None
    if not (isinstance(statements, list) and statements and all(isinstance(x, str) for x in statements)):
        log.warning("raw layer cache %s malformed: dbt renders the layer again", path)
        return None
    return statements


def _keep_ddl(settings: Settings, statements: list[str]) -> None:
    """Keep dbt's rendering for the next process (written atomically: never half written).
    A cache that cannot be written costs only time: a warning."""
    path = _ddl_cache_path(settings)
    try:
        atomic_write_text(path, json.dumps(statements))
    except OSError as exc:
        log.warning("raw layer cache %s not written: %s", path, exc)


def _render_duckdb_ddl(settings: Settings) -> list[str]:
    from python_jobs.dbt_runner import run_dbt

    scratch = Path(tempfile.mkdtemp(prefix="nba_props_raw_layer_"))
    try:
        scratch_settings = settings.model_copy(update={
            "warehouse_dir": scratch, "duckdb_path": scratch / "raw_layer.duckdb",
            "dbt_target": settings.dbt_target if settings.dbt_target != "prod" else "dev",
        })
        run_dbt(["run-operation", "create_raw_layer"], scratch_settings)
        with warehouse_file(str(scratch_settings.database_path), read_only=True) as con:
            return _recorded_statements(con)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _recorded_statements(con: Any) -> list[str]:
    """``create schema`` + the CREATE TABLE of every raw table, as DuckDB recorded them."""
    rows = con.execute(
        "select sql from duckdb_tables() where schema_name = ? order by table_name", [RAW_SCHEMA]
    ).fetchall()
    if not rows:
        raise RawLayerError("dbt run-operation create_raw_layer created no raw table (are the raw sources declared?)")
    statements = [f"create schema if not exists {RAW_SCHEMA}"]
    for (sql,) in rows:
        head = "CREATE TABLE "
        if not sql.startswith(head):
            raise RawLayerError(f"unexpected DDL recorded by DuckDB: {sql[:80]}")
        statements.append("CREATE TABLE IF NOT EXISTS " + sql[len(head):])
    return statements


def _is_duckdb_connection(target: Any) -> bool:
    import duckdb

    return isinstance(target, duckdb.DuckDBPyConnection) or getattr(target, "engine", None) == "duckdb"


def _has_sentinel(con: Any) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [RAW_SCHEMA, SENTINEL_TABLE],
    ).fetchone()[0])


def ensure_raw_schema(target: Any = None, settings: Settings | None = None) -> None:
    """Create the raw layer if it does not exist (idempotent, cheap when it exists).

    ``target``: an open DuckDB connection (or a DuckDB ``Warehouse``): the statements rendered by
    dbt are replayed on it when ``raw.scrape_runs`` is missing. ``None`` (call it BEFORE opening
    the warehouse) or a BigQuery ``Warehouse``: ``dbt run-operation create_raw_layer`` runs
    against the settings' warehouse when the layer is missing, at most once per process and
    database. Never runs dbt against a DuckDB file this process has open.
    """
    settings = settings or get_settings()
    if target is not None and _is_duckdb_connection(target):
        if _has_sentinel(target):
            return
        for statement in raw_layer_ddl_duckdb(settings):
            target.execute(statement)
        return
    from python_jobs.dbt_runner import run_dbt

    if settings.dbt_target == "prod":
        key = (str(settings.home), settings.dbt_target)
        with _lock:
            if key in _bigquery_done:
                return
            run_dbt(["run-operation", "create_raw_layer"], settings)
            _bigquery_done.add(key)
        return
    # DuckDB with no connection open by the caller: dbt creates the layer in the file itself (the
    # parse is then reused by the run's dbt builds); a short connection checks first

    global _duckdb_ddl

    path = settings.database_path
    with _lock:
        if str(path) in _duckdb_done:
            return
        if path.exists():
            with warehouse_file(str(path)) as con:
                exists = _has_sentinel(con)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            exists = False
        if not exists and _duckdb_ddl is None:
            # dbt's rendering of this very project content, kept by an earlier process
            _duckdb_ddl = cached_ddl(settings)
        if not exists and _duckdb_ddl is not None:
            # already rendered by dbt (in this process, or kept by an earlier one): replay it
            with warehouse_file(str(path)) as con:
                for statement in _duckdb_ddl:
                    con.execute(statement)
        elif not exists:
            run_dbt(["run-operation", "create_raw_layer"], settings)
            _remember_duckdb_ddl(path)
            _keep_ddl(settings, list(_duckdb_ddl or []))
        _duckdb_done.add(str(path))


def _remember_duckdb_ddl(path: Path) -> None:
    """Keep the statements DuckDB recorded for the layer dbt just created (caller holds _lock)."""
    global _duckdb_ddl

    with warehouse_file(str(path)) as con:
        _duckdb_ddl = _recorded_statements(con)
