"""Production on BigQuery, end to end: `NBA_PROPS_DBT_TARGET=prod nba-props run-day --date 2025-03-19`
against a local BigQuery emulator (its own, started here on 127.0.0.1), compared with the DuckDB run of
the same date: same prediction keys, same row counts, same recommendations, same grading rows.

Both runs land the same bundled history (2024-25 up to 2025-03-18) through the same CLI. The prod run
uses the models the DuckDB run trained (copied into its model registry), so the comparison is about the
warehouse path (landing, dbt on BigQuery, scoring reads and writes, locks, logs), not about two
trainings; training on BigQuery is exercised separately at the end (`nba-props train` on prod).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.warehouse.connection import connect
from tests.python.bigquery.emulator import PROJECT, emulator_for_tests

D = date(2025, 3, 19)
HISTORY = ["ingest", "--seasons", "2024-25", "--until", "2025-03-18"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def _cli(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "python_jobs.cli", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _base_env(warehouse_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBA_PROPS_", "DBT_")) and k != "PREFECT_API_URL"}
    env.update({"NBA_PROPS_WAREHOUSE_DIR": str(warehouse_dir), "COLUMNS": "200",
                "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore"})
    return env


@pytest.fixture(scope="module")
def emulator():
    with emulator_for_tests() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def duckdb_run(tmp_path_factory) -> Path:
    """The reference: the same history and date on DuckDB (target ci), through the same CLI."""
    warehouse = tmp_path_factory.mktemp("duckdb_run")
    env = {**_base_env(warehouse), "NBA_PROPS_DBT_TARGET": "ci"}
    res = _cli(HISTORY, env, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    res = _cli(["run-day", "--date", D.isoformat()], env, timeout=900)
    assert res.returncode in (0, 2), res.stdout[-3000:] + res.stderr[-3000:]
    return warehouse


@pytest.fixture(scope="module")
def prod_run(emulator, duckdb_run, tmp_path_factory) -> tuple[Path, dict[str, str], subprocess.CompletedProcess]:
    warehouse = tmp_path_factory.mktemp("prod_run")
    shutil.copytree(duckdb_run / "models", warehouse / "models")
    env = {**_base_env(warehouse), "NBA_PROPS_DBT_TARGET": "prod", "NBA_PROPS_BQ_PROJECT": PROJECT,
           "NBA_PROPS_BQ_API_ENDPOINT": emulator, "NBA_PROPS_BQ_METHOD": "oauth-secrets",
           "NBA_PROPS_BQ_TOKEN": "dummy-token", "NBA_PROPS_BQ_JOB_TIMEOUT_S": "600"}
    res = _cli(HISTORY, env, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    run = _cli(["run-day", "--date", D.isoformat()], env, timeout=1800)
    return warehouse, env, run


def _duckdb_settings(warehouse: Path) -> Settings:
    return Settings(home=PROJECT_ROOT, warehouse_dir=warehouse, dbt_target="ci",
                    duckdb_path=warehouse / "nba_props.duckdb")


def _prod_settings(warehouse: Path, endpoint: str) -> Settings:
    return Settings(home=PROJECT_ROOT, warehouse_dir=warehouse, dbt_target="prod", bq_project=PROJECT,
                    bq_api_endpoint=endpoint, bq_job_timeout_s=600)


PREDICTIONS = ("select system_id, player_id, cast(game_date as varchar), line_source, recommendation "
               "from predictions.player_prop_predictions where game_date = ?")
STEPS = ("select node, status from raw.pipeline_execution_log where node_type = 'step' "
         "and game_date = ? order by started_at")


def _rows(settings: Settings, sql: str, params: list) -> list[tuple]:
    with connect(settings, read_only=True) as wh:
        return sorted(tuple(str(v) for v in row) for row in wh.fetchall(sql, params))


def test_prod_run_day_succeeds_through_every_step_on_bigquery(prod_run, emulator):
    warehouse, _, run = prod_run
    assert run.returncode in (0, 2), run.stdout[-4000:] + run.stderr[-4000:]
    from python_jobs.pipeline import default_steps

    steps = _rows(_prod_settings(warehouse, emulator), STEPS, [D])
    assert sorted(steps) == sorted((s.name, "success") for s in default_steps())
    with connect(_prod_settings(warehouse, emulator), read_only=True) as wh:
        assert wh.engine == "bigquery"
        # the day's run is recorded and its lock released
        assert wh.fetchall("select status from raw.pipeline_runs where game_date = ?", [D]) in (
            [("succeeded",)], [("slo_failed",)])
        assert wh.scalar("select count(*) from raw.pipeline_locks where released_at is null") == 0


def test_prod_predictions_match_the_duckdb_run(prod_run, duckdb_run, emulator):
    warehouse, _, run = prod_run
    assert run.returncode in (0, 2), run.stdout[-4000:] + run.stderr[-4000:]
    duck = _rows(_duckdb_settings(duckdb_run), PREDICTIONS, [D])
    prod = _rows(_prod_settings(warehouse, emulator), PREDICTIONS, [D])
    assert len(duck) > 1000
    assert len(prod) == len(duck)
    assert prod == duck  # same keys and the same recommendation for every key


@pytest.mark.parametrize("sql", [
    "select system_id, cast(game_date as varchar), count(*) from grading.prediction_accuracy "
    "where game_date >= ? group by 1, 2",
    "select system_id, cast(game_date as varchar), n_predictions from grading.system_daily_performance "
    "where game_date >= ?",
    "select cast(game_date as varchar), count(*) from raw.prediction_scores where game_date = ? group by 1",
])
def test_prod_grading_and_scores_match_the_duckdb_run(prod_run, duckdb_run, emulator, sql):
    warehouse, _, _ = prod_run
    since = [D] if "raw.prediction_scores" in sql else [date(2025, 3, 1)]
    assert _rows(_prod_settings(warehouse, emulator), sql, since) == _rows(_duckdb_settings(duckdb_run), sql, since)


def test_training_reads_its_rows_from_bigquery(prod_run, emulator):
    warehouse, env, _ = prod_run
    res = _cli(["train", "--cutoff", D.isoformat(), "--system", "rolling_average_v1"],
               {**env, "NBA_PROPS_WAREHOUSE_DIR": str(warehouse / "retrain")}, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert (warehouse / "retrain" / "models" / "registry.json").exists()
