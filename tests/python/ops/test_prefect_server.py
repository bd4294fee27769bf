"""The README's Prefect server path, for real: `prefect server start` on 127.0.0.1, a process work
pool, `prefect deploy --all` from prefect.yaml, a worker, and the daily deployment run for a date
with bundled lines; the run's state is read back with the Prefect CLI itself.

Ephemeral-mode tests (test_flows.py) cannot see what breaks here: the server's request validation
(FastAPI), the deployment's pull step (NBA_PROPS_HOME), flow-code storage and the parameter names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT
from python_jobs.ops.local_services import (
    free_port,
    prefect_bin,
    start_prefect_server,
    stop_process_group,
)

GAME_DATE = "2025-03-20"   # a date with bundled lines (README example)
HISTORY_UNTIL = "2025-03-19"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def server(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore"}
    env.pop("PREFECT_API_KEY", None)
    proc = start_prefect_server(env, port, tmp_path / "server.log", timeout_s=120)
    try:
        yield env
    finally:
        stop_process_group(proc)


def _cli(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    res = subprocess.run([prefect_bin(), *args], env=env, cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=timeout)
    assert res.returncode == 0, f"prefect {' '.join(args)} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def test_daily_deployment_runs_on_a_real_server_with_a_process_worker(server, tmp_path):
    warehouse = tmp_path / "warehouse"
    env = {**server, "NBA_PROPS_HOME": str(PROJECT_ROOT), "NBA_PROPS_WAREHOUSE_DIR": str(warehouse),
           "NBA_PROPS_DBT_TARGET": "ci", "COLUMNS": "250"}
    env.pop("NBA_PROPS_DUCKDB_PATH", None)
    # the history the morning run starts from (the README's `nba-props ingest`)
    res = subprocess.run([sys.executable, "-m", "python_jobs.cli", "ingest", "--seasons", "2024-25",
                          "--until", HISTORY_UNTIL], env=env, cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]

    # the README's steps, verbatim in substance
    _cli(["work-pool", "create", "nba-props", "--type", "process"], env)
    out = _cli(["--no-prompt", "deploy", "--all"], env)
    for name in ("daily", "backfill", "reconcile"):
        assert f"'{name}/{name}'" in out, out[-2000:]
    listed = _cli(["deployment", "ls"], env)            # failed with 422 on FastAPI >= 0.151
    assert "daily/daily" in listed

    out = _cli(["deployment", "run", "daily/daily", "-p", f"game_date={GAME_DATE}"], env)
    flow_run_id = next(line.split("UUID:")[-1].strip() for line in out.splitlines() if "UUID:" in line)

    worker = subprocess.run([prefect_bin(), "worker", "start", "--pool", "nba-props", "--run-once"],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=800)
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]

    # the Prefect CLI says the run completed
    inspected = _cli(["flow-run", "inspect", flow_run_id, "--output", "json"], env)
    state = json.loads(inspected)["state"]
    assert state["type"] == "COMPLETED", (state, worker.stdout[-3000:], worker.stderr[-3000:])
    # and the warehouse holds the date's predictions, written by that worker's run
    import duckdb

    with duckdb.connect(str(warehouse / "nba_props.duckdb"), read_only=True) as con:
        n = con.execute("select count(*) from predictions.player_prop_predictions where game_date = ?",
                        [GAME_DATE]).fetchone()[0]
        status = con.execute("select status from raw.pipeline_runs where flow = 'daily' and game_date = ?",
                             [GAME_DATE]).fetchall()
    assert n > 0
    assert status == [("succeeded",)]

    # `python -m flows.serve` on the same server afterwards (README's one-box path) runs its own
    # deployments and leaves the work-pool ones intact (it used to rewrite them: "storage at None")
    serve_log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    serve = subprocess.Popen([sys.executable, "-m", "flows.serve"], env=env, cwd=PROJECT_ROOT, stdout=serve_log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "reconcile/reconcile-served" not in _cli(["deployment", "ls"], env):
            if serve.poll() is not None or time.monotonic() > deadline:
                pytest.fail("flows.serve did not register its deployments:\n"
                            + (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(2)
        out = _cli(["deployment", "run", "reconcile/reconcile-served", "-p", "dry_run=true"], env)
        served_run = next(line.split("UUID:")[-1].strip() for line in out.splitlines() if "UUID:" in line)
        while True:
            state = json.loads(_cli(["flow-run", "inspect", served_run, "--output", "json"], env))["state"]
            if state["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                break
            if time.monotonic() > deadline + 300:
                pytest.fail(f"served run still {state['type']}:\n" + (tmp_path / "serve.log").read_text()[-3000:])
            time.sleep(2)
        assert state["type"] == "COMPLETED", (state, (tmp_path / "serve.log").read_text()[-3000:])
    finally:
        stop_process_group(serve)
        serve_log.close()
    daily_deployment = json.loads(_cli(["deployment", "inspect", "daily/daily", "--output", "json"], env))
    assert daily_deployment["work_pool_name"] == "nba-props"
    assert daily_deployment["pull_steps"], "serving rewrote the work-pool deployment"
