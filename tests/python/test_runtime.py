"""The batch processes' settings (python_jobs/runtime.py) and the dbt log file level (issue 13).

- ``batch_gc`` raises the collector's thresholds for a block and always restores them; a daily run
  (``run_day``) runs its steps under them.
- ``exit_now`` ends a process with the status ``sys.exit`` would give, after its other threads
  ended and the exit handlers ran, with every byte written to stdout, stderr and a log file kept; the CLI's console script ends
  that way (usage errors, ``--help``, a command's JSON output).
- dbt's log file is at info unless the environment says otherwise (dbt's own DBT_LOG_LEVEL_FILE).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT
from python_jobs.runtime import BATCH_GC_THRESHOLDS, batch_gc

pytestmark = pytest.mark.timeout(300)


def test_batch_gc_sets_the_thresholds_inside_and_restores_them_after_an_error():
    before = gc.get_threshold()
    assert before != BATCH_GC_THRESHOLDS
    with pytest.raises(ZeroDivisionError), batch_gc():
        assert gc.get_threshold() == (50_000, 50, 100)
        1 / 0  # noqa: B018
    assert gc.get_threshold() == before


def test_run_day_runs_its_steps_with_the_batch_thresholds(tmp_settings):
    from python_jobs.pipeline import Step, StepOutcome, run_day

    seen: list[tuple[int, int, int]] = []

    def probe(ctx):  # noqa: ARG001
        seen.append(gc.get_threshold())
        return StepOutcome(detail="probe")

    before = gc.get_threshold()
    result = run_day(tmp_settings, date(2025, 3, 19), steps=[Step("probe", "phase2", probe)], flow="gc-test")
    assert result.status == "succeeded"
    assert seen == [(50_000, 50, 100)]
    assert gc.get_threshold() == before


_EXIT_PROBE = """
import atexit, logging, sys, threading, time
from python_jobs.runtime import exit_now
out = sys.argv[1]
logging.basicConfig(filename=out + ".log", level=logging.INFO, format="%(message)s")
atexit.register(lambda: open(out + ".atexit", "w").write("ran"))
def late_writer():   # a thread that is not a daemon: the process waits for it, as at a normal exit
    time.sleep(0.5)
    open(out + ".thread", "w").write("done")
threading.Thread(target=late_writer).start()
sys.stdout.write("x" * 200000)          # no newline: still buffered when exit_now is called
sys.stderr.write("to stderr")
logging.getLogger("probe").info("the last log record")
exit_now({code})
raise SystemExit("not reached")
"""


@pytest.mark.parametrize(("code", "status"), [("0", 0), ("3", 3), ("None", 0), ("'a message'", 1)])
def test_exit_now_keeps_every_byte_waits_for_threads_and_runs_the_exit_handlers(tmp_path: Path, code: str, status: int):
    out = tmp_path / "probe"
    proc = subprocess.run([sys.executable, "-c", _EXIT_PROBE.format(code=code), str(out)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == status
    assert proc.stdout == "x" * 200000
    assert proc.stderr.startswith("to stderr")
    if code == "'a message'":   # as sys.exit("a message"): the text on stderr, status 1
        assert proc.stderr.rstrip().endswith("a message")
    assert (tmp_path / "probe.atexit").read_text() == "ran"
    assert (tmp_path / "probe.thread").read_text() == "done"
    assert (tmp_path / "probe.log").read_text() == "the last log record\n"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "python_jobs.cli", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=240, env=env)


def test_the_console_script_is_the_runner_with_the_fast_exit():
    import tomllib

    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["nba-props"] == "python_jobs.cli:run"


def test_cli_exit_statuses_and_output_through_the_fast_exit(tmp_path: Path):
    import os

    ok = _cli("--help")
    assert ok.returncode == 0 and "run-day" in ok.stdout
    bad = _cli("run-day", "--date", "not-a-date")
    assert bad.returncode == 2 and "is not a date" in bad.stderr
    where = tmp_path / "nowhere"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBA_PROPS_")}
    env |= {"NBA_PROPS_WAREHOUSE_DIR": str(where), "NBA_PROPS_DBT_TARGET": "ci"}
    status = _cli("status", "--json", env=env)
    assert status.returncode == 1, status.stderr[-2000:]   # no warehouse: exit 1, one JSON document
    doc = json.loads(status.stdout)
    assert doc["exists"] is False and doc["database_path"] == str((where / "nba_props.duckdb").resolve())


def test_dbt_log_file_is_at_info_unless_the_environment_says_debug(tmp_settings, monkeypatch):
    import shutil

    from python_jobs.dbt_runner import run_dbt

    log_file = tmp_settings.warehouse_dir / "logs" / "dbt.log"
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    run_dbt(["seed", "--select", "teams"], tmp_settings)
    at_info = log_file.read_text()
    shutil.rmtree(log_file.parent)
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    run_dbt(["seed", "--select", "teams"], tmp_settings)
    at_debug = log_file.read_text()
    # the node's own lines are in both files; the statements dbt sent only in the debug one
    for text in (at_info, at_debug):
        assert "1 of 1 START seed file" in text and "1 of 1 OK loaded seed file" in text
    assert "insert into" in at_debug.lower() and "insert into" not in at_info.lower()
    assert at_debug.count("[debug]") > 3 * max(at_info.count("[debug]"), 10)
