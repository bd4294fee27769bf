"""The CLI in pipes and scripts: usage errors exit 2 with one line, tables keep their full width."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from python_jobs.cli import app
from python_jobs.config import PROJECT_ROOT

pytestmark = pytest.mark.timeout(120)

BAD = "2025-13-45"


@pytest.mark.parametrize("args", [
    ["run-day", "--date", BAD],
    ["backfill", "--start", BAD, "--end", "2025-03-20"],
    ["backfill", "--start", "2025-03-01", "--end", BAD],
    ["trace", "--player", "Jokic", "--date", BAD],
    ["ingest", "--until", BAD],
    ["score", "--date", BAD],
    ["report", "--date", BAD],
])
def test_a_bad_date_is_a_usage_error_not_a_traceback(args, tmp_settings):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert f"'{BAD}' is not a date (YYYY-MM-DD)" in res.output
    assert "Traceback" not in res.output
    # nothing was created for a command that never started
    assert not tmp_settings.database_path.exists()


def test_backfill_end_before_start_is_a_usage_error(tmp_settings):
    res = CliRunner().invoke(app, ["backfill", "--start", "2025-03-20", "--end", "2025-03-01"])
    assert res.exit_code == 2
    assert "before --start" in res.output


def test_tables_are_not_cut_at_80_columns_in_a_pipe():
    code = (
        "from rich.table import Table\n"
        "from python_jobs.commands._common import make_console\n"
        "t = Table('game_date', 'checked_at', 'message')\n"
        "t.add_row('2025-03-19', '2025-03-19T15:00:00+00:00', 'x' * 150)\n"
        "make_console().print(t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    row = next(line for line in out.splitlines() if "2025-03-19" in line)
    assert "2025-03-19T15:00:00+00:00" in row and "x" * 150 in row
    assert "…" not in out
