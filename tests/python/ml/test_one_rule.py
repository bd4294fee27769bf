"""One rule, one place: the Wilson interval and the grading rules each have one source of truth,
and the consumers that use them agree with it and with an independent oracle.

- Wilson: macro ``wilson_bound`` (SQL, run in DuckDB) == ``metrics.wilson_interval`` (Python) ==
  the roots of the Wilson quadratic solved here with numpy, on a grid of (hits, n).
- Grading: ``grading.prediction_accuracy`` (dbt, DuckDB) and the backtest's ``grade`` on the same
  precise synthetic rows, both against outcomes written by hand; and the backtest's grading really
  is the SQL macro (editing the macro's push rule changes the backtest's results).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from python_jobs.dbt_runner import run_dbt
from python_jobs.ml import grading
from python_jobs.ml.backtest import grade
from python_jobs.ml.metrics import Z_95, wilson_interval
from python_jobs.warehouse.connection import connect
from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse

GRID_N = [1, 2, 3, 4, 5, 7, 10, 13, 20, 33, 50, 99, 100, 250, 1000, 4321]


def wilson_oracle(hits: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson interval as the two p with (hits/n - p)^2 = z^2 p (1 - p) / n, i.e. the roots of
    (n + z^2) p^2 - (2 hits + z^2) p + hits^2 / n = 0 (numpy's polynomial roots)."""
    roots = np.roots([n + z * z, -(2 * hits + z * z), hits * hits / n])
    low, high = sorted(float(np.real(r)) for r in roots)
    return max(0.0, low), min(1.0, high)


