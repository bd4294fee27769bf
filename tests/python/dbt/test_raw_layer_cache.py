"""dbt's rendering of the raw layer is kept per project content: a fresh process creates the layer
of a new DuckDB warehouse without running dbt, and only from a rendering of exactly this project.

Oracles: the layer `dbt run-operation create_raw_layer` creates (information_schema, column by
column), whether the process imported dbt at all, and the key recomputed after editing a copy of
the project's files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.warehouse.schema import _ddl_cache_path, cached_ddl
from tests.python.conftest import project_copy

COLUMNS = ("select table_name, column_name, data_type, is_nullable from information_schema.columns "
           "where table_schema = 'raw' order by table_name, ordinal_position")

# a fresh process: create the raw layer of a new warehouse, report whether dbt was imported
FRESH = """
import json, sys
from pathlib import Path
import duckdb
from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.warehouse.schema import ensure_raw_schema
settings = Settings(home=PROJECT_ROOT, warehouse_dir=Path(sys.argv[1]), cache_dir=Path(sys.argv[2]), dbt_target="ci")
ensure_raw_schema(settings=settings)
con = duckdb.connect(str(settings.database_path), read_only=True)
print(json.dumps({"dbt_imported": "dbt.cli.main" in sys.modules,
                  "columns": con.execute(sys.argv[3]).fetchall()}))
"""


def _fresh_process(warehouse: Path, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBA_PROPS_", "DBT_"))}
    done = subprocess.run([sys.executable, "-c", FRESH, str(warehouse), str(cache), COLUMNS], cwd=PROJECT_ROOT,
                          env={**env, "PYTHONPATH": str(PROJECT_ROOT)}, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"fresh process failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(900)
def test_second_fresh_process_creates_the_layer_dbt_created_without_dbt(tmp_path: Path) -> None:
    from python_jobs.dbt_runner import run_dbt
    from tests.python.conftest import make_settings

    reference = make_settings(tmp_path / "by_dbt")
    run_dbt(["run-operation", "create_raw_layer"], reference)
    with duckdb.connect(str(reference.database_path), read_only=True) as con:
        created = [list(r) for r in con.execute(COLUMNS).fetchall()]
    assert len(created) > 100

    cache = tmp_path / "cache"
    first = _fresh_process(tmp_path / "first", cache)
    assert first["dbt_imported"] is True  # nothing kept yet: dbt renders the layer
    assert first["columns"] == created
    assert len(list((cache / "raw-ddl").glob("*.json"))) == 1

    second = _fresh_process(tmp_path / "second", cache)
    assert second["dbt_imported"] is False  # dbt's kept rendering, replayed
    assert second["columns"] == created


def test_the_key_changes_with_any_file_dbt_reads_and_only_with_those(tmp_path: Path) -> None:
    home = project_copy(tmp_path / "project")
    settings = Settings(home=home, warehouse_dir=tmp_path / "wh", cache_dir=tmp_path / "cache", dbt_target="ci")
    key = _ddl_cache_path(settings)
    assert key.parent == tmp_path / "cache" / "raw-ddl"

    (home / "README.md").write_text("not read by dbt\n")
    assert _ddl_cache_path(settings) == key

    raw_yaml = next(p for p in sorted((home / "models").rglob("*.yml")) if "schema: raw" in p.read_text())
    raw_yaml.write_text(raw_yaml.read_text().replace("schema: raw", "schema: raw ", 1))
    changed = _ddl_cache_path(settings)
    assert changed != key

    macro = home / "macros" / "raw" / "create_raw_layer.sql"
    macro.write_text(macro.read_text() + "\n")
    assert _ddl_cache_path(settings) not in (key, changed)

    assert _ddl_cache_path(settings.model_copy(update={"dbt_target": "dev"})) != _ddl_cache_path(settings)


def test_a_damaged_entry_is_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(home=PROJECT_ROOT, warehouse_dir=tmp_path / "wh", cache_dir=tmp_path / "cache",
                        dbt_target="ci")
    path = _ddl_cache_path(settings)
    path.parent.mkdir(parents=True)
    path.write_text('{"not": "a list of statements"')
    assert cached_ddl(settings) is None
    path.write_text(json.dumps({"not": "a list"}))
    assert cached_ddl(settings) is None
    assert sum("raw layer cache" in r.getMessage() for r in caplog.records) == 2
    path.write_text(json.dumps(["create schema if not exists raw"]))
    assert cached_ddl(settings) == ["create schema if not exists raw"]
