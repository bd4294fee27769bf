"""One saved dbt parse for every warehouse of a catalog (issue 13: a new warehouse paid dbt's full
parse, ~3.5 s, because the profile's connection info held the file's path).

profiles.yml attaches the file through the plugin python_jobs/warehouse/dbt_plugin.py, so the
connection info holds the catalog (the file's stem), not the path; ``run_dbt`` starts a new
warehouse from the saved parse the machine kept (cache directory ``dbt-parse/``). dbt itself still
decides what to parse again: these tests check that a new warehouse parses nothing when nothing
changed, and that an edited macro, an environment variable read while parsing, a ``--vars`` value
or another catalog is parsed again and reaches the compiled SQL, and that each warehouse gets its
own relations in its own file.

Oracles: dbt's own record of what it parsed (``perf_info.json``: ``parsed_path_count`` of
``path_count`` files), the compiled SQL, and the files' tables read with plain DuckDB; the seed's
rows counted from its CSV.
"""

from __future__ import annotations

import csv
import json
import types
from pathlib import Path

import duckdb
import pytest
from dbt_common.exceptions import DbtRuntimeError

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.dbt_runner import _manifest_cache, run_dbt
from python_jobs.warehouse.dbt_plugin import Plugin
from tests.python.conftest import project_copy

SEED = ["seed", "--select", "teams"]   # one seed: fast, no raw data needed
TEAMS = sum(1 for _ in csv.DictReader((PROJECT_ROOT / "seeds" / "teams.csv").open()))


def _settings(home: Path, warehouse_dir: Path, cache: Path, file_name: str = "nba_props.duckdb") -> Settings:
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    return Settings(home=home, warehouse_dir=warehouse_dir, duckdb_path=warehouse_dir / file_name,
                    cache_dir=cache, dbt_target="ci")


def _parsed(settings: Settings) -> tuple[int, int]:
    """(files dbt parsed, files of the project) in the last parse of this warehouse's target."""
    info = json.loads((settings.dbt_target_path / "perf_info.json").read_text())
    return info["parsed_path_count"], info["path_count"]


def _new_process() -> None:
    """Forget the manifest this process keeps, as a new process would not have it."""
    _manifest_cache.clear()


def _run_in_new_warehouse(tmp_path: Path, name: str, cache: Path, args: list[str] = SEED) -> Settings:
    """A new warehouse ``tmp_path/name`` on the machine cache ``cache``, and dbt ``args`` run on it
    as a new process would (no manifest kept in memory)."""
    settings = _settings(PROJECT_ROOT, tmp_path / name, cache)
    _new_process()
    run_dbt(args, settings)
    return settings


def _tables(settings: Settings) -> set[tuple[str, str, str]]:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return set(con.execute("select table_catalog, table_schema, table_name from information_schema.tables "
                               "where table_schema <> 'raw'").fetchall())


@pytest.mark.timeout(600)
def test_a_new_warehouse_starts_from_the_kept_parse_and_writes_only_its_own_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _run_in_new_warehouse(tmp_path, "first", cache)
    parsed, files = _parsed(first)
    assert parsed == files > 100   # nothing kept yet: the whole project
    assert len(list((cache / "dbt-parse").glob("*.msgpack"))) == 1

    second = _run_in_new_warehouse(tmp_path, "second", cache, ["seed", "--select", "team_aliases"])
    assert _parsed(second) == (0, files)   # the kept parse: no file parsed again
    # each warehouse got its own relations, in its own file
    assert _tables(first) == {("nba_props", "reference", "teams")}
    assert _tables(second) == {("nba_props", "reference", "team_aliases")}
    with duckdb.connect(str(first.database_path), read_only=True) as con:
        assert con.execute("select count(*) from reference.teams").fetchone()[0] == TEAMS
    # a command that parses by itself (``dbt parse``, ``nba-props dbt ...``) starts from it too
    third = _run_in_new_warehouse(tmp_path, "third", cache, ["parse"])
    assert _parsed(third) == (0, files)


