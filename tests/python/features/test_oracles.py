"""Independent oracles for every Phase 3/4 feature and the consensus line (issue #11, point 10).

Each expected value is recomputed here in plain pandas from the STAGED rows (box scores, schedule,
teams seed, resolved prop lines), never from the models under test, for real rows of the 2024-25
season chosen to cover: the season's opening night (no history: every rolling feature defaults,
the opponent has no games yet), players' first games of the season, back-to-backs, rows flagged
stale (and rows one day short of the limit), roster rows of players who did not play, and a
seeded random sample. The formulas are the documented definitions (docs/features.md), written
from scratch; a planted bug in the SQL (consensus = max, is_back_to_back always 0, staleness
limit moved) makes these tests fail.
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from python_jobs.config import PROJECT_ROOT, Settings

SEASON = "2024-25"
REL = 1e-9


def _df(settings: Settings, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return con.execute(sql, params or []).df()


def _project_vars() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]


# ---- oracle inputs: staged rows only -----------------------------------------------------------

@pytest.fixture(scope="module")
def logs(season_warehouse: Settings) -> pd.DataFrame:
    df = _df(season_warehouse, "select game_id, game_date, player_id, team_id, opponent_team_id, minutes, points, "
             "field_goals_attempted as fga, three_pointers_attempted as fg3a, free_throws_attempted as fta, "
             "offensive_rebounds as oreb, turnovers as tov, is_home from staging.stg_nba__player_game_logs "
             "where season = ?", [SEASON])
    df["game_date"] = pd.to_datetime(df["game_date"]).dt.date
    df["poss_used"] = df["fga"] + 0.44 * df["fta"] + df["tov"]
    # minutes rank in the team's game: most minutes first, then points, then player id
    df = df.sort_values(["game_id", "team_id", "minutes", "points", "player_id"],
                        ascending=[True, True, False, False, True])
    df["minutes_rank"] = df.groupby(["game_id", "team_id"]).cumcount() + 1
    team = df.groupby(["game_id", "team_id"]).agg(team_minutes=("minutes", "sum"),
                                                  team_poss_used=("poss_used", "sum"))
    return df.join(team, on=["game_id", "team_id"]).sort_values(["player_id", "game_date", "game_id"])


@pytest.fixture(scope="module")
def team_games(season_warehouse: Settings, logs: pd.DataFrame) -> pd.DataFrame:
    """One row per team and game (scheduled regular season and later; preseason/All-Star out), with
    the box-score team totals when played."""
    sched = _df(season_warehouse, "select game_id, game_date, home_team_id, away_team_id, season_type "
                "from staging.stg_nba__schedule_games where season = ? and home_team_id is not null "
                "and away_team_id is not null and season_type not in ('preseason', 'all_star')", [SEASON])
    sched["game_date"] = pd.to_datetime(sched["game_date"]).dt.date
    home = sched.assign(team_id=sched.home_team_id, opponent_team_id=sched.away_team_id, arena=sched.home_team_id)
    away = sched.assign(team_id=sched.away_team_id, opponent_team_id=sched.home_team_id, arena=sched.home_team_id)
    tg = pd.concat([home, away])[["game_id", "game_date", "team_id", "opponent_team_id", "arena"]]
    # games with box scores but missing from the schedule (the NBA Cup knockout games): from the logs
    extra = logs[~logs.game_id.isin(sched.game_id)].drop_duplicates(["game_id", "team_id"])
    extra = extra.assign(arena=np.where(extra.is_home, extra.team_id, extra.opponent_team_id))
    tg = pd.concat([tg, extra[["game_id", "game_date", "team_id", "opponent_team_id", "arena"]]])
    totals = logs.groupby(["game_id", "team_id"]).agg(
        pts=("points", "sum"), fga=("fga", "sum"), fg3a=("fg3a", "sum"), fta=("fta", "sum"),
        oreb=("oreb", "sum"), tov=("tov", "sum"), minutes=("minutes", "sum")).reset_index()
    totals["poss"] = totals.fga + 0.44 * totals.fta - totals.oreb + totals.tov
    opp = totals.rename(columns={c: "opp_" + c for c in totals.columns if c != "game_id"})
    both = totals.merge(opp, on="game_id")
    both = both[both.team_id != both.opp_team_id]
    tg = tg.merge(both, on=["game_id", "team_id"], how="left")
    return tg.sort_values(["team_id", "game_date", "game_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def store(season_warehouse: Settings) -> pd.DataFrame:
    df = _df(season_warehouse, "select * from precompute.ml_feature_store")
    df["game_date"] = pd.to_datetime(df["game_date"]).dt.date
    return df.set_index(["player_id", "game_date"]).sort_index()


# the features this oracle recomputes; the carry-over and availability features of
# player_context_features have their own pandas oracles (tests/python/features/test_context_features.py)
ORACLE_SOURCES = {"player_daily_cache", "player_composite_factors", "team_game_context"}


@pytest.fixture(scope="module")
def spec() -> list[dict]:
    spec = [f for f in _project_vars()["ml_features"] if f["source_model"] in ORACLE_SOURCES]
    assert len(spec) >= 32  # every feature of the three sources, none silently dropped
    return spec


# ---- the oracle --------------------------------------------------------------------------------

def _mean(s: pd.Series) -> float | None:
    return float(s.mean()) if len(s) else None


def _std(s: pd.Series) -> float | None:
    return float(s.std(ddof=1)) if len(s) > 1 else None


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def player_form(logs: pd.DataFrame, player_id: int, day: date) -> dict:
    """Rolling box-score features of one player from his games of the season strictly before day."""
    prior = logs[(logs.player_id == player_id) & (logs.game_date < day)]
    l3, l5, l10 = prior.tail(3), prior.tail(5), prior.tail(10)
    out: dict = {
        "points_avg_last_5": _mean(l5.points), "points_avg_last_10": _mean(l10.points),
        "points_avg_season": _mean(prior.points), "points_std_last_10": _std(l10.points),
        "points_std_season": _std(prior.points), "minutes_avg_last_5": _mean(l5.minutes),
        "minutes_avg_last_10": _mean(l10.minutes), "minutes_avg_season": _mean(prior.minutes),
        "minutes_std_last_10": _std(l10.minutes), "fga_avg_last_5": _mean(l5.fga),
        "fga_avg_last_10": _mean(l10.fga),
        "usage_rate_last_10": _ratio(100 * (l10.poss_used * l10.team_minutes).sum(),
                                     5 * (l10.minutes * l10.team_poss_used).sum()) if len(l10) else None,
        "usage_rate_season": _ratio(100 * (prior.poss_used * prior.team_minutes).sum(),
                                    5 * (prior.minutes * prior.team_poss_used).sum()) if len(prior) else None,
        "points_per_minute_last_10": _ratio(l10.points.sum(), l10.minutes.sum()) if len(l10) else None,
        "fg3a_rate_last_10": _ratio(l10.fg3a.sum(), l10.fga.sum()) if len(l10) else None,
        "fta_rate_last_10": _ratio(l10.fta.sum(), l10.fga.sum()) if len(l10) else None,
        "games_played_season": len(prior),
        "minutes_trend": (_mean(l3.minutes) - _mean(l10.minutes)) if len(prior) else None,
    }
    if len(prior):
        last = prior.game_date.iloc[-1]
        gap = (day - last).days
        out.update(days_rest=gap - 1, is_back_to_back=int(gap == 1),
                   games_last_7_days=int(sum((day - d).days <= 7 for d in prior.game_date)),
                   days_since_last_game=gap)
        ranks = l10.minutes_rank.mean()
        out["role"] = "lead" if ranks <= 2.5 else "starter" if ranks <= 5.5 else "bench"
    else:
        # no game before the date: not a back-to-back, no game in the last 7 days (0, not missing)
        out.update(days_rest=None, is_back_to_back=0, games_last_7_days=0, days_since_last_game=None, role=None)
    return out


def team_form(team_games: pd.DataFrame, logs: pd.DataFrame, team_id: int, day: date) -> dict:
    """A team's defence and pace over its last 10 scheduled games of the season before day."""
    games = team_games[(team_games.team_id == team_id) & (team_games.game_date < day)]
    last10 = games.tail(10)
    played = last10.dropna(subset=["pts"])
    out = {"last_played": played.game_date.max() if len(games.dropna(subset=["pts"])) else None}
    out["last_played"] = games.dropna(subset=["pts"]).game_date.max() if len(games.dropna(subset=["pts"])) else None
    if not len(played):
        return out | {k: None for k in ("drtg", "pace", "pts_allowed", "lead", "starter", "bench")}
    out["pts_allowed"] = float(played.opp_pts.mean())
    out["drtg"] = 100 * played.opp_pts.sum() / played.opp_poss.sum()
    out["pace"] = 48 * ((played.poss + played.opp_poss) / 2).sum() / (played.minutes / 5).sum()
    against = logs[logs.game_id.isin(played.game_id) & (logs.opponent_team_id == team_id)]
    for role, (lo, hi) in {"lead": (1, 2), "starter": (3, 5), "bench": (6, 99)}.items():
        pts = against[against.minutes_rank.between(lo, hi)].groupby("game_id").points.sum()
        out[role] = float(pts.reindex(played.game_id, fill_value=0).mean())
    return out


