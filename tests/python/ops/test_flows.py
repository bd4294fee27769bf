"""The Prefect 3 flows in ephemeral mode (a temporary local server, no install): steps run as
Prefect tasks, retries only for TransientError, the same records as the bare run_day, and the
deployments in prefect.yaml / flows.serve. Real DuckDB warehouse, synthetic steps (the full
pipeline on real data is in test_run_day.py)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pytest
import yaml

from flows._prefect_env import configure_prefect

# a private PREFECT_HOME (ephemeral server database) for this test process
configure_prefect(Path(tempfile.mkdtemp(prefix="nba-props-test-prefect-")))

from prefect import flow  # noqa: E402

from flows.daily import exit_code, run_daily  # noqa: E402
from python_jobs.errors import PermanentError, TransientError  # noqa: E402
from python_jobs.ops.config import load_ops_config  # noqa: E402
from python_jobs.ops.guard import short_write  # noqa: E402
from python_jobs.pipeline import PipelineFailed, Step, StepOutcome, run_day  # noqa: E402

from ._synthetic import synthetic_steps  # noqa: E402

D = date(2025, 3, 19)
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def q(settings, sql, params=None):
    with short_write(settings) as con:
        return con.fetchall(sql, params or [])


def fast_retry_cfg():
    cfg = load_ops_config()
    return cfg.model_copy(update={"retries": cfg.retries.model_copy(update={"backoff_seconds": 0.05})})


@flow(name="test-daily")
def daily_with(settings_dir: str, steps_kind: str, force: bool = False) -> str:
    """A flow around flows.daily.run_daily (the body of the `daily` flow) with test steps."""
    from python_jobs.config import PROJECT_ROOT as root
    from python_jobs.config import Settings

    settings = Settings(home=root, warehouse_dir=Path(settings_dir), dbt_target="ci")
    return run_daily(settings, D, steps=STEP_SETS[steps_kind](), cfg=fast_retry_cfg(), force=force).status


CALLS: dict[str, int] = {}


def _flaky(ctx):
    CALLS["flaky"] = CALLS.get("flaky", 0) + 1
    if CALLS["flaky"] < 3:
        raise TransientError("HTTP 503 from the scoreboard")
    return StepOutcome(rows_out=4)


def _fatal(ctx):
    CALLS["fatal"] = CALLS.get("fatal", 0) + 1
    raise PermanentError("HTTP 401: bad api key")


def _after(ctx):
    CALLS["after"] = CALLS.get("after", 0) + 1
    return StepOutcome()


STEP_SETS = {
    "synthetic": synthetic_steps,
    "flaky": lambda: [Step("flaky", "phase1", _flaky, records_completion=True)],
    "fatal": lambda: [Step("fatal", "phase1", _fatal), Step("after", "phase2", _after)],
}


def _state(settings) -> dict[str, list]:
    return {
        "output": q(settings, "select game_date, phase, i from main.synthetic_output order by all"),
        "completions": q(settings, "select game_date, phase, status, row_count, recorded_by "
                                   "from raw.phase_completions order by all"),
        "log": q(settings, "select flow, game_date, phase, node, node_type, rows_out, status "
                           "from raw.pipeline_execution_log order by all"),
        "runs": q(settings, "select flow, game_date, status from raw.pipeline_runs order by all"),
    }


def test_prefect_daily_flow_leaves_the_same_state_as_run_day(tmp_path):
    from tests.python.conftest import make_settings

    bare = make_settings(tmp_path / "bare")
    prefect = make_settings(tmp_path / "prefect")
    assert run_day(bare, D, steps=synthetic_steps()).status == "succeeded"
    assert daily_with(str(prefect.warehouse_dir), "synthetic") == "succeeded"
    assert _state(prefect) == _state(bare)
    assert _state(bare)["output"] and len(_state(bare)["completions"]) == 2
    # the idempotency key is shared: a repeat through Prefect is a no-op too
    assert daily_with(str(prefect.warehouse_dir), "synthetic") == "noop"


def test_prefect_retries_transient_errors_only(tmp_path):
    from tests.python.conftest import make_settings

    settings = make_settings(tmp_path / "wh")
    CALLS.clear()
    assert daily_with(str(settings.warehouse_dir), "flaky") == "succeeded"
    assert CALLS["flaky"] == 3
    assert q(settings, "select status, error_class from raw.pipeline_execution_log order by logged_at") == [
        ("error", "TransientError"), ("error", "TransientError"), ("success", None)]

    CALLS.clear()
    state = daily_with(str(settings.warehouse_dir), "fatal", force=True, return_state=True)
    assert state.is_failed()
    assert (CALLS.get("fatal"), CALLS.get("after")) == (1, None)  # no retry, next step never ran
    with pytest.raises(PipelineFailed, match="failed at step fatal: PermanentError: HTTP 401"):
        state.result()
    assert exit_code(state) == 1
    assert q(settings, "select status, error_class from raw.pipeline_runs order by started_at desc limit 1") == [
        ("failed", "PermanentError")]


def test_deployments_daily_cron_in_new_york_and_parameterised_backfill():
    spec = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in spec["deployments"]}
    assert deployments["daily"]["entrypoint"] == "flows/daily.py:daily"
    assert deployments["daily"]["schedules"] == [{"cron": "0 10 * * *", "timezone": "America/New_York",
                                                  "active": True}]
    assert set(deployments["backfill"]["parameters"]) >= {"start", "end"}
    assert "schedules" not in deployments["backfill"]
    # every entrypoint names a Prefect flow whose parameters match the deployment's
    import importlib

    for d in deployments.values():
        path, attr = d["entrypoint"].split(":")
        fl = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), attr)
        assert set(d["parameters"]) <= set(fl.parameters.properties), d["name"]

    from flows.serve import deployments as served

    crons = {d.name: [(s.schedule.cron, s.schedule.timezone) for s in d.schedules or []] for d in served()}
    assert crons == {"daily-served": [("0 10 * * *", "America/New_York")], "backfill-served": [],
                     "reconcile-served": [("0 6 * * 1", "America/New_York")]}
    # serving must never rewrite the work-pool deployments of `prefect deploy --all`
    assert not set(crons) & set(deployments)
