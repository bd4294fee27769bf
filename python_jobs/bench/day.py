"""One game date end to end, the way it runs every morning (issue 13's targets).

The warehouse holds one season of history up to D-1 and a trained model: it is the state the
morning after a day that ran (``nba-props ingest --until D-2``, then ``run-day`` for D-1, which
trains the models, builds everything and leaves dbt's saved parse in the warehouse's dbt target).
That state is kept as a snapshot and restored, at the same path, before each timed run of D:

- ``day_run_day_seconds``: ``nba-props run-day --date D`` in a fresh process (best of 3), with
  its steps (``day_run_day_steps``: the run's own per-step seconds) and
  ``day_run_day_without_gx_seconds`` (the same runs less their Great Expectations step, which the
  target reports apart) and the runs' CPU seconds (user + sys);
- ``day_prefect_served_run_seconds``: the same date as a run of the served deployment
  ``daily/daily-served`` (``python -m flows.serve``) on a running ``prefect server``: from the API
  call that creates the flow run to its final state (best of 3). Server and serve process are
  started once, before the timing, as they are in production;
- ``day_prefect_served_overhead_seconds``: the difference (target: <= 3 s).

Each run is a separate process: the dbt import and the loading of the saved parse are paid once
per run, as they are every morning.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.ops.local_services import (
    free_port,
    start_prefect_server,
    stop_process_group,
    wait_until,
)

DAY = date(2025, 3, 19)
REPEAT = 3
SERVED_DEPLOYMENT = "daily/daily-served"
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBA_PROPS_", "PREFECT_"))}
    env.update({"NBA_PROPS_WAREHOUSE_DIR": str(settings.warehouse_dir), "NBA_PROPS_DBT_TARGET": settings.dbt_target,
                "NBA_PROPS_HOME": str(PROJECT_ROOT), "PYTHONPATH": str(PROJECT_ROOT),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"})
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 2):  # 2 = finished with a failing SLO: the run itself completed
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


class _Snapshot:
    """The warehouse directory of the morning of D, restored in place before each timed run."""

    def __init__(self, settings: Settings):
        self.live = settings.warehouse_dir
        self.kept = settings.warehouse_dir.with_name(settings.warehouse_dir.name + "_snapshot")

    def keep(self) -> None:
        shutil.rmtree(self.kept, ignore_errors=True)
        shutil.copytree(self.live, self.kept)

    def restore(self) -> None:
        shutil.rmtree(self.live)
        shutil.copytree(self.kept, self.live)


def _prepare(settings: Settings) -> dict[str, float]:
    """History to D-2, then the run of D-1 (trains the models, warms the saved parse)."""
    env = _env(settings)
    started = time.perf_counter()
    _run([sys.executable, "-m", "python_jobs.cli", "ingest", "--seasons", "2024-25",
          "--until", (DAY - timedelta(days=2)).isoformat()], env)
    ingest = time.perf_counter() - started
    started = time.perf_counter()
    _run([sys.executable, "-m", "python_jobs.cli", "run-day", "--date", (DAY - timedelta(days=1)).isoformat()], env)
    first = time.perf_counter() - started
    return {"day_setup_ingest_seconds": round(ingest, 3), "day_previous_run_day_with_training_seconds": round(first, 3)}


def _run_day_steps(settings: Settings, flow: str = "daily") -> dict[str, float]:
    """The step seconds of the latest run of D (raw.pipeline_execution_log rows of node_type step)."""
    from python_jobs.warehouse.connection import connect

    with connect(settings, read_only=True) as con:
        rows = con.fetchall(
            "select node, epoch(finished_at - started_at) from raw.pipeline_execution_log"
            " where node_type = 'step' and game_date = ? and flow = ? and run_id = ("
            "   select run_id from raw.pipeline_runs where game_date = ? and flow = ? order by started_at desc limit 1)"
            " order by started_at", [DAY, flow, DAY, flow])
    return {node: round(float(seconds), 2) for node, seconds in rows}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_day_seconds(settings: Settings, snapshot: _Snapshot) -> dict[str, object]:
    """Wall seconds (best of REPEAT) and the CPU seconds (user + sys, dbt's threads included) of the
    same runs: on a shared machine the CPU figure is the steadier one."""
    env = _env(settings)
    runs, cpu, without_gx, steps = [], [], [], {}
    for _ in range(REPEAT):
        snapshot.restore()
        started, cpu_before = time.perf_counter(), _children_cpu()
        _run([sys.executable, "-m", "python_jobs.cli", "run-day", "--date", DAY.isoformat()], env)
        runs.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - cpu_before)
        run_steps = _run_day_steps(settings)
        # the Great Expectations step is reported apart (issue 13): the run's wall time without it
        without_gx.append(runs[-1] - run_steps.get("gx_checkpoint", 0.0))
        if runs[-1] == min(runs):
            steps = run_steps
    return {"day_run_day_seconds": round(min(runs), 3), "day_run_day_all_seconds": [round(r, 3) for r in runs],
            "day_run_day_without_gx_seconds": round(min(without_gx), 3),
            "day_run_day_without_gx_all_seconds": [round(r, 3) for r in without_gx],
            "day_run_day_cpu_seconds": round(min(cpu), 3), "day_run_day_all_cpu_seconds": [round(c, 3) for c in cpu],
            "day_run_day_steps": steps, "load_average_1min_after": round(os.getloadavg()[0], 2)}


def _api(call, attempts: int = 5):
    """One Prefect API call; a 503 (the server's database busy on a loaded machine) is retried
    after 1, 2, 4, 8 s, any other error status raises."""
    for attempt in range(attempts):
        res = call()
        if res.status_code != 503 or attempt == attempts - 1:
            res.raise_for_status()
            return res
        time.sleep(2 ** attempt)
    raise AssertionError("unreachable")


def served_run_seconds(settings: Settings, snapshot: _Snapshot) -> dict[str, object]:
    import httpx

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    prefect_home = settings.warehouse_dir.parent / "day_prefect_home"
    shutil.rmtree(prefect_home, ignore_errors=True)
    env = {**_env(settings), "PREFECT_HOME": str(prefect_home), "PREFECT_API_URL": api,
           "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore"}
    server_log, serve_log = prefect_home.with_suffix(".server.log"), prefect_home.with_suffix(".serve.log")
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start_prefect_server(env, port, server_log, timeout_s=180))
        snapshot.restore()
        with open(serve_log, "wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "flows.serve"], env=env, cwd=PROJECT_ROOT,
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
        deployment: dict = {}

        def registered() -> bool:
            res = httpx.get(f"{api}/deployments/name/{SERVED_DEPLOYMENT}", timeout=5)
            if res.status_code == 200:
                deployment.update(res.json())
            return bool(deployment)

        wait_until("flows.serve", registered, procs[1], serve_log, timeout_s=180)
        runs = []
        for _ in range(REPEAT):
            snapshot.restore()
            started = time.perf_counter()
            created = _api(lambda: httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run",
                                              json={"parameters": {"game_date": DAY.isoformat()}}, timeout=30))
            run_id = created.json()["id"]
            while True:
                state = _api(lambda r=run_id: httpx.get(f"{api}/flow_runs/{r}", timeout=10)).json()["state"]
                if state["type"] in FINAL_STATES:
                    break
                if time.perf_counter() - started > 900:
                    raise RuntimeError(f"served run still {state['type']} after 900 s")
                time.sleep(0.2)
            runs.append(time.perf_counter() - started)
            if state["type"] != "COMPLETED":
                raise RuntimeError(f"served run ended {state['type']}: {state.get('message')}\n"
                                   + serve_log.read_text()[-3000:])
        return {"day_prefect_served_run_seconds": round(min(runs), 3),
                "day_prefect_served_all_seconds": [round(r, 3) for r in runs]}
    finally:
        for proc in reversed(procs):
            stop_process_group(proc)


def run(settings: Settings) -> dict[str, object]:
    live = settings.model_copy(update={"warehouse_dir": settings.warehouse_dir / "day"})
    live.warehouse_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {"game_date": DAY.isoformat(), "repeat_best_of": REPEAT}
    figures.update(_prepare(live))
    snapshot = _Snapshot(live)
    snapshot.keep()
    figures.update(run_day_seconds(live, snapshot))
    # in the log as soon as measured: the served runs that follow take minutes and may fail
    print(f"[bench] day run-day: {json.dumps(figures)}", flush=True)
    figures.update(served_run_seconds(live, snapshot))
    figures["day_prefect_served_overhead_seconds"] = round(
        figures["day_prefect_served_run_seconds"] - figures["day_run_day_seconds"], 3)
    figures["target_run_day_seconds"] = 15
    figures["target_prefect_served_overhead_seconds"] = 3
    return figures
