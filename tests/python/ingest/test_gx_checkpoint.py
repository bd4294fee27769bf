"""The daily Great Expectations checkpoint (python_jobs/validation/gx_checkpoint.py, step gx_checkpoint).

A small DuckDB warehouse gets real landed batches (the replayed LeagueGameLog of 2024-10-22 and the
recorded CommonAllPlayers response) through the real landing; the checkpoint for 2024-10-23 then
validates them (box scores of D-1). A row planted in raw.nba_player_game_logs behind the edge's back
(unknown team id, an impossible minute count) must fail the checkpoint, raise the alert and fail the
data-quality objective; the report's data-health page links the Data Docs. The mart suites come from
the dbt YAML: checked on synthetic prediction rows whose faults are known by construction.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from _ingest_helpers import (
    SAMPLES,
    close_connections,
    dumps,
    land_one,
    replay_game_log,
    to_live_layout,
)

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.ops.clock import FakeClock
from python_jobs.ops.config import ops_config
from python_jobs.warehouse.connection import connect

pytestmark = pytest.mark.timeout(600)
D = date(2024, 10, 23)   # the run date: yesterday's (2024-10-22) box scores are its landed batch


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    wh = tmp_path_factory.mktemp("gx_wh")
    s = Settings(home=PROJECT_ROOT, warehouse_dir=wh, dbt_target="ci")
    gl = to_live_layout(replay_game_log(s, date(2024, 10, 22)))
    land_one(s, "stats_nba", "leaguegamelog", {"Season": "2024-25", "SeasonType": "Regular Season",
                                                "PlayerOrTeam": "P"}, dumps(gl))
    with gzip.open(SAMPLES.parent / "reference" / "commonallplayers_2025-26.json.gz", "rt") as fh:
        players = json.load(fh)
    land_one(s, "stats_nba", "commonallplayers", {"Season": "2025-26"}, dumps(players))
    close_connections()
    s.__dict__["_n_game_log_rows"] = len(gl["resultSets"][0]["rowSet"])   # the payload's own count
    yield s


def _n_rows(settings: Settings, sql: str, params: list) -> int:
    with connect(settings) as con:
        return con.fetchone(sql, params)[0]


def test_checkpoint_passes_on_real_landed_batches(settings: Settings) -> None:
    from python_jobs.validation.gx_checkpoint import run_checkpoint

    n_logs = _n_rows(settings, "select count(*) from raw.nba_player_game_logs where game_date = ?", [D - timedelta(1)])
    assert n_logs == settings.__dict__["_n_game_log_rows"] > 20   # opening night: every box score landed
    with connect(settings) as con:
        report = run_checkpoint(settings, con, D)
    by_name = {v.name: v for v in report.validations}
    assert report.success, report.summary()
    assert by_name["landed__nba_player_game_logs"].rows == n_logs
    assert by_name["landed__nba_players"].rows > 1000
    assert by_name["landed__nba_player_game_logs"].evaluated > 50
    # the marts are not built in this warehouse: reported as skipped, not silently passed
    assert "predictions.player_prop_predictions" in report.skipped
    assert report.docs_index == settings.report_dir / D.isoformat() / "data_docs" / "index.html"
    assert report.docs_index.exists()


def test_planted_rows_fail_the_checkpoint_and_raise_the_alert(settings: Settings, tmp_path) -> None:
    from python_jobs.pipeline import RunContext, step_gx_checkpoint
    from python_jobs.report.generator import generate_report

    with connect(settings) as con:
        con.execute("create temp table _planted as select * from raw.nba_player_game_logs where game_date = ? "
                    "order by player_id limit 2", [D - timedelta(1)])
        con.execute("update _planted set payload_id = 'planted', player_id = player_id + 900000000, "
                    "team_id = case when player_id = (select min(player_id) from _planted) then 1610612799 "
                    "else team_id end, minutes = case when player_id = (select min(player_id) from _planted) "
                    "then minutes else 75 end")
        con.execute("insert into raw.nba_player_game_logs by name select * from _planted")
    ctx = RunContext(settings, D, "run-gx-test", "corr-gx-test", "test", ops_config(),
                     FakeClock(datetime(2024, 10, 23, 15, tzinfo=UTC)), "holder", "lock")
    outcome = step_gx_checkpoint(ctx)
    # exactly the two planted faults: team id not in the reference list, minutes above 70
    assert outcome.rows_out == 2, outcome.detail
    assert "expect_column_values_to_be_in_set(team_id): 1 unexpected" in outcome.detail
    assert "expect_column_values_to_be_between(minutes): 1 unexpected" in outcome.detail
    assert [(a.alert_type, a.severity, a.game_date) for a in ctx.alerts] == [("gx_checkpoint", "error", D)]
    assert len(ctx.slo_failures) == 1 and "GX checkpoint failed" in ctx.slo_failures[0]

    # the report's data-health page links the Data Docs of the date (copied beside a custom site)
    site = tmp_path / "site"
    generate_report(settings, D, output_dir=site)
    health = (site / "health.html").read_text()
    assert 'href="data_docs/index.html"' in health
    assert (site / "data_docs" / "index.html").exists()
    other = generate_report(settings, D + timedelta(days=1), output_dir=tmp_path / "other")
    assert "data_docs/index.html" not in (other.output_dir / "health.html").read_text()


def _predictions(n: int = 4) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append({"prediction_id": f"p{i}", "system_id": "catboost_v1", "model_version": "v1", "player_id": 100 + i,
                     "game_date": D, "game_id": "0022400070", "line_source": "consensus_main",
                     "feature_row_id": f"f{i}", "prediction_run_id": "r", "correlation_id": "c", "line_points": 20.5,
                     "predicted_points": 21.0, "confidence": 55.0, "recommendation": "OVER", "p_over": 0.55,
                     "scored_at": datetime(2024, 10, 23, 15, tzinfo=UTC),
                     "merged_at": datetime(2024, 10, 23, 15, 1, tzinfo=UTC)})
    return pd.DataFrame(rows)


def test_predictions_contract_suite_from_dbt_yaml() -> None:
    from python_jobs.validation.gx_checkpoint import GxRunner, mart_expectations

    expectations = mart_expectations(PROJECT_ROOT, "player_prop_predictions")
    runner = GxRunner()
    assert runner.validate("pred_ok", _predictions(), expectations).failed == []

    bad = _predictions()
    bad.loc[0, "confidence"] = 150.0               # contract: confidence in [0, 100]
    bad.loc[1, "recommendation"] = "MAYBE"         # accepted values
    bad.loc[1, "line_source"] = "best_guess"       # contract check: line_source in ('consensus_main', 'none')
    bad.loc[2, "model_version"] = None             # not_null constraint
    bad.loc[3, "player_id"] = bad.loc[2, "player_id"]   # primary key (system, player, date, line source)
    bad.loc[3, "prediction_id"] = "p2"             # unique prediction_id
    failed = runner.validate("pred_bad", bad, expectations).failed
    assert sorted(f.split(":")[0] for f in failed) == sorted([
        "expect_column_values_to_be_between(confidence)",
        "expect_column_values_to_be_in_set(recommendation)",
        "expect_column_values_to_be_in_set(recommendation)",   # the contract check repeats the accepted values
        "expect_column_values_to_be_in_set(line_source)",
        "expect_column_values_to_be_between(confidence)",      # contract check and accepted_range
        "expect_column_values_to_not_be_null(model_version)",
        "expect_compound_columns_to_be_unique(system_id,player_id,game_date,line_source)",
        "expect_column_values_to_be_unique(prediction_id)",
    ])


def test_validate_command_exit_codes(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """``nba-props validate``: exit 1 on the warehouse with the planted rows (previous test), 0 on a
    date whose batches are clean, 2 (usage) on a bad date."""
    from typer.testing import CliRunner

    from python_jobs.cli import app
    from python_jobs.config import reset_settings

    monkeypatch.setenv("NBA_PROPS_WAREHOUSE_DIR", str(settings.warehouse_dir))
    monkeypatch.setenv("NBA_PROPS_DBT_TARGET", "ci")
    reset_settings()
    try:
        runner = CliRunner()
        bad = runner.invoke(app, ["validate", "--date", D.isoformat()])
        assert bad.exit_code == 1, bad.output
        assert "FAIL landed__nba_player_game_logs" in bad.output
        assert "ok   landed__nba_players" in bad.output
        # the batch of 2024-10-21 (box scores of 10-20 and 10-21) holds none of the planted rows (10-22)
        clean = runner.invoke(app, ["validate", "--date", "2024-10-21"])
        assert clean.exit_code == 0, clean.output
        usage = runner.invoke(app, ["validate", "--date", "2024-13-45"])
        assert usage.exit_code == 2
    finally:
        reset_settings()


def test_field_rules_are_inputs_of_a_run(tmp_path) -> None:
    """A changed rule file changes the run's idempotency inputs: a repeat run is not a no-op."""
    import shutil

    from python_jobs.ops.records import inputs_hash

    home = tmp_path / "home"
    shutil.copytree(PROJECT_ROOT / "config" / "validation", home / "config" / "validation")
    (home / "data").mkdir()
    s = Settings(home=home, data_dir=home / "data", warehouse_dir=tmp_path / "wh", dbt_target="ci")
    before = inputs_hash(s)
    assert inputs_hash(s) == before
    path = home / "config" / "validation" / "nba_player_game_logs.yml"
    path.write_text(path.read_text().replace("max: 70", "max: 80"))
    assert inputs_hash(s) != before
