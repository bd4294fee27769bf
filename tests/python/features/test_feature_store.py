"""Phase 3/4 on real data: leakage, a rolling feature by hand, name resolution, incrementality."""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from python_jobs.config import PROJECT_ROOT, Settings
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.features.conftest import build_features, ingest_and_build

LEAKAGE_DATE = date(2025, 1, 15)
LABELS = ("actual_points", "actual_minutes", "features_computed_at")


def _rows(settings: Settings, where: str, exclude: tuple[str, ...] = ("features_computed_at",)) -> list[dict]:
    with duckdb.connect(str(settings.database_path)) as con:
        cur = con.execute(
            f"select * exclude ({', '.join(exclude)}) from precompute.ml_feature_store "
            f"where {where} order by feature_row_id"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _assert_same_rows(after: list[dict], before: list[dict]) -> None:
    """Exact equality, with the first differing row and columns in the message."""
    if after == before:
        return
    keys_after = {r["feature_row_id"]: r for r in after}
    keys_before = {r["feature_row_id"]: r for r in before}
    only_after = [(r["game_date"], r["player_name"], r["is_upcoming"]) for k, r in keys_after.items() if k not in keys_before]
    only_before = [(r["game_date"], r["player_name"], r["is_upcoming"]) for k, r in keys_before.items() if k not in keys_after]
    assert not only_after and not only_before, f"rows only after: {only_after[:5]} ({len(only_after)}); "\
        f"only before: {only_before[:5]} ({len(only_before)})"
    for a, b in zip(after, before, strict=True):
        diff = {k: (b[k], a[k]) for k in a if a[k] != b[k]}
        assert not diff, f"{a['feature_row_id']} ({a['player_name']}, {a['game_date']}): (before, after) {diff}"


def _query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.database_path)) as con:
        return con.execute(sql, params or []).fetchall()


def test_feature_columns_follow_the_ml_features_var(season_warehouse: Settings) -> None:
    spec = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["ml_features"]
    names = [f["name"] for f in spec]
    columns = [r[0] for r in _query(season_warehouse, "describe precompute.ml_feature_store")]
    contract = ["feature_row_id", "player_id", "player_name", "game_date", "game_id", "season", "team_id",
                "opponent_team_id", "is_home", "is_upcoming", "did_play", "actual_points", "actual_minutes",
                "features_computed_at", "feature_source_max_date", "feature_quality_score",
                "missing_features", "is_stale", "stale_reason", "days_since_last_game"]
    assert sorted(columns) == sorted(contract + names)
    documented = yaml.safe_load((PROJECT_ROOT / "models/precompute/_precompute__models.yml").read_text())
    store = next(m for m in documented["models"] if m["name"] == "ml_feature_store")
    assert {c["name"] for c in store["columns"]} == set(columns)


def test_rolling_points_by_hand(season_warehouse: Settings) -> None:
    """points_avg_last_10 / points_std_last_10 / minutes_avg_season of one real row, recomputed in
    Python from the staged box scores of the games strictly before the date."""
    player_id, game_date = 2544, date(2025, 2, 10)  # LeBron James
    games = _query(
        season_warehouse,
        "select game_date, points, minutes from staging.stg_nba__player_game_logs "
        "where player_id = ? and season = '2024-25' and game_date < ? order by game_date, game_id",
        [player_id, game_date],
    )
    assert len(games) >= 10
    last_10 = [float(g[1]) for g in games[-10:]]
    (row,) = _query(
        season_warehouse,
        "select points_avg_last_10, points_std_last_10, minutes_avg_season, games_played_season, days_rest, "
        "feature_source_max_date from precompute.ml_feature_store where player_id = ? and game_date = ?",
        [player_id, game_date],
    )
    assert row[0] == pytest.approx(sum(last_10) / 10, abs=1e-9)
    assert row[1] == pytest.approx(statistics.stdev(last_10), abs=1e-9)
    assert row[2] == pytest.approx(statistics.fmean(float(g[2]) for g in games), abs=1e-9)
    assert row[3] == len(games)
    assert row[4] == (game_date - games[-1][0]).days - 1
    assert row[5] < game_date


def test_prop_lines_resolve_for_players_who_played(season_warehouse: Settings) -> None:
    """>= 99% of the lines of games with box scores name a player who played for one of the two
    teams; the unresolved names are listed in the failure message (and in the report model)."""
    (n_played, n_failed, n_lines) = _query(season_warehouse, """
        with judged as (
            select
                case
                    when not l.is_resolved then 'unresolved'
                    when g.player_id is not null then 'played'
                    when l.resolved_team_id is not null then 'did_not_play'
                    else 'not_on_either_team'
                end as outcome
            from analytics.player_prop_lines_resolved as l
            left join analytics.player_game_summary as g
                on l.player_id = g.player_id and l.game_date = g.game_date
                and g.team_id in (l.home_team_id, l.away_team_id)
            where l.game_date <= (select max(game_date) from analytics.player_game_summary)
        )
        select count(*) filter (where outcome = 'played'),
               count(*) filter (where outcome in ('unresolved', 'not_on_either_team')), count(*)
        from judged""")[0]
    unresolved = _query(season_warehouse, "select player_name_raw, n_lines from analytics.unresolved_prop_player_names")
    assert n_lines > 30_000
    rate = n_played / (n_played + n_failed)
    assert rate >= 0.99, f"resolution rate {rate:.4f}; unresolved names: {unresolved}"
    lines_total = _query(season_warehouse, "select count(*) from analytics.player_prop_lines_resolved")[0][0]
    staged_total = _query(season_warehouse, "select count(*) from staging.stg_odds__player_prop_lines")[0][0]
    assert lines_total == staged_total  # nothing dropped
    unresolved_lines = _query(
        season_warehouse, "select count(*) from analytics.player_prop_lines_resolved where not is_resolved")[0][0]
    reported = _query(season_warehouse, "select coalesce(sum(n_lines), 0) from analytics.unresolved_prop_player_names")
    assert reported[0][0] == unresolved_lines


