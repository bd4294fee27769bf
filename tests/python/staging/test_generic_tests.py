"""The generic tests of macros/tests fail exactly on the rows they should: each macro runs through
dbt (``dbt show --inline``, DuckDB) over precise synthetic rows, and the number of failing rows it
returns is compared with the expected count. A passing real-data build only proves they *can* pass.
"""

from __future__ import annotations

from python_jobs.dbt_runner import run_dbt


def _rows(values: str, columns: str) -> str:
    """A jinja string literal holding a subquery of synthetic rows (used as the tested `model`)."""
    return "'(select * from (values " + values + ") as v (" + columns + "))'"


def _call(macro: str, values: str, columns: str, arguments: str) -> str:
    return f"test_{macro}(model={_rows(values, columns)}, {arguments})"


TS_FRESH = "(timestamptz '2025-01-09 12:00:00+00')"
TS_STALE = "(timestamptz '2025-01-05 00:00:00+00')"
RECENCY_ARGS = (
    "field='ts', datepart='day', interval=1, "
    'reference_timestamp="cast(\'2025-01-10 00:00:00+00\' as timestamptz)"'
)

# case -> (jinja call of the test macro, expected number of failing rows)
CASES: dict[str, tuple[str, int]] = {
    "range_inclusive": (
        _call("accepted_range", "(1), (5), (null), (-1), (6)", "x", "column_name='x', min_value=0, max_value=5"), 2),
    "range_exclusive": (
        _call("accepted_range", "(0.0), (0.5), (1.0)", "x",
              "column_name='x', min_value=0, max_value=1, inclusive=false"), 2),
    "range_min_only": (_call("accepted_range", "(0), (3), (null)", "x", "column_name='x', min_value=0"), 0),
    "range_sql_bound": (
        _call("accepted_range", "(date \\'1946-10-31\\'), (date \\'2025-03-19\\')", "d",
              'column_name=\'d\', min_value="cast(\'1946-11-01\' as date)"'), 1),
    "unique_combination": (
        _call("unique_combination_of_columns", "(1, 1), (1, 2), (1, 1), (2, 1)", "a, b",
              "combination_of_columns=['a', 'b']"), 1),
    "unique_combination_nulls_are_a_value": (
        _call("unique_combination_of_columns", "(null, 1), (null, 1), (null, 2)", "a, b",
              "combination_of_columns=['a', 'b']"), 1),
    "expression_null_fails": (_call("expression_is_true", "(1), (-1), (null)", "x", "expression='x > 0'"), 2),
    "expression_allows_null_when_told": (
        _call("expression_is_true", "(1), (null)", "x", "expression='x is null or x > 0'"), 0),
    "not_null_proportion_low": (
        _call("not_null_proportion", "(1), (null), (null)", "x", "column_name='x', at_least=0.5"), 1),
    "not_null_proportion_ok": (
        _call("not_null_proportion", "(1), (null), (null)", "x", "column_name='x', at_least=0.3"), 0),
    "at_most_one_true": (
        _call("at_most_n_true_per_group", "(1, true), (1, true), (2, true), (2, false)", "g, f",
              "column_name='f', group_by_columns=['g']"), 1),
    "recency_fresh": (_call("recency", TS_FRESH.replace("'", "\\'"), "ts", RECENCY_ARGS), 0),
    "recency_stale": (_call("recency", TS_STALE.replace("'", "\\'"), "ts", RECENCY_ARGS), 1),
}


def test_generic_tests_return_exactly_the_failing_rows(tmp_settings) -> None:
    inline = "\nunion all\n".join(
        f"select '{case}' as test_case, count(*) as n_failures from ({{{{ {call} }}}}) as failures_{i}"
        for i, (case, (call, _)) in enumerate(CASES.items())
    )
    outcome = run_dbt(["show", "--inline", inline, "--limit", "-1"], tmp_settings)
    table = outcome.results[0].agate_table
    got = {row["test_case"]: int(row["n_failures"]) for row in table.rows}
    assert got == {case: expected for case, (_, expected) in CASES.items()}
