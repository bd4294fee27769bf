"""Carry-over, availability and market features on real data (two seasons + the bundled lines).

- Leakage: change the games on/after D, delete half of the games after D, change or delete every
  prop line of the dates after D, rebuild from scratch: every ml_feature_store row (all features,
  the new ones included), every player_context_features row and every player_market_lines row of a
  date <= D is unchanged (labels of D excepted). The test first checks that the new features are
  not trivially empty on D (absent teammates, previous seasons, several books), so it can fail.
- Carry-over and the availability rule recomputed by hand in pandas from the staged box scores
  and lines (independent oracles).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from python_jobs.config import Settings
from python_jobs.ml.features import load_feature_spec
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.features.conftest import build_features

D = date(2025, 3, 12)
SEASONS = ["2023-24", "2024-25"]
LABELS = ("actual_points", "actual_minutes", "features_computed_at")
NEW_FEATURES = [f.name for f in load_feature_spec().features if f.source_model == "player_context_features"]


@pytest.fixture(scope="module")
def two_seasons(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history

    settings = make_settings(tmp_path_factory.mktemp("two_seasons"))
    ingest_history(settings, seasons=SEASONS)
    run_dbt(["build", "--selector", "phase2", "--exclude-resource-type", "test"], settings)
    build_features(settings)
    return settings


def frame(settings: Settings, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return con.execute(sql, params or []).df()


def test_new_features_are_in_the_store_and_not_trivial_on_d(two_seasons: Settings) -> None:
    assert len(NEW_FEATURES) >= 10
    day = frame(two_seasons, f"select {', '.join(NEW_FEATURES)} from precompute.ml_feature_store where game_date = ?",
                [D])
    assert len(day) > 100
    assert (day["teammates_absent"] > 0).sum() > 20  # someone is missing from D's line board
    assert (day["prev_season_games"] > 0).mean() > 0.6  # most players have a previous season
    market = frame(two_seasons, "select * from precompute.player_market_lines where game_date = ?", [D])
    assert len(market) > 50 and (market["n_books"] > 1).mean() > 0.5 and market["best_over_book"].notna().any()


def test_no_leakage_of_later_games_or_lines_into_any_new_feature(two_seasons: Settings, tmp_path: Path) -> None:
    queries = {
        "store": "select * exclude (features_computed_at) from precompute.ml_feature_store where game_date < ?",
        "store_d": "select * exclude (actual_points, actual_minutes, features_computed_at) "
                   "from precompute.ml_feature_store where game_date = ?",
        "context": "select * from precompute.player_context_features where game_date <= ?",
        "market": "select * from precompute.player_market_lines where game_date <= ?",
    }
    keys = {"store": ["player_id", "game_date"], "store_d": ["player_id", "game_date"],
            "context": ["player_id", "game_date"], "market": ["player_id", "game_date"]}
    before = {name: frame(two_seasons, sql, [D]).sort_values(keys[name]).reset_index(drop=True)
              for name, sql in queries.items()}
    after_d_before = frame(two_seasons, "select player_id, game_date, teammates_absent, vacated_minutes "
                           "from precompute.player_context_features where game_date > ? order by 1, 2", [D])

    changed = copy_warehouse(two_seasons, tmp_path / "changed")
    with duckdb.connect(str(changed.database_path)) as con:
        deleted = con.execute("delete from staging.stg_nba__player_game_logs "
                              "where game_date > ? and hash(game_id) % 2 = 0", [D]).fetchone()[0]
        updated = con.execute("update staging.stg_nba__player_game_logs set points = points * 2 + 1, "
                              "minutes = least(minutes + 7, 60) where game_date >= ?", [D]).fetchone()[0]
        lines_deleted = con.execute("delete from staging.stg_odds__player_prop_lines "
                                    "where game_date > ? and hash(prop_line_id) % 3 = 0", [D]).fetchone()[0]
        lines_moved = con.execute("update staging.stg_odds__player_prop_lines set line_points = line_points + 3, "
                                  "over_price = -150 where game_date > ?", [D]).fetchone()[0]
    assert deleted > 500 and updated > 1000 and lines_deleted > 100 and lines_moved > 100
    build_features(changed, "--full-refresh")

    for name, sql in queries.items():
        after = frame(changed, sql, [D]).sort_values(keys[name]).reset_index(drop=True)
        pd.testing.assert_frame_equal(after, before[name], check_exact=True, obj=name)
    # the change is visible after D (the test can see a difference where there is one)
    after_d = frame(changed, "select player_id, game_date, teammates_absent, vacated_minutes "
                    "from precompute.player_context_features where game_date > ? order by 1, 2", [D])
    assert not after_d.equals(after_d_before)


def test_carry_over_blend_by_hand(two_seasons: Settings) -> None:
    """For players of 2024-25 who also played 2023-24 for the same team: prior = previous season
    ppg shrunk toward the league average of his previous role by k games; blended = (g * season avg
    + k * prior) / (g + k). Recomputed in pandas from the staged box scores."""
    from python_jobs.ml.features import load_project_vars

    k = float(load_project_vars()["ml_carryover_prior_games"])
    logs = frame(two_seasons, "select player_id, team_id, game_id, game_date, season, points, minutes, "
                 "minutes_rank_in_team from analytics.player_game_summary")
    prev = logs[logs["season"] == "2023-24"].sort_values(["game_date", "game_id"])
    totals = prev.groupby("player_id").agg(games=("points", "size"), ppg=("points", "mean"),
                                           rank=("minutes_rank_in_team", "mean"), last_team=("team_id", "last"))
    totals["role"] = pd.cut(totals["rank"], [-1, 2.5, 5.5, 1e9], labels=["lead", "starter", "bench"])
    role_avg = totals.groupby("role", observed=True)["ppg"].mean()

    day = frame(two_seasons, "select player_id, team_id, games_played_season, points_avg_season, points_avg_blended, "
                "prev_season_games from precompute.ml_feature_store where game_date = ? and season = '2024-25'", [D])
    day = day.merge(totals, left_on="player_id", right_index=True)
    day = day[(day["team_id"] == day["last_team"]) & (day["games_played_season"] > 0)]
    assert len(day) > 50
    prior = (day["games"] * day["ppg"] + k * day["role"].map(role_avg).astype(float)) / (day["games"] + k)
    g = day["games_played_season"]
    expected = (g * day["points_avg_season"] + k * prior) / (g + k)
    assert (day["prev_season_games"] == day["games"]).all()
    assert day["points_avg_blended"].to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-6)


def test_absent_regulars_by_hand(two_seasons: Settings) -> None:
    """A regular of team T on D: a line for T on >= 2 of T's 4 line boards before D, at his latest
    of those dates >= 5 games and >= 15 minutes over his last 5, a game within 10 days before D.
    He is absent when T has a board on D and he has no line on it; teammates_absent of a present
    player of T = the number of them. Recomputed in pandas."""
    from python_jobs.ml.features import load_project_vars

    v = load_project_vars()
    day = pd.Timestamp(D)
    lines = frame(two_seasons, "select distinct player_id, resolved_team_id as team_id, game_date "
                  "from analytics.player_prop_lines_resolved where is_resolved and resolved_team_id is not null "
                  "and game_date <= ?", [D])
    cache = frame(two_seasons, "select player_id, game_date, games_played_season, minutes_avg_last_5 "
                  "from precompute.player_daily_cache where game_date <= ?", [D]).set_index(["player_id", "game_date"])
    games = frame(two_seasons, "select player_id, max(game_date) as last_game from analytics.player_game_summary "
                  "where game_date < ? group by player_id", [D]).set_index("player_id")["last_game"]
    today = lines[lines["game_date"] == day]
    absent: dict[int, int] = {}
    for team_id in sorted(set(today["team_id"])):
        boards = sorted(set(lines.loc[(lines["team_id"] == team_id) & (lines["game_date"] < day), "game_date"]))[-4:]
        earlier = lines[(lines["team_id"] == team_id) & lines["game_date"].isin(boards)]
        for player_id, grp in earlier.groupby("player_id"):
            if len(grp) < 2 or player_id in set(today["player_id"]):
                continue
            state = cache.loc[(player_id, grp["game_date"].max())]
            recent = player_id in games.index and (day - pd.Timestamp(games[player_id])).days <= \
                v["ml_availability_max_days_since_game"]
            if (state["games_played_season"] >= v["ml_availability_min_games"]
                    and state["minutes_avg_last_5"] >= v["ml_availability_min_minutes"] and recent):
                absent[team_id] = absent.get(team_id, 0) + 1
    assert sum(absent.values()) > 5
    got = frame(two_seasons, "select player_id, team_id, teammates_absent, is_expected_absent "
                "from precompute.player_context_features where game_date = ?", [D])
    present = got[got["is_expected_absent"] == 0]
    expected = present["team_id"].map(absent).fillna(0).astype(int)
    assert (present["teammates_absent"].to_numpy() == expected.to_numpy()).all()


def test_best_price_per_side_by_hand(two_seasons: Settings) -> None:
    """player_market_lines' best over/under book and price (one CTE per side from one template)
    recomputed in pandas: each book's latest main line; among the books whose latest line is the
    consensus line, the price with the lowest implied probability of that side (ties: book name)."""
    lines = frame(two_seasons, "select player_id, game_date, bookmaker_key, line_points, over_price, under_price, "
                  "captured_at from analytics.player_prop_lines_resolved where is_resolved and is_main_line")
    consensus = frame(two_seasons, "select player_id, game_date, consensus_line_points "
                      "from analytics.player_consensus_lines")
    market = frame(two_seasons, "select player_id, game_date, best_over_book, best_over_price, best_under_book, "
                   "best_under_price from precompute.player_market_lines").set_index(["player_id", "game_date"])
    latest = (lines.sort_values(["captured_at", "line_points"], ascending=[False, True])
              .drop_duplicates(["player_id", "game_date", "bookmaker_key"]))
    at = latest.merge(consensus, on=["player_id", "game_date"])
    at = at.loc[at["line_points"] == at["consensus_line_points"]]

    def implied(price: pd.Series) -> pd.Series:
        p = price.astype("float64")
        return p.where(p.abs() >= 100).pipe(lambda q: (-q / (-q + 100)).where(q < 0, 100 / (q + 100)))

    checked = 0
    for side in ("over", "under"):
        rows = at.assign(prob=implied(at[f"{side}_price"])).dropna(subset=["prob"])
        best = (rows.sort_values(["prob", "bookmaker_key"]).drop_duplicates(["player_id", "game_date"])
                .set_index(["player_id", "game_date"]))
        got = market.loc[best.index]
        assert (got[f"best_{side}_book"] == best["bookmaker_key"]).all(), side
        assert (got[f"best_{side}_price"].astype("float64") == best[f"{side}_price"].astype("float64")).all(), side
        # no best price where no book at the consensus line prices the side
        assert market.loc[~market.index.isin(best.index), f"best_{side}_book"].isna().all(), side
        checked += len(best)
    assert checked > 1000
