"""The raw layer is defined once, in the source YAML, and dbt creates it (macros/raw).

The oracle is the YAML itself, read here with plain PyYAML: every raw source column must exist in
the table dbt created on DuckDB with the type this test maps independently, in the same order,
with its not-null / primary-key constraints; and every source column is described.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from python_jobs.config import PROJECT_ROOT
from tests.python.conftest import make_settings

# the neutral vocabulary of the source YAML -> the type DuckDB reports (information_schema)
DUCKDB_TYPES = {
    "string": "VARCHAR", "integer": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE",
    "date": "DATE", "timestamp": "TIMESTAMP WITH TIME ZONE", "bytes": "BLOB", "boolean": "BOOLEAN",
}


def raw_sources_from_yaml() -> dict[str, list[dict]]:
    """identifier -> column dicts of every source table in schema raw, straight from the YAML."""
    tables: dict[str, list[dict]] = {}
    for path in sorted((PROJECT_ROOT / "models").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for source in doc.get("sources", []):
            if source.get("schema", source["name"]) != "raw":
                continue
            for table in source["tables"]:
                identifier = table.get("identifier", table["name"])
                assert identifier not in tables, f"raw.{identifier} declared twice"
                tables[identifier] = table.get("columns", [])
    return tables


def _constraint(column: dict, kind: str) -> bool:
    return any(c.get("type") == kind for c in column.get("constraints", []))


def test_every_raw_source_column_is_typed_and_described() -> None:
    tables = raw_sources_from_yaml()
    # the sixteen tables the Python jobs write (landing, retractions, scoring, ops)
    assert set(tables) == {
        "scrape_runs", "payload_retractions", "landed_payloads", "nba_player_game_logs", "nba_schedule_games", "nba_players",
        "odds_player_props", "quarantine", "prediction_scores", "prediction_rejects",
        "pipeline_execution_log", "pipeline_runs", "pipeline_locks", "phase_completions", "source_waits", "alerts",
    }
    problems = []
    for table, columns in tables.items():
        assert columns, f"raw.{table} lists no column"
        for column in columns:
            if column.get("data_type") not in DUCKDB_TYPES:
                problems.append(f"raw.{table}.{column['name']}: data_type {column.get('data_type')!r}")
            if not str(column.get("description", "")).strip():
                problems.append(f"raw.{table}.{column['name']}: no description")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def created_raw_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose raw layer was created by `dbt run-operation create_raw_layer` alone."""
    from python_jobs.dbt_runner import run_dbt

    settings = make_settings(tmp_path_factory.mktemp("raw_layer"))
    run_dbt(["run-operation", "create_raw_layer"], settings)
    return settings.database_path


