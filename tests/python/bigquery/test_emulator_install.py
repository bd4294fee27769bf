"""``.ci/bq-emulator.sh`` leaves an emulator that starts offline and answers; a rerun is a no-op."""

from __future__ import annotations

import os
import subprocess

import httpx

from python_jobs.config import PROJECT_ROOT
from tests.python.bigquery.emulator import emulator_dir

SCRIPT = PROJECT_ROOT / ".ci" / "bq-emulator.sh"


def test_install_script_is_idempotent_and_pins_versions(bq_emulator: str) -> None:
    """The emulator fixture started from the installed venv; rerunning the script changes nothing."""
    marker = emulator_dir() / "installed.sha256"
    before = marker.stat().st_mtime_ns
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env={**os.environ}, check=False)
    assert done.returncode == 0, done.stderr
    assert "already installed" in done.stdout
    assert marker.stat().st_mtime_ns == before
    requirements = (PROJECT_ROOT / ".ci" / "bq-emulator-requirements.txt").read_text().splitlines()
    pins = [line for line in requirements if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    assert {"bqemulator==1.4.0", "duckdb==1.5.5", "duckdb-extension-spatial==1.5.5"} <= set(pins)
    assert httpx.get(f"{bq_emulator}/healthz", timeout=5).json() == {"status": "ok", "version": "1.4.0"}