def test_no_leakage_when_later_games_change(season_warehouse: Settings, tmp_path: Path) -> None:
    """Change games ON D (points), delete half the games AFTER D and change the rest, rebuild from
    scratch: every row before D is identical (all columns but features_computed_at), and rows on D
    are identical except their labels."""
    before_lt = _rows(season_warehouse, f"game_date < '{LEAKAGE_DATE}'")
    before_eq = _rows(season_warehouse, f"game_date = '{LEAKAGE_DATE}'", LABELS)
    assert len(before_lt) > 10_000 and len(before_eq) > 100

    changed = copy_warehouse(season_warehouse, tmp_path / "changed")
    with duckdb.connect(str(changed.database_path)) as con:
        n_deleted = con.execute(
            "delete from staging.stg_nba__player_game_logs where game_date > ? and hash(game_id) % 2 = 0",
            [LEAKAGE_DATE]).fetchone()[0]
        n_changed = con.execute(
            "update staging.stg_nba__player_game_logs set points = points * 2 + 1, minutes = least(minutes + 7, 60), "
            "field_goals_attempted = field_goals_attempted + 5 where game_date >= ?", [LEAKAGE_DATE]).fetchone()[0]
    assert n_deleted > 1000 and n_changed > 1000
    build_features(changed, "--full-refresh")

    _assert_same_rows(_rows(changed, f"game_date < '{LEAKAGE_DATE}'"), before_lt)
    _assert_same_rows(_rows(changed, f"game_date = '{LEAKAGE_DATE}'", LABELS), before_eq)
    # the labels on D did change (the test can see a difference where there is one)
    labels_before = _query(season_warehouse, "select sum(actual_points) from precompute.ml_feature_store "
                           f"where game_date = '{LEAKAGE_DATE}'")
    labels_after = _query(changed, "select sum(actual_points) from precompute.ml_feature_store "
                          f"where game_date = '{LEAKAGE_DATE}'")
    assert labels_before != labels_after


def test_one_day_incremental_equals_full_rebuild(tmp_path: Path) -> None:
    """Land the season up to D-1, build; land the morning of D+1 (results of D, lines of D+1) and
    run incrementally: only dates from (latest played date - lookback) on are recomputed, and the
    result equals a from-scratch rebuild of the same data."""
    from python_jobs.ingest import land_day

    day = date(2025, 3, 13)
    settings = ingest_and_build(make_settings(tmp_path / "incremental"), until=day - timedelta(days=1))
    first = _query(settings, "select max(features_computed_at), count(*), max(game_date) filter (where did_play) "
                   "from precompute.ml_feature_store")[0]
    assert first[2] == day - timedelta(days=1)

    land_day(settings, day + timedelta(days=1))
    from python_jobs.dbt_runner import run_dbt

    run_dbt(["run", "--select", "tag:phase2"], settings)
    build_features(settings)

    recomputed = _query(settings, "select min(game_date), max(game_date), count(*) from precompute.ml_feature_store "
                        "where features_computed_at > ?", [first[0]])[0]
    lookback = 3  # var features_incremental_lookback_days
    assert recomputed[0] == day - timedelta(days=1 + lookback)
    assert recomputed[2] < 0.1 * first[1]
    assert _query(settings, "select max(game_date) filter (where did_play) from precompute.ml_feature_store")[0][0] == day

    # the next slate (D+1, D+2: reference date + upcoming_horizon_days) is there, without labels
    upcoming = _query(settings, "select min(game_date), max(game_date), count(*), count(did_play), "
                      "count(actual_points) from precompute.ml_feature_store where is_upcoming")[0]
    assert upcoming[:2] == (day + timedelta(days=1), day + timedelta(days=2))
    assert upcoming[2] > 300 and upcoming[3:] == (0, 0)
    teams = _query(settings, "select count(*), count(distinct game_date) from analytics.upcoming_team_game_context")
    players = _query(settings, "select count(*), count(distinct game_date) from analytics.upcoming_player_game_context")
    assert teams[0][0] > 0 and players[0][0] > 0 and teams[0][1] == players[0][1] == 2

    incremental = _rows(settings, "true")
    rebuilt = copy_warehouse(settings, tmp_path / "rebuilt")
    build_features(rebuilt, "--full-refresh")
    _assert_same_rows(_rows(rebuilt, "true"), incremental)