def league_to_date(team_games: pd.DataFrame, day: date) -> dict:
    played = team_games[(team_games.game_date < day)].dropna(subset=["pts"])
    return {"drtg": 100 * played.opp_pts.sum() / played.opp_poss.sum(),
            "pace": 48 * ((played.poss + played.opp_poss) / 2).sum() / (played.minutes / 5).sum()}


def expected_row(logs, team_games, teams, spec, player_id, day, team_id, opponent_id, game_id) -> dict:
    """Every feature of the store for one (player, date), defaults applied, plus the stale flags."""
    form = player_form(logs, player_id, day)
    own, opp = team_form(team_games, logs, team_id, day), team_form(team_games, logs, opponent_id, day)
    league = league_to_date(team_games, day)
    tg = team_games[team_games.team_id == team_id].reset_index(drop=True)
    (pos,) = tg.index[tg.game_id == game_id]
    this = tg.loc[pos]
    previous = tg.loc[pos - 1] if pos > 0 else None
    offset = dict(zip(teams.team_id, teams.arena_utc_offset_standard_hours, strict=True))
    tz = float(offset[this.arena] - offset[previous.arena]) if previous is not None else 0.0
    raw = dict(form)
    raw["is_home_game"] = int(this.arena == team_id)
    raw["team_days_rest"] = (day - previous.game_date).days - 1 if previous is not None else None
    raw["timezone_change_hours"] = tz
    raw["opponent_defensive_rating_last_10"] = opp["drtg"]
    raw["opponent_pace_last_10"] = opp["pace"]
    raw["opponent_points_allowed_last_10"] = opp["pts_allowed"]
    raw["opponent_points_allowed_to_role_last_10"] = opp[form["role"]] if form["role"] else None
    raw["team_pace_last_10"] = own["pace"]
    raw["fatigue_score"] = (min(35 * (form["is_back_to_back"] or 0), 35)
                            + min(15 * max((form["games_last_7_days"] or 0) - 2, 0), 30)
                            + min(5 * abs(tz), 15)
                            + min(2 * max((form["minutes_avg_last_5"] or 0) - 30, 0), 20))
    if None in (own["pace"], opp["pace"], opp["drtg"]):
        raw["matchup_factor"] = None
    else:
        raw["matchup_factor"] = ((own["pace"] + opp["pace"]) / 2 / league["pace"]) * (opp["drtg"] / league["drtg"])
    raw["expected_points_matchup_adjusted"] = (
        None if raw["matchup_factor"] is None or form["points_avg_last_10"] is None
        else form["points_avg_last_10"] * raw["matchup_factor"])
    out = {f["name"]: (f["default"] if raw[f["name"]] is None else raw[f["name"]]) for f in spec}
    out["missing_features"] = sorted(f["name"] for f in spec if raw[f["name"]] is None)
    v = _project_vars()
    reasons = []
    if form["days_since_last_game"] is not None and form["days_since_last_game"] > v["staleness_max_days_since_last_game"]:
        reasons.append(f"player_last_game_over_{v['staleness_max_days_since_last_game']}_days")
    if opp["last_played"] is not None and (day - opp["last_played"]).days > v["staleness_max_days_since_opponent_game"]:
        reasons.append(f"opponent_last_game_over_{v['staleness_max_days_since_opponent_game']}_days")
    out["stale_reason"] = ",".join(reasons) or None
    out["days_since_last_game"] = form["days_since_last_game"]
    return out


