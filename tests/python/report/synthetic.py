"""A small, precise synthetic warehouse holding only the relations the report reads.

Four graded days (2025-03-15 .. 2025-03-18) and the report day 2025-03-19, two systems, six
players (five with a line, one without). Every number is chosen so the tests can state the
expected figures by hand:

- on the report day each system predicts all six players -> 12 predictions, 10 with a line;
  ``catboost_v1`` says OVER for players 1-2, UNDER for 3, PASS for 4-5, NO_LINE for 6;
  ``rolling_average_v1`` says OVER for 1, PASS for 2-5, NO_LINE for 6.
- player 3's feature row is stale ("no game in 12 days").
- graded history: catboost_v1 has 6 bets (4 hits, 2 misses), rolling_average_v1 3 bets (1 hit,
  1 miss, 1 push).

``drop`` leaves relations out (to test "not available yet" sections); ``empty_day`` builds the
warehouse without any prediction for the report day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from python_jobs.warehouse.schema import ensure_raw_schema

REPORT_DATE = date(2025, 3, 19)
HISTORY_DATES = [date(2025, 3, 15), date(2025, 3, 16), date(2025, 3, 17), date(2025, 3, 18)]
NOW = datetime(2025, 3, 19, 16, 0, tzinfo=UTC)
SYSTEMS = ["catboost_v1", "rolling_average_v1"]
TEAMS = [(1610612747, "LAL"), (1610612744, "GSW"), (1610612738, "BOS"), (1610612752, "NYK")]
# player_id, name, team_id, opponent_team_id, is_home
PLAYERS = [
    (201, "Alpha Ace", 1610612747, 1610612744, True),
    (202, "Bravo Bucket", 1610612747, 1610612744, True),
    (203, "Charlie Clutch", 1610612744, 1610612747, False),
    (204, "Delta Dunk", 1610612738, 1610612752, True),
    (205, "Echo Elbow", 1610612752, 1610612738, False),
    (206, "Foxtrot Fresh", 1610612752, 1610612738, False),  # no line on the report day
]
# (system, player) -> (predicted_points, line, recommendation, confidence)
TODAY = {
    ("catboost_v1", 201): (27.5, 24.5, "OVER", 63.0),
    ("catboost_v1", 202): (19.0, 16.5, "OVER", 60.5),
    ("catboost_v1", 203): (12.0, 15.5, "UNDER", 66.0),
    ("catboost_v1", 204): (21.0, 20.5, "PASS", 51.0),
    ("catboost_v1", 205): (9.5, 10.5, "PASS", 53.0),
    ("catboost_v1", 206): (6.0, None, "NO_LINE", 50.0),
    ("rolling_average_v1", 201): (26.8, 24.5, "OVER", 58.0),
    ("rolling_average_v1", 202): (17.0, 16.5, "PASS", 51.5),
    ("rolling_average_v1", 203): (15.0, 15.5, "PASS", 52.0),
    ("rolling_average_v1", 204): (20.0, 20.5, "PASS", 51.0),
    ("rolling_average_v1", 205): (10.0, 10.5, "PASS", 51.0),
    ("rolling_average_v1", 206): (7.0, None, "NO_LINE", 50.0),
}
N_TODAY = len(TODAY)
N_TODAY_WITH_LINE = sum(1 for v in TODAY.values() if v[1] is not None)
# graded history: (date, system, player) -> (predicted, line, recommendation, confidence, actual)
HISTORY = {
    (HISTORY_DATES[0], "catboost_v1", 201): (28.0, 25.5, "OVER", 62.0, 30),      # hit
    (HISTORY_DATES[0], "catboost_v1", 203): (11.0, 14.5, "UNDER", 64.0, 10),     # hit
    (HISTORY_DATES[1], "catboost_v1", 202): (20.0, 17.5, "OVER", 61.0, 12),      # miss
    (HISTORY_DATES[1], "catboost_v1", 204): (23.0, 20.5, "OVER", 60.0, 25),      # hit
    (HISTORY_DATES[2], "catboost_v1", 205): (8.0, 10.5, "UNDER", 62.0, 14),      # miss
    (HISTORY_DATES[3], "catboost_v1", 201): (27.0, 24.5, "OVER", 61.0, 29),      # hit
    (HISTORY_DATES[3], "catboost_v1", 203): (15.0, 15.5, "PASS", 51.0, 15),      # not a bet
    (HISTORY_DATES[0], "rolling_average_v1", 201): (27.0, 25.5, "OVER", 57.0, 30),  # hit
    (HISTORY_DATES[1], "rolling_average_v1", 202): (19.5, 17.5, "OVER", 58.0, 12),  # miss
    (HISTORY_DATES[2], "rolling_average_v1", 204): (22.5, 20.0, "OVER", 56.0, 20),  # push
    (HISTORY_DATES[3], "rolling_average_v1", 205): (10.0, 10.5, "PASS", 51.0, 9),   # not a bet
}
BEST_PRICE = {"OVER": ("fanduel", -108), "UNDER": ("betmgm", 102)}
# the report day's main lines per snapshot: player 201 moved at draftkings (24.0 -> 24.5) between two
# snapshots; player 202 was captured once (no line history)
LINE_SNAPSHOTS = [
    (201, "draftkings", NOW - timedelta(hours=8), 24.0, -110, -110),
    (201, "fanduel", NOW - timedelta(hours=8), 24.5, -112, -108),
    (201, "draftkings", NOW - timedelta(hours=3), 24.5, -115, -105),
    (201, "fanduel", NOW - timedelta(hours=3), 24.5, -118, -102),
    (202, "draftkings", NOW - timedelta(hours=3), 16.5, -110, -110),
]
QUARANTINE = [("null_odds", "over price is null"), ("null_odds", "under price is null"),
              ("negative_points", "points < 0")]


def _md5(*parts: object) -> str:
    return hashlib.md5("|".join(str(p) for p in parts).encode()).hexdigest()


def _put(con: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pd.DataFrame) -> None:
    con.execute(f"create schema if not exists {schema}")
    con.register("_frame", frame)
    con.execute(f"create or replace table {schema}.{table} as select * from _frame")
    con.unregister("_frame")


def _game_id(d: date, team_id: int) -> str:
    pair = 0 if team_id in (1610612747, 1610612744) else 1
    return f"002240{d.toordinal() % 1000:03d}{pair}"


def _prediction_row(d: date, system: str, pid: int, predicted: float, line: float | None, rec: str,
                    conf: float) -> dict:
    _, _, team, _, _ = next(p for p in PLAYERS if p[0] == pid)
    return {
        "prediction_id": _md5(system, pid, d, "consensus_main" if line is not None else "none"),
        "prediction_run_id": f"run-{d}", "correlation_id": "synthetic", "system_id": system,
        "model_version": f"{system}@synthetic", "player_id": pid, "game_date": d, "game_id": _game_id(d, team),
        "line_source": "consensus_main" if line is not None else "none", "line_points": line,
        "line_bookmakers": "draftkings,fanduel" if line is not None else None,
        "over_price": -115 if line is not None else None, "under_price": -105 if line is not None else None,
        "predicted_points": predicted, "prediction_std": 5.5,
        "edge": round(predicted - line, 2) if line is not None else None, "confidence": conf,
        # the calibrated P(over) whose favoured side (the lean side) has probability conf / 100
        "p_over": None if line is None else (conf / 100 if predicted > line else round(1 - conf / 100, 4)),
        "recommendation": rec, "feature_row_id": _md5(pid, d), "feature_quality_score": 95.0,
        "features_computed_at": NOW - timedelta(hours=2), "scored_at": NOW - timedelta(hours=1),
        "merged_at": NOW - timedelta(hours=1),
        # the best price for the recommended side (bets only): BEST_PRICE
        "best_book": BEST_PRICE[rec][0] if rec in BEST_PRICE else None,
        "best_price": BEST_PRICE[rec][1] if rec in BEST_PRICE else None,
    }


def predictions_frame(empty_day: bool = False) -> pd.DataFrame:
    rows = [_prediction_row(d, s, p, *v[:4]) for (d, s, p), v in HISTORY.items()]
    if not empty_day:
        rows += [_prediction_row(REPORT_DATE, s, p, *v) for (s, p), v in TODAY.items()]
    frame = pd.DataFrame(rows)
    for c in ("line_points", "edge", "p_over"):
        frame[c] = frame[c].astype("float64")
    for c in ("over_price", "under_price", "best_price"):
        frame[c] = frame[c].astype("Int32")
    return frame


def accuracy_frame(preds: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in preds.to_dict("records"):
        key = (r["game_date"], r["system_id"], r["player_id"])
        actual = HISTORY[key][4] if key in HISTORY else None
        line, rec = r["line_points"], r["recommendation"]
        p_over = r["p_over"]
        lean = None if p_over is None or pd.isna(p_over) else ("OVER" if p_over >= 0.5 else "UNDER")

        def result(side: str | None, actual: float | None = actual, line: float | None = line) -> str | None:
            if side is None or actual is None or line is None or pd.isna(line):
                return None
            if actual == line:
                return "push"
            return "hit" if (side == "OVER") == (actual > line) else "miss"

        bet_side = rec if rec in ("OVER", "UNDER") else None
        bet_result = result(bet_side)
        price = r["over_price"] if rec == "OVER" else r["under_price"] if rec == "UNDER" else None
        profit = None
        if bet_result == "hit":
            profit = 100 / abs(price) if price < 0 else price / 100
        elif bet_result == "miss":
            profit = -1.0
        elif bet_result == "push":
            profit = 0.0
        rows.append({
            **{k: r[k] for k in ("prediction_id", "system_id", "model_version", "player_id", "game_date", "game_id",
                                 "line_source", "line_points", "over_price", "under_price", "predicted_points",
                                 "prediction_std", "edge", "confidence", "p_over", "recommendation")},
            "is_bet": bet_side is not None, "bet_price": price, "lean_side": lean,
            "grade_status": "graded" if actual is not None else "pending",
            "actual_points": actual, "actual_minutes": 30.0 if actual is not None else None,
            "absolute_error": abs(actual - r["predicted_points"]) if actual is not None else None,
            "line_absolute_error": abs(actual - line) if actual is not None and line is not None else None,
            "bet_result": bet_result, "lean_result": result(lean), "profit_units": profit,
            "scored_at": r["scored_at"],
        })
    frame = pd.DataFrame(rows)
    for c in ("actual_points", "actual_minutes", "absolute_error", "line_absolute_error", "profit_units",
              "bet_price"):
        frame[c] = frame[c].astype("float64")
    for c in ("bet_result", "lean_result", "lean_side"):
        frame[c] = frame[c].astype("string")
    return frame


def build(path: Path, *, drop: Iterable[str] = (), empty_day: bool = False) -> Path:
    """Write the synthetic warehouse to ``path`` (a DuckDB file); returns the path."""
    drop = set(drop)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("set timezone = 'UTC'")
        ensure_raw_schema(con)
        tables: dict[tuple[str, str], pd.DataFrame] = {}
        tables[("reference", "teams")] = pd.DataFrame(TEAMS, columns=["team_id", "team_tricode"])
        dates = [*HISTORY_DATES, REPORT_DATE]
        tables[("staging", "stg_nba__schedule_games")] = pd.DataFrame(
            [{"game_id": _game_id(d, t), "game_date": d, "home_team_id": t} for d in dates
             for t in (1610612747, 1610612738)])
        feats = []
        games = []
        lines = []
        for d in dates:
            for pid, name, team, opp, home in PLAYERS:
                stale = d == REPORT_DATE and pid == 203
                feats.append({"feature_row_id": _md5(pid, d), "player_id": pid, "player_name": name, "game_date": d,
                              "game_id": _game_id(d, team), "team_id": team, "opponent_team_id": opp,
                              "is_home": home, "feature_quality_score": 80.0 if stale else 95.0,
                              "is_stale": stale, "stale_reason": "no game in 12 days" if stale else None,
                              "missing_features": "usage_rate_last_10" if pid == 205 else ""})
                if d < REPORT_DATE:
                    games.append({"game_id": _game_id(d, team), "player_id": pid, "player_name": name,
                                  "game_date": d, "points": 10 + pid % 10 + d.day % 3, "minutes": 31.5,
                                  "opponent_tricode": dict(TEAMS)[opp], "is_home": home})
                line = 9.5 + pid % 10 + d.day % 2 if pid != 206 else None
                if line is not None:
                    lines.append({"player_id": pid, "game_date": d, "game_id": _game_id(d, team),
                                  "consensus_line_points": line, "n_books": 2})
        tables[("precompute", "ml_feature_store")] = pd.DataFrame(feats)
        tables[("analytics", "player_game_summary")] = pd.DataFrame(games)
        tables[("analytics", "player_consensus_lines")] = pd.DataFrame(lines)
        tables[("analytics", "player_prop_lines_resolved")] = pd.DataFrame(
            [{"prop_line_id": _md5(pid, book, at), "player_id": pid, "game_date": REPORT_DATE, "bookmaker_key": book,
              "line_points": line, "over_price": over, "under_price": under, "is_main_line": True, "captured_at": at}
             for pid, book, at, line, over, under in LINE_SNAPSHOTS])
        preds = predictions_frame(empty_day)
        tables[("predictions", "player_prop_predictions")] = preds
        acc = accuracy_frame(preds)
        tables[("grading", "prediction_accuracy")] = acc
        tables[("grading", "system_daily_performance")] = pd.DataFrame(
            [{"system_id": s, "game_date": d, "n_predictions": len(g), "n_bets": int(g["is_bet"].sum()),
              "hits": int(g["bet_result"].eq("hit").sum()), "misses": int(g["bet_result"].eq("miss").sum())}
             for (s, d), g in acc[acc["grade_status"] == "graded"].groupby(["system_id", "game_date"])])
        tables[("grading", "prediction_coverage")] = pd.DataFrame(
            [{"game_date": REPORT_DATE, "n_players_with_line": 5, "n_systems": 2, "n_players_predicted": 5,
              "n_players_rejected": 0, "coverage_pct": 1.0, "coverage_slo": 0.95, "meets_slo": True}])
        tables[("monitoring", "monitoring_duplicate_keys")] = pd.DataFrame(
            [{"checked_relation": "predictions.player_prop_predictions", "natural_key": "system_id, player_id, "
              "game_date, line_source", "is_present": True, "has_duplicates": False, "n_rows": len(preds),
              "n_duplicate_keys": 0, "n_duplicate_rows": 0, "checked_at": NOW},
             {"checked_relation": "staging.stg_nba__player_game_logs", "natural_key": "game_id, player_id",
              "is_present": True, "has_duplicates": False, "n_rows": len(games), "n_duplicate_keys": 0,
              "n_duplicate_rows": 0, "checked_at": NOW}])
        tables[("monitoring", "monitoring_data_corrections")] = pd.DataFrame(
            [{"correction_id": "c1", "game_id": "0022400901", "player_id": 1, "old_payload_id": "p-old",
              "new_payload_id": "p-new", "corrected_entity": "box_score", "corrected_field": "points", "bookmaker_key": None,
              "player_name": "Synthetic Player", "game_date": REPORT_DATE - timedelta(days=1), "old_value": 4.0,
              "new_value": 24.0, "corrected_at": NOW}])
        tables[("monitoring", "monitoring_source_arrivals")] = pd.DataFrame(
            [{"source_name": "nba_box_scores", "game_date": REPORT_DATE, "is_missing": False, "is_late": False,
              "minutes_after_expected": 5, "tier": "full", "expected_at": NOW - timedelta(hours=6),
              "arrived_at": NOW - timedelta(hours=6) + timedelta(minutes=5)},
             {"source_name": "odds_api_props", "game_date": REPORT_DATE, "is_missing": False, "is_late": True,
              "minutes_after_expected": 250, "tier": "full", "expected_at": NOW - timedelta(hours=6),
              "arrived_at": NOW - timedelta(hours=2)}])
        tables[("monitoring", "monitoring_prediction_coverage")] = pd.DataFrame(
            [{"game_date": d, "system_id": s, "n_players_with_line": 5, "n_players_predicted": 5 if d != dates[1]
              else 4, "coverage_rate": 1.0 if d != dates[1] else 0.8, "coverage_slo": 0.95,
              "meets_slo": d != dates[1]} for d in dates for s in SYSTEMS])
        tables[("monitoring", "monitoring_phase_completion")] = pd.DataFrame(
            [{"phase": f"phase{i}", "game_date": REPORT_DATE, "completion_status": "complete", "row_count": 10 * i,
              "recorded_by": "run_day", "last_step_status": "success", "recorded_at": NOW - timedelta(hours=1),
              "last_step_finished_at": NOW - timedelta(hours=1), "run_id": "run-1"} for i in range(1, 6)])
        tables[("monitoring", "monitoring_feature_staleness")] = pd.DataFrame(
            [{"game_date": REPORT_DATE, "n_feature_rows": 6, "n_stale_rows": 1, "n_rows_missing_features": 1,
              "stale_share": 1 / 6, "avg_feature_quality_score": 92.5, "is_stale_alert": False,
              "latest_features_computed_at": NOW - timedelta(hours=2)}])
        for (schema, table), frame in tables.items():
            if f"{schema}.{table}" not in drop:
                _put(con, schema, table, frame)
        _raw(con, drop)
    finally:
        con.close()
    return path


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict) -> None:
    """Insert by column name (the raw DDL may gain nullable columns without breaking this)."""
    cols = ", ".join(row)
    con.execute(f"insert into {table} ({cols}) values ({', '.join('?' for _ in row)})", list(row.values()))


def _raw(con: duckdb.DuckDBPyConnection, drop: set[str]) -> None:
    _insert(con, "raw.scrape_runs", {
        "scrape_run_id": "sr1", "correlation_id": "c1", "command": "land-day", "transport": "replay",
        "started_at": NOW - timedelta(hours=6), "finished_at": NOW - timedelta(hours=5), "status": "ok",
        "n_payloads": 3, "n_records_valid": 100, "n_records_quarantined": len(QUARANTINE)})
    for i, (src, ep) in enumerate([("stats_nba", "leaguegamelog"), ("nba_cdn", "scoreboardv2"),
                                   ("odds_api", "event_odds")]):
        _insert(con, "raw.landed_payloads", {
            "payload_id": f"p{i}", "scrape_run_id": "sr1", "correlation_id": "c1", "source": src, "endpoint": ep,
            "params_json": "{}", "scraped_at": NOW - timedelta(hours=6 - i), "sha256": f"sha{i}", "byte_size": 10,
            "body": "{}", "origin": "replay"})
    for i, (code, reason) in enumerate(QUARANTINE):
        _insert(con, "raw.quarantine", {
            "quarantine_id": f"q{i}", "payload_id": "p2", "scrape_run_id": "sr1", "source": "odds_api",
            "endpoint": "event_odds", "record_kind": "odds_player_props", "record_index": i, "reason_code": code,
            "reason": reason, "record_json": "{}", "quarantined_at": NOW - timedelta(hours=5)})
    for phase in ("phase1", "phase2", "phase5"):
        _insert(con, "raw.pipeline_execution_log", {
            "log_id": f"log-{phase}", "run_id": "run-1", "correlation_id": "c1", "flow": "daily",
            "game_date": REPORT_DATE, "phase": phase, "node": "step", "node_type": "step",
            "started_at": NOW - timedelta(hours=2), "finished_at": NOW - timedelta(hours=1), "rows_in": 1,
            "rows_out": 1, "status": "success", "logged_at": NOW - timedelta(hours=1)})
    _insert(con, "raw.alerts", {
        "alert_id": "a1", "run_id": "run-1", "correlation_id": "c1", "game_date": REPORT_DATE,
        "alert_type": "late_data", "severity": "warning", "subject": "odds_api_props",
        "message": "odds arrived 250 minutes after expected", "raised_at": NOW - timedelta(hours=2)})
    for table in ("raw.quarantine", "raw.alerts", "raw.pipeline_execution_log"):
        if table in drop:
            con.execute(f"drop table {table}")

def backtest_doc() -> dict:
    """A backtest file in the shape ``python_jobs.ml.backtest`` writes (two systems, figures by hand)."""
    def metrics(n: int, hits: int, misses: int, mae_model: float, mae_line: float, lean: tuple[int, int]) -> dict:
        rate = hits / (hits + misses) if hits + misses else None
        lean_rate = lean[0] / sum(lean) if sum(lean) else None
        return {"n_predictions": n, "n_void": 0, "n_bets": hits + misses, "hits": hits, "misses": misses,
                "pushes": 0, "hit_rate": rate, "wilson_low": 0.4 if rate else None,
                "wilson_high": 0.7 if rate else None, "roi": 0.05 if rate else None, "profit_units": 1.0,
                "mae_model": mae_model, "mae_line": mae_line, "lean_hits": lean[0], "lean_misses": lean[1],
                "lean_hit_rate": lean_rate, "lean_wilson_low": 0.45 if lean_rate else None,
                "lean_wilson_high": 0.6 if lean_rate else None}

    def system(scale: int) -> dict:
        return {
            "overall": metrics(400 * scale, 60 * scale, 50 * scale, 4.9, 5.0, (210 * scale, 190 * scale)),
            "edge_buckets": {"0-1": metrics(150, 0, 0, 4.5, 4.6, (75, 75)),
                             "1-2": metrics(120, 20, 18, 4.8, 4.9, (64, 56)),
                             "2-3": metrics(70, 25, 20, 5.1, 5.2, (38, 32)),
                             "3-5": metrics(45, 12, 9, 5.5, 5.6, (25, 20)),
                             "5+": metrics(15, 3, 3, 6.0, 6.5, (8, 7))},
            "by_side": {"OVER": metrics(60, 30, 25, 5.0, 5.1, (30, 25)),
                        "UNDER": metrics(50, 30, 25, 4.8, 4.9, (30, 25))},
            "calibration": {"by_confidence": [
                {"confidence_bucket": "50-55", "n": 200, "mean_predicted_probability": 0.525,
                 "observed_win_rate": 0.51},
                {"confidence_bucket": "55-60", "n": 120, "mean_predicted_probability": 0.57,
                 "observed_win_rate": 0.55},
                {"confidence_bucket": "70-100", "n": 0, "mean_predicted_probability": None,
                 "observed_win_rate": None}],
                "share_within_1_std": 0.66, "expected_share_within_1_std": 0.6827},
        }

    return {"generated_at": "2025-03-19T15:00:00+00:00", "start": "2025-01-01", "end": "2025-03-18",
            "retrain_every_days": 7, "break_even_hit_rate_at_minus_110": 0.5238, "n_game_dates": 70,
            "n_graded_game_dates": 70, "systems": {"catboost_v1": system(1), "rolling_average_v1": system(2)}}