def grid() -> list[tuple[int, int]]:
    cells = []
    for n in GRID_N:
        hits = sorted({0, 1, n // 3, n // 2, (2 * n) // 3, n - 1, n} & set(range(n + 1)))
        cells += [(h, n) for h in hits]
    return cells


def test_wilson_sql_macro_python_and_oracle_agree_on_a_grid():
    cells = grid() + [(0, 0), (3, 0)]
    frame = pd.DataFrame(cells, columns=["hits", "n"])
    low, high = grading.wilson_sql("hits", "n", "low"), grading.wilson_sql("hits", "n", "high")
    with DuckDBWarehouse(":memory:", threads=1) as wh:
        wh.duckdb.register("cells", frame)
        sql = wh.fetch_df(f"select hits, n, {low} as low, {high} as high from cells")
    assert len(sql) == len(cells)
    for row in sql.itertuples():
        py_low, py_high = wilson_interval(int(row.hits), int(row.n))
        if row.n == 0:  # no sample: SQL null, Python NaN
            assert pd.isna(row.low) and pd.isna(row.high) and math.isnan(py_low) and math.isnan(py_high)
            continue
        o_low, o_high = wilson_oracle(int(row.hits), int(row.n), 1.96)
        assert (row.low, row.high) == (pytest.approx(o_low, abs=1e-9), pytest.approx(o_high, abs=1e-9)), row
        assert (py_low, py_high) == (pytest.approx(o_low, abs=1e-9), pytest.approx(o_high, abs=1e-9)), row
        assert (row.low, row.high) == (pytest.approx(py_low, abs=1e-12), pytest.approx(py_high, abs=1e-12)), row
    # the z of the two implementations is the same constant
    assert Z_95 == 1.96


def test_the_wilson_formula_is_written_only_in_the_macro_and_metrics():
    """No model or Python module carries its own copy of the Wilson formula."""
    from python_jobs.config import PROJECT_ROOT

    pattern = "z * z / (4"  # the Wilson term z^2 / 4n^2, in the Python and SQL spelling
    owners = {PROJECT_ROOT / "macros/grading/grading_rules.sql", PROJECT_ROOT / "python_jobs/ml/metrics.py"}
    found = set()
    for folder, glob in (("models", "*.sql"), ("macros", "*.sql"), ("python_jobs", "*.py")):
        for path in (PROJECT_ROOT / folder).rglob(glob):
            text = path.read_text().replace("{{ z }} * {{ z }}", "z * z").replace(" ", "")
            if pattern.replace(" ", "") in text:
                found.add(path)
    assert found == owners


def test_the_evidence_rule_is_written_once_and_governs_every_departure_from_the_market():
    """The t-ratio shrinkage is written only in ml/metrics.py; the implied-median shift, the market
    correction and the calibrator all take their weight from it, with the one minimum of held-out
    rows (ml_market_stack_min_rows): on data with a strong planted signal for all three, the three
    weights are positive; with the minimum out of reach all three are 0, the market system predicts
    the line and the calibrator states the no-vig probability, exactly."""
    from dataclasses import replace

    from python_jobs.config import PROJECT_ROOT
    from python_jobs.ml.metrics import MarketCalibrator
    from python_jobs.ml.params import MlParams
    from python_jobs.ml.systems import FitContext, get_system
    from tests.python.ml import synthetic as syn

    owners = {p for p in (PROJECT_ROOT / "python_jobs").rglob("*.py") if "1.0 / t2" in p.read_text()}
    assert owners == {PROJECT_ROOT / "python_jobs/ml/metrics.py"}

    rng = np.random.default_rng(3)
    n = 4000
    line = rng.uniform(5, 30, n).round() + 0.5
    novig = rng.uniform(0.4, 0.6, n)
    season = line + rng.normal(0, 3, n)
    shift = 6.0 / 1.702 * np.log(novig / (1 - novig))
    frame = pd.DataFrame({
        "player_id": np.arange(n), "game_date": [date(2025, 1, 1) + timedelta(days=i // 200) for i in range(n)],
        "consensus_line_points": line, "no_vig_over_probability": novig, "n_books": 5, "line_spread": 0.0,
        "line_movement": 0.0, "points_avg_season": season, "points_avg_last_10": line,
        "actual_points": line + shift + 0.5 * (season - line) + rng.normal(0, 6, n)})
    raw = rng.uniform(0.1, 0.9, n)
    over = (rng.uniform(size=n) < 1 / (1 + np.exp(-(np.log(novig / (1 - novig)) + np.log(raw / (1 - raw)))))
            ).astype(float)
    system = get_system("market_residual_v1")
    for min_rows, departs in ((500, True), (10**9, False)):
        params = replace(MlParams(), market_stack_min_rows=min_rows)
        model = system.fit(frame, FitContext(syn.SPEC, params))
        stack = model.hyperparameters["stack"]
        cal = MarketCalibrator.fit(raw, novig, over, frame["game_date"].to_numpy(), params.calibration_prior_rows,
                                   params.calibration_min_rows, evidence_min_rows=params.market_stack_min_rows)
        weights = [stack["shift"]["weight"], stack["weight"], cal.weight]
        if departs:
            assert min(weights) > 0.5, weights
        else:
            assert weights == [0.0, 0.0, 0.0]
            np.testing.assert_array_equal(model.predict(frame.head(100)), line[:100])
            np.testing.assert_array_equal(cal.apply(raw[:100], novig[:100]), novig[:100])


def test_the_shrinkage_and_the_minimum_are_written_once_and_every_evidence_weight_uses_them(monkeypatch):
    """The t-ratio shrinkage (max(0, 1 - 1/t^2), clip [0, 1]) and the minimum of held-out rows are each
    written once, in metrics.james_stein_weight and metrics.enough_evidence; the absolute-error weight
    (point forecasts), the least-squares weight and the logistic weight (P(over)) all go through them:
    replacing either helper changes all three, and the market system's two weights with them."""
    import ast

    from python_jobs.config import PROJECT_ROOT
    from python_jobs.ml import metrics
    from python_jobs.ml.params import MlParams
    from python_jobs.ml.systems import FitContext, get_system
    from tests.python.ml import synthetic as syn

    def owners(snippet: str) -> set[str]:
        found = set()
        for path in (PROJECT_ROOT / "python_jobs").rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef) and snippet in ast.unparse(node).replace(" ", ""):
                    found.add(f"{path.relative_to(PROJECT_ROOT)}::{node.name}")
        return found

    assert owners("1.0/t2") == {"python_jobs/ml/metrics.py::james_stein_weight"}
    assert owners("max(2,int(min_rows))") == {"python_jobs/ml/metrics.py::enough_evidence"}

    rng = np.random.default_rng(5)
    c = rng.normal(0, 1, 800)
    r = c + rng.normal(0, 1, 800)
    outcome = (rng.uniform(size=800) < 1 / (1 + np.exp(-2 * c))).astype(float)
    market = np.full(800, 0.5)

    def three() -> list[float]:
        return [metrics.absolute_stack_weight(c, r, 500)["weight"], metrics.shrunk_stack_weight(c, r, 500)["weight"],
                metrics.logistic_stack_weight(c, market, outcome, 500)["weight"]]

    assert min(three()) > 0.5  # real evidence for all three
    monkeypatch.setattr(metrics, "james_stein_weight", lambda w_hat, t: 0.123)
    assert three() == [0.123, 0.123, 0.123]
    monkeypatch.undo()
    monkeypatch.setattr(metrics, "enough_evidence", lambda n, min_rows: False)
    assert three() == [0.0, 0.0, 0.0]
    # the market system's shift and correction weights, on data with a strong planted signal, too
    n = 3000
    line = rng.uniform(5, 30, n).round() + 0.5
    novig = rng.uniform(0.4, 0.6, n)
    frame = pd.DataFrame({
        "player_id": np.arange(n), "game_date": [date(2025, 1, 1) + timedelta(days=i // 200) for i in range(n)],
        "consensus_line_points": line, "no_vig_over_probability": novig, "n_books": 5, "line_spread": 0.0,
        "line_movement": 0.0, "points_avg_season": line + rng.normal(0, 3, n), "points_avg_last_10": line,
        "actual_points": line + 10 * np.log(novig / (1 - novig)) + rng.normal(0, 2, n)})
    stack = get_system("market_residual_v1").fit(frame, FitContext(syn.SPEC, MlParams())).hyperparameters["stack"]
    assert [stack["shift"]["weight"], stack["weight"]] == [0.0, 0.0]
    monkeypatch.undo()
    stack = get_system("market_residual_v1").fit(frame, FitContext(syn.SPEC, MlParams())).hyperparameters["stack"]
    assert stack["shift"]["weight"] == 1.0  # the same data with the minimum back: evidence counts


# ---------------------------------------------------------------------------- grading
D = date(2025, 1, 15)
SCORED_AT = datetime(2025, 1, 15, 12, tzinfo=UTC)

# one row per case: (id, line, over, under, best, predicted, edge, recommendation, actual or None
# (did not play; his game has results), expected bet_result, lean_result, profit_units)
CASES = [
    (1, 20.5, -110, -110, None, 23.0, 2.5, "OVER", 25, "hit", "hit", 100 / 110),
    (2, 20.5, -110, -110, None, 18.0, -2.5, "UNDER", 22, "miss", "miss", -1.0),
    (3, 20.0, 120, -110, None, 22.0, 2.0, "OVER", 20, "push", "push", 0.0),
    (4, 20.0, -110, 150, None, 18.0, -2.0, "UNDER", 20, "push", "push", 0.0),
    (5, 15.5, -110, -110, None, 16.0, 0.5, "PASS", 12, None, "miss", None),
    (6, 15.0, -110, -110, None, 15.0, 0.0, "PASS", 15, None, "push", None),  # P(over) 0.5 leans OVER
    (7, 10.5, -110, -110, None, 13.0, 2.5, "OVER", None, "void", None, 0.0),
    (8, 30.5, -110, -150, None, 25.0, -5.5, "UNDER", 28, "hit", "hit", 100 / 150),
    (9, 9.5, -3, 3, None, 12.0, 2.5, "OVER", 15, "hit", "hit", None),  # |-3| < 100: not a price
    (10, 9.5, -110, -110, None, 12.0, 2.5, "OVER", 7, "miss", "miss", -1.0),
    (11, None, None, None, None, 14.0, None, "NO_LINE", 20, None, None, None),
    (12, 25.5, 130, -160, None, 28.0, 2.5, "OVER", 31, "hit", "hit", 1.30),
    (13, 25.5, -160, 130, None, 22.0, -3.5, "UNDER", 19, "hit", "hit", 1.30),
    (14, 12.0, -110, -110, None, 11.0, -1.0, "PASS", 12, None, "push", None),
    (15, 8.5, -110, -110, None, 6.0, -2.5, "UNDER", None, "void", None, 0.0),
    # the prediction is above the line but the calibrated P(over) is 0.44: the lean side is UNDER
    (16, 18.5, -110, -110, None, 20.0, 1.5, "PASS", 15, None, "hit", None),
]
# the calibrated P(over) of each case: the lean side is OVER when >= 0.5 (case 6: the tie), else UNDER
P_OVER = {1: 0.6, 2: 0.4, 3: 0.58, 4: 0.42, 5: 0.52, 6: 0.5, 7: 0.6, 8: 0.35, 9: 0.6, 10: 0.6, 11: None,
          12: 0.62, 13: 0.38, 14: 0.45, 15: 0.4, 16: 0.44}
COLUMNS = ["n", "line_points", "over_price", "under_price", "best_price", "predicted_points", "edge",
           "recommendation", "actual_points", "expected_bet", "expected_lean", "expected_profit"]


def cases() -> pd.DataFrame:
    df = pd.DataFrame(CASES, columns=COLUMNS)
    df["player_id"] = 1000 + df["n"]
    df["game_id"] = "G1"
    df["p_over"] = df["n"].map(P_OVER).astype("float64")
    return df


def predictions_table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "prediction_id": [f"p{n}" for n in df["n"]], "system_id": "s", "model_version": "m",
        "player_id": df["player_id"].astype("int64"), "game_date": D, "game_id": df["game_id"],
        "line_source": np.where(df["line_points"].isna(), "none", "consensus_main"),
        "line_points": df["line_points"].astype("float64"),
        "over_price": df["over_price"].astype("Int64"), "under_price": df["under_price"].astype("Int64"),
        "best_book": pd.Series(np.where(df["best_price"].notna(), "fd", None), dtype="string"),
        "best_price": pd.to_numeric(df["best_price"], errors="coerce").astype("Int64"),
        "predicted_points": df["predicted_points"], "prediction_std": 5.0,
        "edge": df["edge"].astype("float64"), "confidence": 60.0, "p_over": df["p_over"].astype("float64"),
        "recommendation": df["recommendation"],
        "scored_at": SCORED_AT,
    })


def box_scores(df: pd.DataFrame) -> pd.DataFrame:
    played = df.loc[df["actual_points"].notna()]
    return pd.DataFrame({"game_id": played["game_id"], "player_id": played["player_id"].astype("int64"),
                         "game_date": D, "points": played["actual_points"].astype("int64"), "minutes": 30.0})


def sql_grading(settings, df: pd.DataFrame) -> pd.DataFrame:
    """prediction_accuracy built by dbt on plain-table stand-ins of its two inputs."""
    with connect(settings) as con:
        for schema, table, frame in (("predictions", "player_prop_predictions", predictions_table(df)),
                                     ("staging", "stg_nba__player_game_logs", box_scores(df))):
            con.execute(f"create schema if not exists {schema}")
            con.duckdb.register("_in", frame)
            con.execute(f"create or replace table {schema}.{table} as select * from _in")
            con.duckdb.unregister("_in")
    run_dbt(["run", "--select", "prediction_accuracy"], settings)
    with connect(settings) as con:
        return con.fetch_df("select * from grading.prediction_accuracy order by player_id")


def backtest_grading(df: pd.DataFrame) -> pd.DataFrame:
    rows = predictions_table(df).drop(columns=["scored_at"])
    rows["actual_points"] = df["actual_points"].astype("float64")
    rows["did_play"] = df["actual_points"].notna()
    rows["is_upcoming"] = False
    return grade(rows).sort_values("player_id").reset_index(drop=True)


def labels(series: pd.Series) -> list[str | None]:
    return [x if isinstance(x, str) else None for x in series]


def numbers(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(x) else round(float(x), 9) for x in series]


@pytest.mark.timeout(300)
def test_sql_and_backtest_grade_the_same_rows_as_the_hand_oracle(tmp_settings):
    df = cases()
    expected_bet, expected_lean = labels(df["expected_bet"]), labels(df["expected_lean"])
    expected_profit = [None if p is None or pd.isna(p) else round(p, 9) for p in df["expected_profit"]]
    played = df["actual_points"].notna()
    expected_abs = [abs(a - p) if ok else None for a, p, ok in
                    zip(df["actual_points"], df["predicted_points"], played, strict=True)]
    expected_line_abs = [abs(a - line) if ok and not pd.isna(line) else None for a, line, ok in
                         zip(df["actual_points"], df["line_points"], played, strict=True)]
    sql = sql_grading(tmp_settings, df)
    py = backtest_grading(df)
    for name, got in (("prediction_accuracy", sql), ("backtest", py)):
        assert list(got["player_id"]) == list(df["player_id"]), name
        assert labels(got["grade_status"]) == ["graded" if p else "void" for p in played], name
        assert labels(got["bet_result"]) == expected_bet, name
        assert labels(got["lean_result"]) == expected_lean, name
        assert numbers(got["profit_units"]) == expected_profit, name
        assert numbers(got["absolute_error"]) == numbers(pd.Series(expected_abs, dtype="float64")), name
        assert numbers(got["line_absolute_error"]) == numbers(pd.Series(expected_line_abs, dtype="float64")), name
    for col in ("grade_status", "bet_result", "lean_result", "lean_side", "actual_side"):
        assert labels(sql[col]) == labels(py[col]), col
    for col in ("profit_units", "absolute_error", "signed_error", "line_absolute_error", "bet_price"):
        assert numbers(sql[col]) == numbers(py[col]), col
    assert list(sql["is_bet"]) == list(py["is_bet"].astype(bool))


def real_cases(first: str = "2025-02-19", last: str = "2025-05-02") -> pd.DataFrame:
    """Bundled real lines (median over books per player and date, as the consensus: medians make
    integer lines, so real pushes) joined by name and date to the real box scores; the prediction
    is the line moved by a fixed per-player offset (the grading does not care how it was made)."""
    from python_jobs.config import PROJECT_ROOT

    props = pd.read_csv(next((PROJECT_ROOT / "data/props").glob("*.csv.gz")))
    props = props.loc[props["file_date"].between(first, last)]
    for col in ("over_odds", "under_odds"):
        props[col] = props[col].where(np.isfinite(props[col]))
    lines = props.groupby(["file_date", "player"], as_index=False).agg(
        line_points=("line", "median"), over_price=("over_odds", "median"), under_price=("under_odds", "median"))
    box = pd.read_csv(PROJECT_ROOT / "data/boxscores/player_logs_2024-25.csv.gz",
                      usecols=["PLAYER_ID", "PLAYER_NAME", "GAME_ID", "GAME_DATE", "PTS"])
    box["player"] = box["PLAYER_NAME"].str.lower()
    df = lines.merge(box, left_on=["file_date", "player"], right_on=["GAME_DATE", "player"], how="inner",
                     validate="one_to_one")
    df = df.rename(columns={"PLAYER_ID": "player_id", "GAME_ID": "game_id", "PTS": "actual_points"})
    df["nba_id"] = df["player_id"]
    df["n"] = range(len(df))
    df["player_id"] = 10_000 + df["n"]  # one key per row
    df["best_price"] = None
    for col in ("over_price", "under_price"):
        df[col] = df[col].round()
    df["predicted_points"] = df["line_points"] + (df["nba_id"] % 8 - 3.5) * 0.8  # never 0
    df["edge"] = df["predicted_points"] - df["line_points"]
    # a calibrated P(over) that disagrees with the edge on many rows, 0.5 (the tie) on some
    df["p_over"] = 0.5 + (df["nba_id"] % 7 - 3) * 0.03
    # a bet on every row but the smallest edges (PASS), so the real pushes are graded as bets
    df["recommendation"] = np.where(df["edge"] >= 1.0, "OVER", np.where(df["edge"] <= -1.0, "UNDER", "PASS"))
    df["game_id"] = df["game_id"].astype(str)
    return df.reset_index(drop=True)


@pytest.mark.timeout(300)
def test_sql_and_backtest_agree_on_real_lines_and_box_scores(tmp_settings):
    df = real_cases()
    actual, line, rec = df["actual_points"].astype(float), df["line_points"], df["recommendation"]
    # the oracle in plain pandas
    push = actual == line
    won = ((rec == "OVER") & (actual > line)) | ((rec == "UNDER") & (actual < line))
    expected_bet = np.where(~rec.isin(["OVER", "UNDER"]), None, np.where(push, "push", np.where(won, "hit", "miss")))
    price = np.where(rec == "OVER", df["over_price"], df["under_price"]).astype(float)
    price = np.where(np.abs(price) >= 100, price, np.nan)
    payout = np.where(price > 0, price / 100, 100 / np.abs(price))
    expected_profit = np.select([expected_bet == "push", np.isnan(price), expected_bet == "miss", expected_bet == "hit"],
                                [0.0, np.nan, -1.0, payout], np.nan)
    lean = np.where(df["p_over"] >= 0.5, "OVER", "UNDER")
    lean_won = ((lean == "OVER") & (actual > line)) | ((lean == "UNDER") & (actual < line))
    expected_lean = np.where(push, "push", np.where(lean_won, "hit", "miss"))
    assert ((lean == "UNDER") & (df["edge"] > 0)).sum() > 100 and (df["p_over"] == 0.5).sum() > 100
    assert len(df) > 1000 and set(expected_bet) >= {"hit", "miss", "push", None}
    sql = sql_grading(tmp_settings, df).set_index("player_id").loc[df["player_id"]].reset_index()
    py = backtest_grading(df).set_index("player_id").loc[df["player_id"]].reset_index()
    for name, got in (("prediction_accuracy", sql), ("backtest", py)):
        assert labels(got["bet_result"]) == list(expected_bet), name
        assert labels(got["lean_side"]) == list(lean), name
        assert labels(got["lean_result"]) == list(expected_lean), name
        assert numbers(got["profit_units"]) == numbers(pd.Series(expected_profit)), name
        assert numbers(got["line_absolute_error"]) == numbers((actual - line).abs()), name
    for col in ("bet_result", "lean_result", "lean_side", "actual_side", "grade_status"):
        assert labels(sql[col]) == labels(py[col]), col
    for col in ("profit_units", "absolute_error", "line_absolute_error", "bet_price"):
        assert numbers(sql[col]) == numbers(py[col]), col


@pytest.mark.timeout(300)
def test_sql_and_backtest_price_a_bet_at_its_recorded_best_price(tmp_settings):
    """A bet is graded at the best price its prediction named (where the user was told to place it),
    in the daily grading (prediction_accuracy) and in the backtest alike; without one, at its side's
    consensus price."""
    df = cases()
    df["best_price"] = np.where(df["n"] == 1, 150.0, np.where(df["n"] == 9, -120.0, np.nan))
    sql = sql_grading(tmp_settings, df).set_index("player_id")
    py = backtest_grading(df).set_index("player_id")
    for name, got in (("prediction_accuracy", sql), ("backtest", py)):
        assert got.loc[1001, "profit_units"] == pytest.approx(1.5), name  # best +150, not the consensus -110
        assert got.loc[1001, "bet_price"] == 150, name
        assert got.loc[1009, "profit_units"] == pytest.approx(100 / 120), name  # replaces the non-price -3
        assert got.loc[1010, "profit_units"] == -1.0 and got.loc[1002, "profit_units"] == -1.0, name
        assert got.loc[1012, "bet_price"] == 130 and got.loc[1012, "profit_units"] == pytest.approx(1.3), name
    assert sql.loc[1001, "best_book"] == "fd" and pd.isna(sql.loc[1002, "best_book"])


def test_unfinished_games_stay_ungraded_in_the_backtest():
    df = cases().iloc[:3]
    rows = predictions_table(df).drop(columns=["scored_at"])
    rows["actual_points"], rows["did_play"], rows["is_upcoming"] = np.nan, pd.NA, True
    got = grade(rows)
    assert list(got["grade_status"]) == ["pending"] * 3
    assert labels(got["bet_result"]) == [None] * 3 and labels(got["lean_result"]) == [None] * 3
    assert got["profit_units"].isna().all()


def test_the_backtest_grades_with_the_sql_macro(monkeypatch):
    """Change the push rule in the macro's text only: the backtest's results follow it, so the
    backtest has no grading rule of its own."""
    from python_jobs.config import PROJECT_ROOT

    source = (PROJECT_ROOT / grading.RULES_FILE).read_text()
    assert source.count("then 'push'") == 2
    edited = source.replace("then 'push'", "then 'refund'")
    import jinja2

    module = jinja2.Environment().from_string(edited).module
    monkeypatch.setattr(grading, "rules_module", lambda home=PROJECT_ROOT: module)
    got = backtest_grading(cases()).set_index("player_id")
    assert got.loc[1003, "bet_result"] == "refund" and got.loc[1004, "lean_result"] == "refund"


# ---------------------------------------------------------------------------- calibration
def test_report_and_backtest_calibration_agree_with_a_pandas_oracle():
    """The calibration table of the report (report.stats.calibration) and of the backtest
    (backtest.calibration, and its ECE) on the same graded real rows, against pd.cut by hand."""
    from python_jobs.ml import backtest
    from python_jobs.report import stats

    df = real_cases()
    graded = backtest_grading(df)
    # a stated confidence of the lean side spread over the bins (including exactly 50 and 55)
    graded["confidence"] = 50.0 + (graded["player_id"] % 9) * 2.5 + (graded["edge"].abs() > 2) * 10
    graded["system_id"] = "s"
    graded["result"] = graded["bet_result"]
    graded["p_over"], graded["no_vig_over_probability"] = 0.5, 0.5
    edges = [0, 50, 55, 60, 65, 70, 75, 80, 90, 100.0001]
    decided = graded.loc[graded["lean_result"].isin(["hit", "miss"])]
    assert len(decided) < len(graded)  # pushes are left out
    oracle = decided.groupby(pd.cut(decided["confidence"], edges, right=False), observed=True).agg(
        n=("confidence", "size"), mean_confidence=("confidence", "mean"),
        observed=("lean_result", lambda r: (r == "hit").mean())).reset_index(drop=True)
    oracle["mean_confidence"] /= 100
    assert len(oracle) >= 4

    report = stats.calibration(graded)
    bt = pd.DataFrame(backtest.calibration(graded)["by_confidence"])
    bt = bt.loc[bt["n"] > 0].reset_index(drop=True)
    assert list(report["n"]) == list(bt["n"]) == list(oracle["n"])
    assert np.allclose(report["observed"], oracle["observed"]) and np.allclose(bt["observed_win_rate"],
                                                                               oracle["observed"], atol=1e-4)
    assert np.allclose(report["mean_confidence"], oracle["mean_confidence"])
    assert np.allclose(bt["mean_predicted_probability"], oracle["mean_confidence"], atol=1e-4)
    ece = (oracle["n"] * (oracle["observed"] - oracle["mean_confidence"]).abs()).sum() / oracle["n"].sum()
    assert backtest.probability_scores(graded)["ece"] == pytest.approx(ece, abs=1e-4)


def test_calibrator_fit_and_backtest_scores_leave_pushes_out_the_same_way():
    from python_jobs.ml.metrics import over_outcome

    actual = np.array([25.0, 20.0, 18.0, np.nan, 7.0])
    line = np.array([20.5, 20.0, 20.5, 10.5, np.nan])
    decided, over = over_outcome(actual, line)
    assert decided.tolist() == [True, False, True, False, False]
    assert over[decided].tolist() == [1.0, 0.0]


def test_the_reports_fallback_grading_agrees_with_the_sql_rules():
    """report.stats derives lean_result and the profit of a bet when its frame lacks them, through
    the one grading rule (the SQL macro, ml.grading.grade_frame): on the same synthetic and real
    rows it must agree with the backtest's grading of them (a copy of the rule in the report that
    drifts fails here)."""
    from python_jobs.report import stats

    for df in (cases(), real_cases()):
        graded = backtest_grading(df)
        frame = graded.drop(columns=["lean_result", "profit_units"]).assign(result=graded["bet_result"])
        report_lean = stats.with_lean(frame)
        assert labels(report_lean["lean_result"]) == labels(graded["lean_result"])
        assert numbers(pd.Series(stats.bet_profit(frame))) == numbers(graded["profit_units"])