# ---- the rows checked ----------------------------------------------------------------------------

def _pick_rows(store: pd.DataFrame, logs: pd.DataFrame) -> dict[str, list[tuple[int, date]]]:
    played = store[store.did_play.fillna(False).astype(bool)].reset_index()
    season_rows = played[played.game_date <= logs.game_date.max()]
    opening = logs.game_date.min()
    prev = logs.assign(previous=logs.groupby("player_id").game_date.shift())
    b2b = prev[(prev.game_date - prev.previous).apply(lambda d: getattr(d, "days", None)) == 1]
    firsts = prev[prev.previous.isna() & (prev.game_date > opening)]
    gaps = prev.assign(gap=(prev.game_date - prev.previous).apply(lambda d: getattr(d, "days", np.nan)))
    rng = np.random.default_rng(11)
    pick = lambda df, n: [(int(r.player_id), r.game_date) for r in df.iloc[rng.choice(len(df), n, replace=False)].itertuples()]  # noqa: E731
    not_played = store[(store.did_play == False) & (store.index.get_level_values(1) <= logs.game_date.max())].reset_index()  # noqa: E712
    return {
        "opening_night": pick(season_rows[season_rows.game_date == opening], 4),
        "first_game_mid_season": pick(firsts, 4),
        "back_to_back": pick(b2b, 6),
        "stale_player": pick(gaps[gaps.gap > 14], 4),
        "one_day_short_of_stale": pick(gaps[gaps.gap == 14], 2),
        "roster_row_did_not_play": pick(not_played, 4),
        "random": pick(season_rows, 16),
    }


