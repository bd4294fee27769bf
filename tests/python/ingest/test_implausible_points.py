"""Points far above a player's range are quarantined at the edge (issue #11, point 2): rule in
``python_jobs/validation/batch.py`` (``implausible_points``), oracle recomputed here in plain pandas
on the ten bundled seasons."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from python_jobs.config import Settings
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.ingest._ingest_helpers import close_connections, dumps, land_one, replay_game_log

DAY = date(2025, 3, 10)
GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P",
             "DateFrom": DAY.isoformat(), "DateTo": DAY.isoformat()}


@pytest.fixture(scope="module")
def ten_seasons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from python_jobs.ingest import ingest_history

    settings = make_settings(tmp_path_factory.mktemp("ten_seasons"))
    ingest_history(settings)
    yield settings


def _logs(settings: Settings) -> pd.DataFrame:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return con.execute("select player_id, season_id, game_id, points, minutes from raw.nba_player_game_logs "
                           "where points is not null").df()


def _thresholds(logs: pd.DataFrame) -> pd.DataFrame:
    """Per row: the bound from the player's OTHER games of the season, max(3 x p95, max + 15), when
    he has at least 20 of them (numpy's linear quantile = quantile_cont); and whether the row trips the
    rule: above that bound and above 1.5 points a minute."""
    out = pd.Series(math.inf, index=logs.index)
    for (_, _), g in logs.groupby(["player_id", "season_id"], sort=False):
        pts = g["points"].to_numpy(dtype=float)
        games = g["game_id"].to_numpy()
        for i, idx in enumerate(g.index):
            others = pts[games != games[i]]
            if len(others) >= 20:
                out[idx] = max(3 * np.quantile(others, 0.95), others.max() + 15)
    logs = logs.assign(bound=out)
    return logs.assign(trips=(logs["points"] > logs["bound"]) & (logs["points"] > 1.5 * logs["minutes"].fillna(0)))


@pytest.mark.timeout(600)
def test_no_bundled_row_of_the_ten_seasons_is_implausible(ten_seasons: Settings) -> None:
    with duckdb.connect(str(ten_seasons.database_path), read_only=True) as con:
        n_seasons, n_rows = con.execute("select count(distinct season_id), count(*) from raw.nba_player_game_logs"
                                        ).fetchone()
        tripped = con.execute("select count(*) from raw.quarantine where reason_code = 'implausible_points'"
                              ).fetchone()[0]
    assert n_seasons == 10 and n_rows > 250_000
    assert tripped == 0
    logs = _thresholds(_logs(ten_seasons))
    judged = logs[np.isfinite(logs["bound"])]
    above_range = judged[judged["points"] > judged["bound"]]
    print(f"rows judged {len(judged):,} of {len(logs):,}; above the range bound: {len(above_range)}, their "
          f"highest rate {(above_range['points'] / above_range['minutes']).max():.2f} points a minute")
    assert len(judged) > 200_000 and not logs["trips"].any()
    # the range bound alone would quarantine real breakout games: the rate is what keeps them
    assert len(above_range) >= 5


@pytest.mark.timeout(600)
def test_a_reimport_far_above_the_players_range_is_quarantined(ten_seasons: Settings, tmp_path: Path) -> None:
    settings = copy_warehouse(ten_seasons, tmp_path / "wh")
    logs = _thresholds(_logs(settings))
    payload = replay_game_log(settings, DAY)
    rs = payload["resultSets"][0]
    h = {name: i for i, name in enumerate(rs["headers"])}
    bound = {(r.player_id, r.game_id): r.bound for r in logs.itertuples() if r.season_id == "22024"}

    def b(r: list) -> float:
        return bound.get((r[h["PLAYER_ID"]], r[h["GAME_ID"]]), math.inf)

    candidates = [i for i, r in enumerate(rs["rowSet"]) if b(r) < 45 and (r[h["MIN"]] or 0) < 25]
    breakout = [i for i, r in enumerate(rs["rowSet"]) if b(r) + 2 < 1.5 * (r[h["MIN"]] or 0) and i not in candidates]
    assert len(candidates) >= 2 and breakout, "low-scoring regulars and one with many minutes on DAY"
    too_high, at_bound = candidates[:2]
    big_game = breakout[0]

    def set_points(row: list, pts: int) -> None:
        delta = pts - row[h["PTS"]]
        row[h["FGM"]] += delta // 2
        row[h["FGA"]] += delta // 2
        row[h["FTM"]] += delta % 2
        row[h["FTA"]] += delta % 2
        row[h["PTS"]] = pts

    hi_row, ok_row, big_row = rs["rowSet"][too_high], rs["rowSet"][at_bound], rs["rowSet"][big_game]
    hi_pts = max(math.floor(b(hi_row)), math.floor(1.5 * hi_row[h["MIN"]])) + 1   # above both: quarantined
    ok_pts = math.floor(b(ok_row))                                                # at the bound: accepted
    big_pts = math.floor(b(big_row)) + 1       # above the range but under 1.5 a minute: a breakout, accepted
    assert big_pts <= 1.5 * big_row[h["MIN"]]
    set_points(hi_row, hi_pts)
    set_points(ok_row, ok_pts)
    set_points(big_row, big_pts)
    _, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    close_connections()
    assert quarantined == [("nba_player_game_logs", too_high, "implausible_points")]
    assert valid == len(rs["rowSet"]) - 1
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        for row, pts in [(ok_row, ok_pts), (big_row, big_pts)]:
            landed = con.execute("select max(points) from raw.nba_player_game_logs where player_id = ? "
                                 "and game_id = ?", [row[h["PLAYER_ID"]], row[h["GAME_ID"]]]).fetchone()[0]
            assert landed == pts   # accepted (recorded and alerted as a correction downstream)