@pytest.mark.timeout(600)
def test_warehouses_of_other_catalogs_get_their_own_parse_and_relations(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    model = ["compile", "--select", "stg_nba__player_game_logs"]
    compiled = Path("compiled", "nba_props", "models", "staging", "nba", "stg_nba__player_game_logs.sql")
    alpha = _settings(PROJECT_ROOT, tmp_path / "a", cache, "alpha.duckdb")
    beta = _settings(PROJECT_ROOT, tmp_path / "b", cache, "beta.duckdb")
    _new_process()
    run_dbt(model, alpha)
    run_dbt(model, beta)        # same process: the manifest kept for alpha is not beta's
    _new_process()
    gamma = _settings(PROJECT_ROOT, tmp_path / "c", cache, "beta.duckdb")
    run_dbt(model, gamma)       # a new process, a new file of catalog beta: beta's kept parse
    for settings, catalog, other in ((alpha, "alpha", "beta"), (beta, "beta", "alpha"), (gamma, "beta", "alpha")):
        sql = (settings.dbt_target_path / compiled).read_text()
        assert f'"{catalog}"."raw"."nba_player_game_logs"' in sql and f'"{other}"' not in sql
    files = _parsed(alpha)[1]
    assert _parsed(beta) == (files, files)   # another catalog: everything parsed again
    assert _parsed(gamma) == (0, files)
    run_dbt(SEED, gamma)
    assert _tables(gamma) == {("beta", "reference", "teams")}
    assert not alpha.database_path.exists() or _tables(alpha) == set()
    assert not beta.database_path.exists() or _tables(beta) == set()


@pytest.mark.timeout(900)
def test_edits_env_vars_and_vars_are_parsed_again_from_a_kept_parse(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = project_copy(tmp_path / "project")
    (home / "macros" / "probe_value.sql").write_text("{% macro probe_value() %}{{ return(41) }}{% endmacro %}\n")
    (home / "models" / "probe").mkdir()
    (home / "models" / "probe" / "speed_probe.sql").write_text(
        "select {{ probe_value() }} as from_macro, '{{ env_var('NBA_PROPS_TEST_PROBE', 'unset') }}' as from_env,\n"
        "    {{ var('probe_var', 0) }} as from_var\n")
    compiled = Path("compiled", "nba_props", "models", "probe", "speed_probe.sql")
    cache = tmp_path / "cache"
    select = ["compile", "--select", "speed_probe"]

    def compile_in_new_warehouse(name: str, **vars_) -> tuple[str, Settings]:
        settings = _settings(home, tmp_path / name, cache)
        _new_process()
        run_dbt(select, settings, vars=vars_ or None)
        return " ".join((settings.dbt_target_path / compiled).read_text().split()), settings

    monkeypatch.setenv("NBA_PROPS_TEST_PROBE", "one")
    sql, first = compile_in_new_warehouse("w1")
    assert "select 41 as from_macro, 'one' as from_env, 0 as from_var" in sql
    files = _parsed(first)[1]

    sql, unchanged = compile_in_new_warehouse("w2")
    assert _parsed(unchanged) == (0, files)
    assert "select 41 as from_macro, 'one' as from_env, 0 as from_var" in sql

    (home / "macros" / "probe_value.sql").write_text("{% macro probe_value() %}{{ return(42) }}{% endmacro %}\n")
    sql, edited = compile_in_new_warehouse("w3")
    assert "select 42 as from_macro, 'one' as from_env, 0 as from_var" in sql
    assert 0 < _parsed(edited)[0] < files   # a partial parse: the macro and what calls it

    monkeypatch.setenv("NBA_PROPS_TEST_PROBE", "two")
    sql, env_changed = compile_in_new_warehouse("w4")
    assert "select 42 as from_macro, 'two' as from_env, 0 as from_var" in sql
    assert 0 < _parsed(env_changed)[0] < files

    sql, with_vars = compile_in_new_warehouse("w5", probe_var=7)
    assert "select 42 as from_macro, 'two' as from_env, 7 as from_var" in sql
    assert _parsed(with_vars) == (files, files)   # other --vars: dbt parses everything again
    sql, again = compile_in_new_warehouse("w6", probe_var=7)
    assert _parsed(again) == (0, files) and "7 as from_var" in sql   # kept per --vars


@pytest.mark.timeout(600)
def test_a_damaged_kept_parse_costs_only_a_full_parse(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _run_in_new_warehouse(tmp_path, "first", cache)
    (kept,) = (cache / "dbt-parse").glob("*.msgpack")
    kept.write_bytes(b"\x93not a manifest")
    second = _run_in_new_warehouse(tmp_path, "second", cache)
    files = _parsed(first)[1]
    assert _parsed(second) == (files, files)
    assert _tables(second) == {("nba_props", "reference", "teams")}
    # the damaged entry was replaced by the new parse: the next warehouse parses nothing
    assert kept.read_bytes() == (second.dbt_target_path / "partial_parse.msgpack").read_bytes()
    third = _run_in_new_warehouse(tmp_path, "third", cache)
    assert _parsed(third) == (0, files)


def _plugin(catalog: str) -> Plugin:
    return Plugin("dbt_plugin", {"default_file": "ci.duckdb", "row_group_size": 2048},
                  credentials=types.SimpleNamespace(database=catalog))


def test_the_plugin_attaches_the_file_of_the_environment_with_the_profiles_row_group_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBA_PROPS_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("NBA_PROPS_WAREHOUSE_DIR", str(tmp_path / "wd"))
    con = duckdb.connect(":memory:")
    _plugin("ci").configure_connection(con)   # the default file of the target, in the warehouse dir
    assert con.execute("select database_name, path from duckdb_databases() where database_name = 'ci'"
                       ).fetchall() == [("ci", str(tmp_path / "wd" / "ci.duckdb"))]
    con.execute("create table ci.main.t as select range as i from range(5000)")
    con.execute("checkpoint ci")
    groups = con.execute("select distinct row_group_id from pragma_storage_info('ci.main.t')").fetchall()
    assert len(groups) >= 3   # 5,000 rows in groups of at most 2,048 (DuckDB's default: one group)
    con.close()

    monkeypatch.setenv("NBA_PROPS_DUCKDB_PATH", str(tmp_path / "elsewhere" / "named.duckdb"))
    con = duckdb.connect(":memory:")
    _plugin("named").configure_connection(con)
    assert con.execute("select path from duckdb_databases() where database_name = 'named'").fetchone() == (
        str(tmp_path / "elsewhere" / "named.duckdb"),)
    con.close()


def test_the_plugin_refuses_a_file_that_is_not_the_profiles_catalog(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "other.duckdb"
    monkeypatch.setenv("NBA_PROPS_DUCKDB_PATH", str(path))
    with pytest.raises(DbtRuntimeError) as info:
        _plugin("nba_props").configure_connection(duckdb.connect(":memory:"))
    message = info.value.msg   # dbt prints it under its "Runtime Error" heading
    assert str(path) in message and "'nba_props'" in message and "'other'" in message
    assert "\n" not in message and not path.exists()


def test_the_default_warehouse_is_in_the_project_it_belongs_to(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NBA_PROPS_DUCKDB_PATH", "NBA_PROPS_WAREHOUSE_DIR", "NBA_PROPS_HOME"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(home=tmp_path).database_path == tmp_path / "warehouse" / "nba_props.duckdb"
    assert Settings().database_path == PROJECT_ROOT / "warehouse" / "nba_props.duckdb"
