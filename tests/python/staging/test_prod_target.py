"""The BigQuery `prod` target cannot rot unseen: the project parses and compiles for it, offline,
and every compiled model and data test (all layers) is BigQuery SQL as far as sqlglot can tell.

How it runs offline: dbt-bigquery is installed, `profiles.yml` reads `prod` from environment
variables (faked here), and the only things that would reach Google are patched: the connection
opens with a handle that raises on any use (so a model that *queries* the warehouse while compiling
fails loudly, naming the call), and `get_relation` answers "no such table" (full-refresh SQL) or
"a table exists" (incremental SQL). Everything is compiled twice, once per branch of
`is_incremental()`.

Limits (see docs/staging.md): sqlglot is a parser, not BigQuery's analyzer. It proves the SQL is
syntactically BigQuery (e.g. `union` without DISTINCT/ALL fails) and the checks below reject known
DuckDB-only constructs (`::` casts, FILTER clauses, ILIKE, MEDIAN, functions sqlglot does not know),
but not types, function signatures or missing tables. Only a dry run on a real project proves that.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.tokens import TokenType

from python_jobs.config import PROJECT_ROOT

# functions BigQuery has that sqlglot parses as "anonymous" (unknown) calls; extend with care
BIGQUERY_FUNCTIONS_UNKNOWN_TO_SQLGLOT: frozenset[str] = frozenset()

# expression types sqlglot accepts in the bigquery dialect but BigQuery itself does not
NOT_BIGQUERY_EXPRESSIONS: dict[type[exp.Expression], str] = {
    exp.ILike: "ILIKE (BigQuery: lower(x) like ...)",
    exp.Median: "MEDIAN (BigQuery: percentile_cont(x, 0.5) over (...))",
    exp.Filter: "aggregate FILTER (where ...) (BigQuery: countif / if inside the aggregate)",
}


class _OfflineClient:
    """The BigQuery client of the fake connection: any use is an error."""

    def close(self) -> None:
        return None

    def __getattr__(self, name: str):
        raise RuntimeError(f"offline compile: the BigQuery client was used (client.{name})")


def _compile_for_prod(monkeypatch: pytest.MonkeyPatch, target_path: Path, *, incremental: bool,
                      extra_args: tuple[str, ...] = ()) -> dict:
    from dbt.adapters.bigquery.connections import BigQueryConnectionManager
    from dbt.adapters.bigquery.impl import BigQueryAdapter
    from dbt.adapters.bigquery.relation import BigQueryRelation
    from dbt.adapters.contracts.connection import ConnectionState
    from dbt.cli.main import dbtRunner

    def fake_open(cls, connection):
        connection.handle = _OfflineClient()
        connection.state = ConnectionState.OPEN
        return connection

    def fake_get_relation(self, database, schema, identifier):
        if not incremental:
            return None
        return BigQueryRelation.create(database=database, schema=schema, identifier=identifier, type="table")

    def fake_list_relations(self, schema_relation):
        return []

    monkeypatch.setattr(BigQueryConnectionManager, "open", classmethod(fake_open))
    monkeypatch.setattr(BigQueryAdapter, "get_relation", fake_get_relation)
    monkeypatch.setattr(BigQueryAdapter, "list_relations_without_caching", fake_list_relations)

    result = dbtRunner().invoke([
        "compile", "--target", "prod",
        "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT),
        "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
        "--no-populate-cache", "--quiet",
        "--select", "resource_type:model", "resource_type:test",
        "--threads", "1",
        *extra_args,
    ])
    assert result.success, f"dbt compile for prod failed: {result.exception}"
    failed = [f"{r.node.unique_id}: {r.message}" for r in result.result.results if str(r.status) != "success"]
    assert not failed, "nodes that do not compile for prod:\n" + "\n".join(failed)
    return {
        r.node.unique_id: r.node.compiled_code
        for r in result.result.results
        if getattr(r.node, "language", "sql") == "sql" and r.node.compiled_code
    }


def bigquery_problems(sql: str) -> list[str]:
    """Why ``sql`` is not BigQuery SQL (empty when sqlglot finds nothing)."""
    try:
        trees = sqlglot.parse(sql, read="bigquery", error_level=ErrorLevel.RAISE)
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        return [f"does not parse as BigQuery: {first.get('description', error)} "
                f"(line {first.get('line')}, col {first.get('col')})"]
    problems = []
    tokens = sqlglot.Dialect.get_or_raise("bigquery").tokenize(sql)
    if any(token.token_type == TokenType.DCOLON for token in tokens):
        problems.append("`::` cast (DuckDB/Postgres; BigQuery: cast(x as t))")
    for tree in trees:
        if tree is None:
            continue
        for node in tree.walk():
            if isinstance(node, exp.Anonymous) and node.name.lower() not in BIGQUERY_FUNCTIONS_UNKNOWN_TO_SQLGLOT:
                problems.append(f"function {node.name}() is unknown to the bigquery dialect")
            for kind, why in NOT_BIGQUERY_EXPRESSIONS.items():
                if isinstance(node, kind):
                    problems.append(why)
    return sorted(set(problems))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select a from t union distinct select a from u", []),
        ("select a from t union select a from u", ["does not parse"]),
        ("select x::int64 from t", ["`::` cast"]),
        ("select median(x) over () from t", ["MEDIAN"]),
        ("select epoch_us(t) from t", ["epoch_us"]),
        ("select count(*) filter (where x) from t", ["FILTER"]),
        ("select percentile_cont(x, 0.5) over (partition by y), date(t, 'America/New_York') from t", []),
    ],
)
def test_the_checker_rejects_duckdb_only_sql(sql: str, expected: list[str]) -> None:
    problems = bigquery_problems(sql)
    assert len(problems) == len(expected), problems
    for fragment, problem in zip(expected, problems, strict=True):
        assert fragment in problem


@pytest.fixture(scope="module")
def prod_env(tmp_path_factory: pytest.TempPathFactory):
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("DBT_TARGET", "prod")
    monkeypatch.setenv("NBA_PROPS_BQ_PROJECT", "nba-props-offline-check")
    monkeypatch.setenv("NBA_PROPS_BQ_DATASET", "nba_props")
    monkeypatch.setenv("NBA_PROPS_BQ_LOCATION", "US")
    monkeypatch.setenv("NBA_PROPS_BQ_METHOD", "oauth")
    yield monkeypatch, tmp_path_factory.mktemp("prod_target")
    monkeypatch.undo()


@pytest.mark.parametrize("incremental", [False, True], ids=["full_refresh", "incremental"])
def test_every_compiled_node_is_bigquery_sql(prod_env, incremental: bool) -> None:
    monkeypatch, target_path = prod_env
    compiled = _compile_for_prod(monkeypatch, target_path, incremental=incremental)
    models = [uid for uid in compiled if uid.startswith("model.")]
    # the staging layer at least: guards against a selection that silently compiles nothing
    assert {"model.nba_props.stg_nba__player_game_logs", "model.nba_props.stg_odds__player_prop_lines"} <= set(models)
    if incremental:
        # the incremental branch really was compiled: the new-rows filter reads the target
        staging_sql = compiled["model.nba_props.stg_nba__player_game_logs"]
        assert "max(already_merged.scraped_at)" in staging_sql
        assert "`nba-props-offline-check`.`staging`.`stg_nba__player_game_logs`" in staging_sql
    problems = {uid: bigquery_problems(sql) for uid, sql in sorted(compiled.items())}
    bad = {uid: p for uid, p in problems.items() if p}
    assert not bad, f"{len(bad)} of {len(compiled)} compiled nodes are not BigQuery SQL:\n" + "\n".join(
        f"  {uid}: {'; '.join(p)}" for uid, p in bad.items())
