"""`nba-props backtest --json` on real bundled data: one JSON document on stdout, the same as the
``--output`` file (the oracle), and nothing else there (logs and model output go to stderr)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from python_jobs.config import PROJECT_ROOT
from tests.python.conftest import make_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def test_backtest_json_is_the_result_document_on_stdout(tmp_path):
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history

    settings = make_settings(tmp_path / "wh")
    ingest_history(settings, seasons=["2024-25"], until=date(2025, 3, 12))
    run_dbt(["build", "--selector", "through_phase4"], settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBA_PROPS_")}
    env.update(NBA_PROPS_WAREHOUSE_DIR=str(settings.warehouse_dir), NBA_PROPS_DUCKDB_PATH=str(settings.database_path),
               NBA_PROPS_DBT_TARGET="ci", PYTHONPATH=str(PROJECT_ROOT))
    out = tmp_path / "bt.json"
    res = subprocess.run([sys.executable, "-m", "python_jobs.cli", "backtest", "--start", "2025-03-10", "--end",
                          "2025-03-12", "--output", str(out), "--json"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    doc = json.loads(res.stdout)  # the whole of stdout is one document
    assert doc == json.loads(out.read_text())
    assert (doc["start"], doc["end"]) == ("2025-03-10", "2025-03-12")
    assert set(doc["systems"]) == {"rolling_average_v1", "catboost_v1", "ensemble_v1", "market_residual_v1"}
    assert "backtest anchor" in res.stderr  # the log went to stderr
