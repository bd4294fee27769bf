"""A small, precise synthetic feature store + consensus lines in a DuckDB file.

Players have a fixed scoring skill; each game's points = skill + a deterministic noise term. The
features are honest as-of rolling averages of the player's previous games (so later games never
change earlier rows), which is what the real ``ml_feature_store`` promises.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from python_jobs.ml.features import parse_feature_spec
from python_jobs.ml.params import MlParams

SPEC = parse_feature_spec([
    {"name": "points_avg_season", "dtype": "double", "default": 0, "description": "season avg"},
    {"name": "points_avg_last_10", "dtype": "double", "default": 0, "description": "last-10 avg"},
    {"name": "minutes_avg_last_10", "dtype": "double", "default": 0, "description": "minutes", "min": 0, "max": 60},
    {"name": "is_home_game", "dtype": "boolean", "default": False, "description": "home"},
])
PARAMS = MlParams(
    min_edge_points=1.0, min_confidence=55.0, coverage_slo=0.95, validation_rows=200,
    baseline_blend={"points_avg_season": 0.5, "points_avg_last_10": 0.5},
    catboost={"iterations": 60, "depth": 4},
)
START = date(2024, 11, 1)


def make_store(n_players: int = 40, n_days: int = 80, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    skills = rng.uniform(4, 30, n_players)
    rows = []
    history: dict[int, list[tuple[float, float]]] = {p: [] for p in range(n_players)}
    for d in range(n_days):
        game_date = START + timedelta(days=d)
        for p in range(n_players):
            if (p + d) % 2:  # every player plays every other day
                continue
            pid = 1000 + p
            past = history[p]
            pts_hist = [x for x, _ in past]
            min_hist = [m for _, m in past]
            minutes = float(np.clip(skills[p] * 1.2 + rng.normal(0, 3), 5, 45))
            points = float(max(0, round(skills[p] + rng.normal(0, 5))))
            rows.append({
                "feature_row_id": f"{pid}|{game_date}",
                "player_id": pid,
                "player_name": f"Player {p}",
                "game_date": game_date,
                "game_id": f"00224{d:03d}{p % 5:02d}",
                "season": "2024-25",
                "team_id": 1610612700 + p % 10,
                "is_upcoming": False,
                "did_play": True,
                "actual_points": points,
                "features_computed_at": pd.Timestamp("2025-01-01T12:00:00Z"),
                "feature_source_max_date": (game_date - timedelta(days=2)) if past else None,
                "feature_quality_score": 100.0 if len(past) >= 3 else 40.0,
                "missing_features": "" if past else "points_avg_season,points_avg_last_10,minutes_avg_last_10",
                "is_stale": False,
                "stale_reason": None,
                "points_avg_season": float(np.mean(pts_hist)) if past else 0.0,
                "points_avg_last_10": float(np.mean(pts_hist[-10:])) if past else 0.0,
                "minutes_avg_last_10": float(np.mean(min_hist[-10:])) if past else 0.0,
                "is_home_game": bool((p + d) % 4 == 0),
            })
            history[p].append((points, minutes))
    return pd.DataFrame(rows)


def make_lines(store: pd.DataFrame, dates: list[date]) -> pd.DataFrame:
    """A consensus line for 3 of 4 players on the given dates (line = season avg rounded to .5)."""
    sub = store.loc[store["game_date"].isin(dates) & (store["player_id"] % 4 != 0)].copy()
    line = np.floor(sub["points_avg_season"] * 2) / 2 + 0.5
    return pd.DataFrame({
        "player_id": sub["player_id"].to_numpy(),
        "game_date": sub["game_date"].to_numpy(),
        "game_id": sub["game_id"].to_numpy(),
        "consensus_line_points": line.to_numpy(),
        "n_books": 3,
        "bookmaker_keys": "draftkings,fanduel,pinnacle",
        "over_price": -110,
        "under_price": -110,
        "latest_captured_at": pd.Timestamp("2025-01-01T15:00:00Z"),
    })


def write_tables(con, store: pd.DataFrame, lines: pd.DataFrame) -> None:
    con.execute("create schema if not exists precompute")
    con.execute("create schema if not exists analytics")
    con.duckdb.register("_store", store)
    con.execute("create or replace table precompute.ml_feature_store as select * from _store")
    con.duckdb.unregister("_store")
    con.duckdb.register("_lines", lines)
    con.execute("create or replace table analytics.player_consensus_lines as select * from _lines")
    # the market view of the same lines: -110 both sides at every book (no-vig 0.5), one snapshot
    con.execute(
        "create or replace table precompute.player_market_lines as select player_id, game_date, "
        "consensus_line_points, n_books, 0.5 as no_vig_over_probability, 0.0 as line_spread, "
        "0.0 as line_movement, 1 as n_snapshots, 'fanduel' as best_over_book, over_price as best_over_price, "
        "'fanduel' as best_under_book, under_price as best_under_price from _lines")
    con.duckdb.unregister("_lines")


def write_box_scores(con, store: pd.DataFrame, through: date, *, drop_player_ids: tuple[int, ...] = (),
                     on: date | None = None) -> pd.DataFrame:
    """``staging.stg_nba__player_game_logs`` stand-in: the store's played rows up to ``through``,
    minus ``drop_player_ids`` on date ``on`` (players who then have a line but no box-score row)."""
    played = store.loc[store["did_play"] & (store["game_date"] <= through)]
    if drop_player_ids:
        played = played.loc[~((played["game_date"] == on) & played["player_id"].isin(drop_player_ids))]
    logs = pd.DataFrame({
        "game_id": played["game_id"].to_numpy(),
        "player_id": played["player_id"].astype("int64").to_numpy(),
        "game_date": played["game_date"].to_numpy(),
        "points": played["actual_points"].astype("int64").to_numpy(),
        "minutes": 30.0,
    })
    con.execute("create schema if not exists staging")
    con.duckdb.register("_logs", logs)
    con.execute("create or replace table staging.stg_nba__player_game_logs as select * from _logs")
    con.duckdb.unregister("_logs")
    return logs
