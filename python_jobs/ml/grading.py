"""Phase 6: the grading models (SQL in models/grading) and the one set of grading rules.

The rules (what is a hit, miss, push or void, the lean side (the side the calibrated P(over)
favours, also the side scoring recommends), the recorded price, the profit of a
bet and the errors against the actual and the line) are written once, as the dbt macro
``grade_predictions`` in ``macros/grading/grading_rules.sql``. The daily grading
(``grading.prediction_accuracy``) uses it inside dbt; the backtest calls ``grade_frame``, which
renders the same macro with plain Jinja and runs the SQL on its frame through an in-memory DuckDB
Warehouse, so the two cannot drift apart (tests/python/ml/test_one_rule.py).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pyarrow as pa

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.dbt_runner import DbtOutcome, run_dbt

RULES_FILE = Path("macros") / "grading" / "grading_rules.sql"
GRADED_COLUMNS = ["actual_side", "lean_side", "is_bet", "bet_price", "bet_result", "lean_result",
                  "absolute_error", "signed_error", "line_absolute_error", "profit_units"]


def grade_date(settings: Settings, game_date: date, *, correlation_id: str = "manual") -> DbtOutcome:
    """``dbt build --selector phase6`` with run_date = the graded date (checks its coverage SLO)."""
    return run_dbt(["build", "--selector", "phase6"], settings,
                   vars={"run_date": game_date.isoformat(), "correlation_id": correlation_id})


@cache
def rules_module(home: Path = PROJECT_ROOT) -> jinja2.environment.TemplateModule:
    """The macros of grading_rules.sql, rendered by plain Jinja (they use no dbt-only call)."""
    source = (home / RULES_FILE).read_text()
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(source).module


def grading_sql(relation: str) -> str:
    """A query grading every row of ``relation`` with the macro grade_predictions."""
    ctes = rules_module().grade_predictions(relation)
    return f"with {ctes}\nselect * from graded_profit"


def lean_side_sql(p_over: str) -> str:
    """The SQL expression of the lean side of ``p_over`` (macro lean_side, the one rule)."""
    return str(rules_module().lean_side(p_over)).strip()


def lean_sides(p_over: np.ndarray) -> np.ndarray:
    """The lean side (OVER / UNDER / None) of each calibrated P(over), by the macro lean_side run in
    an in-memory DuckDB: the side scoring recommends, states the confidence of and prices."""
    from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse  # compute only: never a file

    values = np.asarray(p_over, dtype="float64")
    if len(values) == 0:
        return np.array([], dtype=object)
    table = pa.table({"_row": np.arange(len(values)), "p_over": pa.array(values, from_pandas=True)})
    with DuckDBWarehouse(":memory:", threads=1) as wh:  # NaN becomes SQL null (from_pandas)
        wh.duckdb.register("probabilities", table)
        rows = wh.fetchall(f"select {lean_side_sql('p_over')} from probabilities order by _row")
    return np.array([r[0] for r in rows], dtype=object)


def wilson_sql(hits: str, n: str, bound: str) -> str:
    """The SQL expression of one Wilson bound (macro wilson_bound), for tests and tools."""
    return str(rules_module().wilson_bound(hits, n, bound)).strip()


def grade_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the columns GRADED_COLUMNS added by the SQL grading rules.

    ``frame`` needs grade_status, line_points, over_price, under_price, predicted_points, p_over,
    recommendation, actual_points; ``best_price`` (the recorded best price of a bet) is optional: a
    frame without it has none recorded (every bet at its side's consensus price). Rows keep their
    order; columns of ``frame`` named like a graded column are replaced."""
    from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse  # compute only: never a file

    needed = ["grade_status", "line_points", "over_price", "under_price", "predicted_points", "p_over",
              "recommendation", "actual_points"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"cannot grade: columns {missing} are missing")
    best = frame["best_price"] if "best_price" in frame.columns else pd.Series(np.nan, index=frame.index)
    src = pd.DataFrame({
        "_row": range(len(frame)),
        "grade_status": frame["grade_status"].astype("string").to_numpy(dtype=object, na_value=None),
        "recommendation": frame["recommendation"].astype("string").to_numpy(dtype=object, na_value=None),
        **{c: pd.to_numeric(frame[c], errors="coerce").astype("float64").to_numpy()
           for c in needed if c not in ("grade_status", "recommendation")},
        "best_price": pd.to_numeric(best, errors="coerce").astype("float64").to_numpy(),
    })
    table = pa.Table.from_pandas(src, preserve_index=False)
    with DuckDBWarehouse(":memory:", threads=1) as wh:  # Arrow nulls: NaN/None/NA become SQL null
        wh.duckdb.register("frame", table)
        out = wh.fetch_df(grading_sql("frame") + " order by _row")
    result = frame.drop(columns=[c for c in GRADED_COLUMNS if c in frame.columns]).reset_index(drop=True)
    for c in GRADED_COLUMNS:
        result[c] = out[c].to_numpy()
    result.index = frame.index
    return result
