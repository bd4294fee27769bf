"""The CLI in scripts: `status` on a missing warehouse, `--json` documents on stdout (logs on
stderr), progress bars only on a terminal."""

from __future__ import annotations

import gzip
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from python_jobs.cli import app
from python_jobs.config import PROJECT_ROOT, reset_settings

pytestmark = pytest.mark.timeout(300)

SAMPLES = sorted((PROJECT_ROOT / "data" / "api_samples" / "odds_api").glob("event_odds_player_points_*.json.gz"))


def _env(warehouse_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBA_PROPS_")}
    return {**env, "NBA_PROPS_WAREHOUSE_DIR": str(warehouse_dir), "NBA_PROPS_DBT_TARGET": "ci",
            "PYTHONPATH": str(PROJECT_ROOT)}


def _outcomes(path: Path) -> int:
    """Lines in an Odds API event-odds file (one Over outcome each), counted in plain Python."""
    doc = json.loads(gzip.decompress(path.read_bytes()))
    return sum(o["name"] == "Over" for b in doc["bookmakers"] for m in b["markets"] for o in m["outcomes"])


@pytest.mark.parametrize("args", [["status"], ["status", "--json"]])
def test_status_without_a_warehouse_says_so_and_creates_nothing(args, tmp_path: Path, monkeypatch):
    where = tmp_path / "nowhere"
    monkeypatch.setenv("NBA_PROPS_WAREHOUSE_DIR", str(where))
    monkeypatch.delenv("NBA_PROPS_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("NBA_PROPS_DBT_TARGET", "ci")
    reset_settings()
    try:
        res = CliRunner().invoke(app, args)
    finally:
        reset_settings()
    assert res.exit_code == 1, res.output
    assert not where.exists()  # no folder, no DuckDB file, no lock file
    if "--json" in args:
        doc = json.loads(res.stdout)
        assert doc["exists"] is False and doc["reachable"] is False and doc["healthy"] is False
        assert doc["database_path"] == str((where / "nba_props.duckdb").resolve())
    else:
        assert "no warehouse at" in res.output and "reachable" not in res.output


def test_import_and_status_print_one_json_document_each(tmp_path: Path):
    env = _env(tmp_path / "wh")
    imp = subprocess.run([sys.executable, "-m", "python_jobs.cli", "import", *map(str, SAMPLES), "--json"],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert imp.returncode == 0, imp.stderr
    doc = json.loads(imp.stdout)  # stdout holds the document and nothing else (logs went to stderr)
    assert [f["path"] for f in doc["files"]] == [str(p) for p in SAMPLES]
    assert {f["kind"] for f in doc["files"]} == {"odds_api/event_odds"}
    assert {f["status"] for f in doc["files"]} == {"landed"} and doc["exit_code"] == 0
    for f, path in zip(doc["files"], SAMPLES, strict=True):
        assert f["records"] == _outcomes(path) and f["valid"] + f["quarantined"] == f["records"]
    assert "━" not in imp.stderr and f"{len(SAMPLES)}/{len(SAMPLES)}" not in imp.stderr  # no bar in a pipe

    st = subprocess.run([sys.executable, "-m", "python_jobs.cli", "status", "--json"],
                        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    status = json.loads(st.stdout)
    assert status["exists"] is True and status["reachable"] is True
    sources = {(s["source"], s["endpoint"]): s for s in status["sources"]}
    assert sources[("odds_api", "event_odds")]["n_payloads"] == len(SAMPLES)
    assert status["last_runs"] == []  # an import is a scrape run, not a pipeline run


def _run_in_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; everything it drew."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "python_jobs.cli", *args], cwd=PROJECT_ROOT,
                            env={**env, "TERM": "xterm-256color", "COLUMNS": "200"},
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=240)
    os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_import_draws_a_progress_bar_on_a_terminal_only(tmp_path: Path):
    env = _env(tmp_path / "wh")
    drawn = _run_in_a_terminal(["import", *map(str, SAMPLES)], env)
    # the bar: label, bar and files done of total (the table on stdout has no "n/n")
    assert f"{len(SAMPLES)}/{len(SAMPLES)}" in drawn and "━" in drawn, drawn[-2000:]
    piped = subprocess.run([sys.executable, "-m", "python_jobs.cli", "import", *map(str, SAMPLES)],
                           cwd=PROJECT_ROOT, env=_env(tmp_path / "wh2"), capture_output=True, text=True, timeout=240)
    assert piped.returncode == 0, piped.stderr
    assert "━" not in piped.stderr  # the bar draws on stderr; stdout has the result table
    assert f"{len(SAMPLES)}/{len(SAMPLES)}" not in piped.stdout + piped.stderr


def test_ingest_draws_a_progress_bar_on_a_terminal(tmp_path: Path):
    """One season before the bundled lines: its game log, its schedule and the players = 3 steps."""
    env = _env(tmp_path / "wh")
    drawn = _run_in_a_terminal(["ingest", "--seasons", "2015-16", "--until", "2015-11-01"], env)
    assert "3/3" in drawn and "players" in drawn, drawn[-2000:]
    piped = subprocess.run([sys.executable, "-m", "python_jobs.cli", "ingest", "--seasons", "2015-16", "--until",
                            "2015-11-01"], cwd=PROJECT_ROOT, env=_env(tmp_path / "wh2"), capture_output=True,
                           text=True, timeout=240)
    assert piped.returncode == 0, piped.stderr
    assert "3/3" not in piped.stdout + piped.stderr
