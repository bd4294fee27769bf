"""Retracting a landed payload (issue #11, point 1): `nba-props retract <payload_id> --reason ...`.

Real case: the 2025-03-10 LeagueGameLog re-imported with one player's points raised by 20 (4 -> 24
style; FGM/FGA raised so every record check passes). After the retraction and the rebuild, staging,
the player game summary and the feature store are back to what they were before the import, the
retraction is kept (append-only, with its reason) and the raw rows are still there."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from python_jobs.config import Settings
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.features.conftest import ingest_and_build
from tests.python.features.test_feature_store import _assert_same_rows, _rows
from tests.python.ingest._ingest_helpers import close_connections, dumps, land_one, replay_game_log

DAY = date(2025, 3, 10)
GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P",
             "DateFrom": DAY.isoformat(), "DateTo": DAY.isoformat()}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The season up to DAY + 2 (DAY's real box scores landed), built through Phase 4."""
    from python_jobs.dbt_runner import run_dbt

    settings = ingest_and_build(make_settings(tmp_path_factory.mktemp("retract_base")), until=DAY + timedelta(days=2))
    run_dbt(["build", "--selector", "through_phase4"], settings)
    return settings


def _one(settings: Settings, sql: str, params: list) -> tuple:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return con.execute(sql, params).fetchone()


def test_a_retracted_reimport_leaves_no_trace_downstream(base: Settings, tmp_path: Path) -> None:
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ops.retract import rebuild_after_retraction, retract_payload

    settings = copy_warehouse(base, tmp_path / "wh")
    features_before = _rows(settings, f"game_date between '{DAY}' and '{DAY + timedelta(days=3)}'")
    payload = replay_game_log(settings, DAY)
    rs = payload["resultSets"][0]
    h = {name: i for i, name in enumerate(rs["headers"])}
    row = rs["rowSet"][0]
    player, game, points = row[h["PLAYER_ID"]], row[h["GAME_ID"]], row[h["PTS"]]
    row[h["PTS"]] += 20
    row[h["FGM"]] += 10
    row[h["FGA"]] += 10
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    close_connections()
    assert quarantined == [] and valid == len(rs["rowSet"])
    run_dbt(["build", "--selector", "through_phase4"], settings)
    sql = ("select points from {} where player_id = ? and game_id = ?")
    assert _one(settings, sql.format("staging.stg_nba__player_game_logs"), [player, game]) == (points + 20,)

    r = retract_payload(settings, result.payload_id, "re-import with wrong points (test)")
    assert not r.already_retracted
    rebuild_after_retraction(settings)
    assert _one(settings, sql.format("staging.stg_nba__player_game_logs"), [player, game]) == (points,)
    assert _one(settings, sql.format("analytics.player_game_summary"), [player, game]) == (points,)
    _assert_same_rows(_rows(settings, f"game_date between '{DAY}' and '{DAY + timedelta(days=3)}'"), features_before)
    # append-only: the raw rows stay, the retraction is recorded once with its reason
    assert _one(settings, "select count(*) from raw.nba_player_game_logs where payload_id = ?",
                [result.payload_id]) == (valid,)
    again = retract_payload(settings, result.payload_id, "twice")
    assert again.already_retracted and again.reason == "re-import with wrong points (test)"
    assert _one(settings, "select count(*), min(reason) from raw.payload_retractions", []) == (
        1, "re-import with wrong points (test)")


def test_retract_fails_fast_with_a_clear_message(base: Settings, tmp_path: Path, monkeypatch) -> None:
    from python_jobs.cli import app
    from python_jobs.config import reset_settings

    settings = copy_warehouse(base, tmp_path / "cli")
    monkeypatch.setenv("NBA_PROPS_WAREHOUSE_DIR", str(settings.warehouse_dir))
    monkeypatch.setenv("NBA_PROPS_DBT_TARGET", "ci")
    reset_settings()
    try:
        out = CliRunner().invoke(app, ["retract", "no-such-payload", "--reason", "test", "--no-rebuild"])
        assert out.exit_code == 1
        assert "retract failed: no landed payload 'no-such-payload'" in out.output
        out = CliRunner().invoke(app, ["retract", "no-such-payload", "--reason", " ", "--no-rebuild"])
        assert out.exit_code == 1 and "needs a reason" in out.output
        assert _one(settings, "select count(*) from raw.payload_retractions", []) == (0,)
    finally:
        reset_settings()
