"""Plain dbt, as dbt users run it, in a fresh clone: `dbt build --profiles-dir .` with no wrapper,
no environment and no warehouse creates the raw layer itself (on-run-start) and builds every
model, seed, snapshot and test on the empty warehouse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from python_jobs.config import PROJECT_ROOT

DBT_TIMEOUT_S = 600


def _tracked_files_copy(destination: Path) -> None:
    """A fresh clone: exactly the files git tracks (committed or staged), nothing generated."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, check=True,
                            capture_output=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def test_plain_dbt_build_succeeds_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "nba-props"
    _tracked_files_copy(clone)
    assert (clone / "warehouse").is_dir(), "the warehouse directory must exist in a clone"
    assert not (clone / "warehouse" / "nba_props.duckdb").exists()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBA_PROPS_", "DBT_")) and k != "VIRTUAL_ENV"}
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run([str(dbt), "build", "--profiles-dir", "."], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=DBT_TIMEOUT_S)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Completed successfully" in output
    assert "PropertyMovedToConfigDeprecation" not in output
    with duckdb.connect(str(clone / "warehouse" / "nba_props.duckdb"), read_only=True) as con:
        raw = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
        built = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'predictions' "
            "and table_name = 'player_prop_predictions'").fetchone()[0]
        logged = con.execute("select count(*) from raw.pipeline_execution_log").fetchone()[0]
    assert {"scrape_runs", "nba_player_game_logs", "odds_player_props", "prediction_scores", "alerts"} <= raw
    assert len(raw) == 16  # every raw source of the YAML (tests/python/dbt/test_raw_layer.py)
    assert built == 1
    assert logged > 300  # the on-run-end hook found its table and logged every node
