"""great_expectations (~6 s to import) stays off every command that does not validate.

Each case runs in a fresh interpreter (a subprocess) and reports whether ``great_expectations``
ended up in ``sys.modules``: importing the CLI with all its commands, ``nba-props --help`` and every
sub-command's ``--help``, and the modules of the ingest hot path, the report and the pipeline.
The last case is the positive control: running the checkpoint code does import it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT

pytestmark = pytest.mark.timeout(300)

_PROBE = """
import json, sys
{body}
print("GX_LOADED=" + json.dumps("great_expectations" in sys.modules))
"""


def _gx_loaded(body: str) -> bool:
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(body=body)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("GX_LOADED=")][-1]
    return json.loads(line.split("=", 1)[1])


CLI_HELP = """
from typer.main import get_command
from typer.testing import CliRunner
from python_jobs.cli import app
runner = CliRunner()
assert runner.invoke(app, ["--help"]).exit_code == 0
names = sorted(get_command(app).commands)
assert len(names) > 5, names
for name in names:
    r = runner.invoke(app, [name, "--help"])
    assert r.exit_code == 0, (name, r.output)
"""


@pytest.mark.parametrize(("case", "body"), [
    ("cli_import", "import python_jobs.cli"),
    ("cli_help_every_command", CLI_HELP),
    ("ingest_hot_path", "import python_jobs.landing, python_jobs.ingest, python_jobs.validation.records"),
    ("pipeline_and_report", "import python_jobs.pipeline, python_jobs.report.generator, "
                            "python_jobs.validation.gx_checkpoint"),
])
def test_great_expectations_not_imported(case: str, body: str) -> None:
    assert _gx_loaded(body) is False, f"{case} imported great_expectations"


def test_console_script_help_does_not_import_gx() -> None:
    """The installed ``nba-props --help`` itself (the console script), with Python's import log on."""
    script = Path(sys.executable).parent / "nba-props"
    assert script.exists(), script
    proc = subprocess.run([str(script), "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "import time:" in proc.stderr   # the import log is on: an empty match below means something
    assert "Usage" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    imported = [ln for ln in proc.stderr.splitlines() if "great_expectations" in ln]
    assert imported == []


def test_validating_imports_gx() -> None:
    """Control: the probe sees GX when the checkpoint code actually runs."""
    assert _gx_loaded("from python_jobs.validation.gx_checkpoint import GxRunner\nGxRunner()") is True
