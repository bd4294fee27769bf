"""The writer guard per engine: DuckDB retries a file held by another process; BigQuery has no file lock."""

from __future__ import annotations

import subprocess
import sys
import threading

from python_jobs.ops.guard import guard_path, short_write, warehouse_guard


def test_short_write_waits_for_a_duckdb_file_held_by_an_outside_process(tmp_settings):
    with short_write(tmp_settings) as wh:  # create the file and the raw layer
        wh.execute("create table main.marks (n integer)")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(tmp_settings.database_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        releaser = threading.Timer(1.0, holder.stdin.close)  # the outside writer goes away
        releaser.start()
        with short_write(tmp_settings, timeout=60) as wh:
            wh.execute("insert into main.marks values (?)", [1])
        releaser.join()
    finally:
        if not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=30)
    with short_write(tmp_settings) as wh:
        assert wh.fetchall("select n from main.marks") == [(1,)]


def _probe(path) -> str:
    """'held' or 'free': the guard's file lock as another process sees it."""
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from filelock import FileLock, Timeout\n"
         "try:\n    FileLock(sys.argv[1]).acquire(timeout=0); print('free')\n"
         "except Timeout:\n    print('held')",
         str(path)], capture_output=True, text=True, timeout=60)
    return probe.stdout.strip()


def test_the_guard_takes_no_file_lock_for_a_bigquery_target(tmp_settings):
    prod = tmp_settings.model_copy(update={"dbt_target": "prod"})
    assert prod.engine == "bigquery"
    with warehouse_guard(tmp_settings):
        assert _probe(guard_path(tmp_settings)) == "held"
    with warehouse_guard(prod):
        assert _probe(guard_path(prod)) == "free"