def _close(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or (isinstance(b, float) and math.isnan(b)))
    return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=1e-9)


def test_every_feature_matches_an_independent_oracle(store, logs, team_games, spec, season_warehouse) -> None:
    teams = _df(season_warehouse, "select team_id, arena_utc_offset_standard_hours from reference.teams")
    picks = _pick_rows(store, logs)
    failures: list[str] = []
    checked = 0
    for case, rows in picks.items():
        for player_id, day in rows:
            got = store.loc[(player_id, day)]
            want = expected_row(logs, team_games, teams, spec, player_id, day, int(got.team_id),
                                int(got.opponent_team_id), got.game_id)
            for name, value in want.items():
                actual = got[name]
                if name == "missing_features":
                    actual = sorted(actual.split(",")) if isinstance(actual, str) and actual else []
                    covered = {f["name"] for f in spec}
                    actual = [a for a in actual if a in covered]
                    ok = actual == value
                    if not ok:
                        value, actual = sorted(set(value) - set(actual)), sorted(set(actual) - set(value))
                elif name == "stale_reason":
                    ok = (actual if isinstance(actual, str) else None) == value
                else:
                    ok = _close(value, None if pd.isna(actual) else actual)
                if not ok:
                    failures.append(f"{case} player {player_id} {day} {name}: expected {value!r}, got {actual!r}")
            checked += 1
    assert checked >= 40
    assert not failures, f"{len(failures)} mismatches, first: " + "; ".join(failures[:8])