def test_created_tables_match_the_yaml(created_raw_layer: Path) -> None:
    expected = raw_sources_from_yaml()
    with duckdb.connect(str(created_raw_layer), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, data_type, is_nullable from information_schema.columns "
            "where table_schema = 'raw' order by table_name, ordinal_position"
        ).fetchall()
        pk_rows = con.execute(
            "select table_name, unnest(constraint_column_names) from duckdb_constraints() "
            "where schema_name = 'raw' and constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    actual: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, data_type, is_nullable in rows:
        actual.setdefault(table, []).append((column, data_type, is_nullable == "NO"))
    assert set(actual) == set(expected)
    for table, columns in expected.items():
        want = [(c["name"], DUCKDB_TYPES[c["data_type"]],
                 _constraint(c, "not_null") or _constraint(c, "primary_key")) for c in columns]
        assert actual[table] == want, f"raw.{table} differs from its source YAML"
    want_pk = {(t, c["name"]) for t, cols in expected.items() for c in cols if _constraint(c, "primary_key")}
    assert set(pk_rows) == want_pk
    # the tables with a key in the old Python DDL still have it
    assert {"scrape_runs", "landed_payloads", "quarantine", "alerts", "pipeline_locks"} <= {t for t, _ in want_pk}


def test_a_yaml_column_missing_from_the_table_is_detected(created_raw_layer: Path, tmp_path: Path) -> None:
    """The comparison above can fail: drop one column from a copy and it no longer matches."""
    import shutil

    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(created_raw_layer, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("alter table raw.odds_player_props drop column under_price")
        names = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = 'odds_player_props' order by ordinal_position").fetchall()]
    assert names != [c["name"] for c in raw_sources_from_yaml()["odds_player_props"]]


def test_ensure_raw_schema_replays_the_dbt_rendered_layer_on_an_open_connection(created_raw_layer: Path) -> None:
    """Python creates the layer only through dbt's rendering: on an open (in-memory) connection
    it replays what dbt created, identical column by column."""
    from python_jobs.warehouse.schema import ensure_raw_schema

    query = ("select table_name, column_name, data_type, is_nullable from information_schema.columns "
             "where table_schema = 'raw' order by table_name, ordinal_position")
    con = duckdb.connect(":memory:")
    try:
        ensure_raw_schema(con)
        ensure_raw_schema(con)  # idempotent
        replayed = con.execute(query).fetchall()
    finally:
        con.close()
    with duckdb.connect(str(created_raw_layer), read_only=True) as con:
        created = con.execute(query).fetchall()
    assert replayed == created and len(created) == sum(len(c) for c in raw_sources_from_yaml().values())


def test_on_run_start_creates_nothing_when_the_layer_exists(created_raw_layer: Path, tmp_path: Path) -> None:
    """The hook is cheap on an existing layer: it issues no DDL (the tables keep their rows)."""
    import shutil

    from python_jobs.dbt_runner import run_dbt

    settings = make_settings(tmp_path / "wh")
    shutil.copyfile(created_raw_layer, settings.database_path)
    with duckdb.connect(str(settings.database_path)) as con:
        con.execute("insert into raw.pipeline_locks values ('k', 'h', now(), now(), null, null)")
    run_dbt(["run-operation", "create_raw_layer"], settings)
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        assert con.execute("select lock_key from raw.pipeline_locks").fetchall() == [("k",)]
    log = (settings.warehouse_dir / "logs" / "dbt.log").read_text()
    assert "create table if not exists" not in log.lower().split("running with dbt")[-1]


def test_connect_creates_the_layer_before_opening_a_fresh_warehouse(created_raw_layer: Path, tmp_path: Path) -> None:
    """The Python path (connection.connect -> ensure_raw_schema) on two fresh warehouses: both get
    exactly the layer dbt creates (the first through dbt, the next from its recorded rendering)."""
    from python_jobs.warehouse.connection import connect

    query = ("select table_name, column_name, data_type, is_nullable from information_schema.columns "
             "where table_schema = 'raw' order by table_name, ordinal_position")
    with duckdb.connect(str(created_raw_layer), read_only=True) as con:
        created = con.execute(query).fetchall()
    for name in ("first", "second"):
        settings = make_settings(tmp_path / name)
        assert not settings.database_path.exists()
        with connect(settings) as con:
            assert con.fetchall(query) == created, name


def test_an_upgraded_warehouse_gets_the_columns_it_lacks(created_raw_layer: Path, tmp_path: Path) -> None:
    """A warehouse from an older release (raw.prediction_scores without the feature snapshot
    columns) gets exactly the missing columns back, with their types; a second run adds nothing."""
    import shutil

    from python_jobs.dbt_runner import run_dbt

    settings = make_settings(tmp_path / "old")
    shutil.copyfile(created_raw_layer, settings.database_path)
    columns_sql = ("select column_name, data_type from information_schema.columns where table_schema = 'raw' "
                   "and table_name = 'prediction_scores' order by ordinal_position")
    with duckdb.connect(str(settings.database_path)) as con:
        full = con.execute(columns_sql).fetchall()
        con.execute("alter table raw.prediction_scores drop column feature_values_json")
        con.execute("alter table raw.prediction_scores drop column feature_values_hash")
    run_dbt(["run-operation", "add_missing_raw_columns"], settings)
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        after = con.execute(columns_sql).fetchall()
    assert sorted(after) == sorted(full)
    assert {"feature_values_json", "feature_values_hash"} <= {c for c, _ in after}
    run_dbt(["run-operation", "add_missing_raw_columns"], settings)
    log = (settings.warehouse_dir / "logs" / "dbt.log").read_text()
    assert "added raw columns: none" in log.split("Running with dbt")[-1]