def test_edge_cases_are_present_in_the_sample(store, logs) -> None:
    """The picked rows really exercise the edges the oracle claims to cover."""
    picks = _pick_rows(store, logs)
    b2b = [store.loc[k, "is_back_to_back"] for k in picks["back_to_back"]]
    assert b2b == [1] * len(b2b)
    opening = [store.loc[k] for k in picks["opening_night"]]
    assert all(r.games_played_season == 0 and "points_avg_last_10" in r.missing_features for r in opening)
    assert all("opponent_defensive_rating_last_10" in r.missing_features for r in opening)
    assert all(store.loc[k, "is_stale"] for k in picks["stale_player"])
    assert not any(store.loc[k, "is_stale"] and "player_last" in (store.loc[k, "stale_reason"] or "")
                   for k in picks["one_day_short_of_stale"])


def test_back_to_back_and_staleness_counts_over_the_whole_season(store, logs) -> None:
    """Whole-table oracle: every played row's back-to-back flag and player-staleness flag, recomputed
    from the previous staged game of the same player (a constant or shifted flag cannot pass)."""
    prev = logs.assign(previous=logs.groupby("player_id").game_date.shift())
    gap = (pd.to_datetime(prev.game_date) - pd.to_datetime(prev.previous)).dt.days
    limit = _project_vars()["staleness_max_days_since_last_game"]
    expected = pd.DataFrame({"player_id": prev.player_id, "game_date": prev.game_date,
                             "b2b": (gap == 1).astype(int), "stale": gap > limit}).set_index(["player_id", "game_date"])
    got = store.loc[expected.index]
    assert int(expected.b2b.sum()) > 1000
    assert (got.is_back_to_back.to_numpy() == expected.b2b.to_numpy()).all()
    player_stale = got.stale_reason.fillna("").str.contains("player_last_game").to_numpy()
    assert int(expected.stale.sum()) > 100
    assert (player_stale == expected.stale.to_numpy()).all()


def test_consensus_line_is_the_median_of_each_books_latest_main_line(season_warehouse: Settings) -> None:
    """Every consensus line recomputed from the resolved lines: per book its main line of the latest
    snapshot (lowest line on a tie), then the median across books (mean of the middle two)."""
    lines = _df(season_warehouse, "select player_id, game_date, bookmaker_key, line_points, captured_at "
                "from analytics.player_prop_lines_resolved where is_resolved and is_main_line")
    latest = (lines.sort_values(["captured_at", "line_points"], ascending=[False, True])
              .groupby(["player_id", "game_date", "bookmaker_key"]).head(1))
    expected = latest.groupby(["player_id", "game_date"]).line_points.agg(["median", "count"])
    got = _df(season_warehouse, "select player_id, game_date, consensus_line_points, n_books "
              "from analytics.player_consensus_lines").set_index(["player_id", "game_date"]).sort_index()
    expected = expected.sort_index()
    assert list(got.index) == list(expected.index)
    assert (got.n_books.to_numpy() == expected["count"].to_numpy()).all()
    assert np.allclose(got.consensus_line_points.to_numpy(), expected["median"].to_numpy(), rtol=0, atol=1e-12)
    # the median differs from the max / min / mean on many real rows: the check is discriminating
    spread = latest.groupby(["player_id", "game_date"]).line_points.agg(["max", "min", "mean"]).sort_index()
    assert int((spread["max"] != expected["median"]).sum()) > 50
    assert int((spread["mean"] != expected["median"]).sum()) > 20
