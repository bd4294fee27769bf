"""The daily pipeline on real data: one season of bundled history landed through replay up to
2025-03-18, then the run for 2025-03-19 (a demo date with bundled prop lines).

- `nba-props run-day` and the Prefect `daily` flow leave the same warehouse state;
- a run killed with SIGKILL in the middle of Phase 2, rerun and killed again in the middle of
  Phase 5, then rerun to the end, leaves tables identical to an uninterrupted run;
- the tiered source wait proceeds without a missing source and records the gap (fake clock).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from python_jobs.ops.clock import FakeClock
from python_jobs.ops.guard import short_write
from python_jobs.pipeline import default_steps, progress_path, run_day
from tests.python.conftest import copy_warehouse, make_settings

D = date(2025, 3, 19)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ("staging", "analytics", "precompute", "predictions", "grading", "snapshots")
RAW_RECORDS = ("nba_player_game_logs", "nba_schedule_games", "nba_players", "odds_player_props")
# columns that legitimately differ between two runs of the same date: wall-clock times, run and
# payload ids (a re-landed payload is a logged duplicate), model versions (stamped at training)
VOLATILE_SUFFIXES = ("_at", "run_id", "payload_id", "correlation_id", "model_version")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    from python_jobs.ingest import ingest_history

    settings = make_settings(tmp_path_factory.mktemp("ops_history"))
    ingest_history(settings, seasons=["2024-25"], until=date(2025, 3, 18))
    return settings


@pytest.fixture(scope="module")
def reference(history, tmp_path_factory):
    """An uninterrupted `run_day` for D on a copy of the history."""
    settings = copy_warehouse(history, tmp_path_factory.mktemp("ops_reference"))
    result = run_day(settings, D)
    assert result.status in ("succeeded", "slo_failed"), result
    assert [s.name for s in result.steps] == [s.name for s in default_steps()]
    return settings


def snapshot(settings) -> dict[str, list[tuple]]:
    """Every modelled table and the raw record tables, without volatile columns, rows sorted."""
    out: dict[str, list[tuple]] = {}
    with short_write(settings) as con:
        tables = con.fetchall(
            "select table_schema, table_name from information_schema.tables where table_schema in "
            f"({', '.join('?' * len(SCHEMAS))}) or (table_schema = 'raw' and table_name in "
            f"({', '.join('?' * len(RAW_RECORDS))})) order by 1, 2", [*SCHEMAS, *RAW_RECORDS])
        for schema, table in tables:
            cols = [c for (c,) in con.fetchall(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "order by ordinal_position", [schema, table])
                if not c.endswith(VOLATILE_SUFFIXES) and not c.startswith("dbt_")]
            select = ", ".join(f'round("{c}", 6)' if _is_float(con, schema, table, c) else f'"{c}"' for c in cols)
            out[f"{schema}.{table}"] = con.fetchall(f'select {select} from "{schema}"."{table}" order by all')
    return out


def _is_float(con, schema, table, column) -> bool:
    dtype = con.fetchone("select data_type from information_schema.columns where table_schema = ? and "
                        "table_name = ? and column_name = ?", [schema, table, column])[0]
    return dtype in ("DOUBLE", "FLOAT", "REAL")


def _env(settings) -> dict[str, str]:
    # the child's database is named explicitly: a path set in this environment must not redirect it
    return {**os.environ, "NBA_PROPS_DUCKDB_PATH": str(settings.database_path),
            "NBA_PROPS_WAREHOUSE_DIR": str(settings.warehouse_dir), "NBA_PROPS_DBT_TARGET": "ci",
            "PYTHONPATH": str(PROJECT_ROOT)}


def test_run_day_builds_every_phase_and_logs_it(reference):
    with short_write(reference) as con:
        steps = con.fetchall("select node, status from raw.pipeline_execution_log where node_type = 'step' "
                            "order by started_at")
        assert [n for n, _ in steps] == [s.name for s in default_steps()]
        assert {s for _, s in steps} == {"success"}
        # dbt's on-run-end hook logged every node of every phase with the run's correlation id
        run_id, correlation_id = con.fetchone("select run_id, correlation_id from raw.pipeline_runs")
        per_phase = dict(con.fetchall(
            "select phase, count(*) from raw.pipeline_execution_log where node_type <> 'step' and run_id = ? "
            "and correlation_id = ? group by 1", [run_id, correlation_id]))
        assert {"phase2", "phase3", "phase4", "phase5", "phase6", "monitoring"} <= set(per_phase), per_phase
        # the correlation id reached the scrape run of the morning landing
        assert con.fetchone("select count(*) from raw.scrape_runs where correlation_id = ?",
                           [correlation_id])[0] == 1
        completions = dict(con.fetchall("select phase, status from raw.phase_completions"))
        assert completions == dict.fromkeys(["phase1", "phase2", "phase3", "phase4", "phase5", "phase6"], "complete")
        assert con.fetchone("select count(*) from predictions.player_prop_predictions where game_date = ?",
                           [D])[0] > 0
    # a repeat with the same inputs is a no-op
    assert run_day(reference, D).status == "noop"


def test_every_dbt_node_runs_once_a_day_and_the_gate_tests_before_any_phase2_model(reference):
    """The gate's source tests ran twice a day (the gate, then again in phase2): now once, in the
    gate, before any Phase 2 model starts. dbt unit tests (fixture rows, not the day's data) run in
    CI and a developer's `dbt build` (tests/python/dbt/test_fresh_clone.py), not in the daily run."""
    from collections import Counter

    with short_write(reference) as con:
        (run_id,) = con.fetchone("select run_id from raw.pipeline_runs where status in ('succeeded', 'slo_failed')")
        rows = con.fetchall("select node, node_type, phase, started_at, finished_at from raw.pipeline_execution_log "
                            "where run_id = ? and node_type <> 'step'", [run_id])
    runs_per_node = Counter(node for node, *_ in rows)
    assert [n for n, c in runs_per_node.items() if c > 1] == []
    # dbt names a generic test on a source `source_<test>_<source>_<table>_...`
    source_tests = {node for node, kind, *_ in rows if kind == "test" and node.startswith("test.nba_props.source_")}
    gate_tests = {node for node, kind, phase, *_ in rows if kind == "test" and phase == "gate"}
    assert source_tests and gate_tests == source_tests
    last_gate_test = max(finished for node, _, _, _, finished in rows if node in gate_tests)
    first_phase2_model = min(started for _, kind, phase, started, _ in rows if kind == "model" and phase == "phase2")
    assert last_gate_test <= first_phase2_model
    assert [node for node, kind, *_ in rows if kind == "unit_test"] == []


def test_a_failing_source_test_stops_the_run_at_the_gate_before_phase2(history, tmp_path):
    """A landed row that breaks a source test (market_key must be 'player_points') fails the gate:
    no Phase 2 node runs, no phase2 completion is recorded. Phase 2 no longer repeats the source
    tests, so the gate is the only place they run: this is what guarantees it still stops."""
    from python_jobs.pipeline import PipelineFailed

    settings = copy_warehouse(history, tmp_path / "bad_source")
    with short_write(settings) as con:
        con.execute("insert into raw.odds_player_props select * replace ('player_rebounds' as market_key, "
                    "record_index + 1000000 as record_index) from raw.odds_player_props "
                    "where scraped_at = (select max(scraped_at) from raw.odds_player_props) limit 1")
    with pytest.raises(PipelineFailed) as failed:
        run_day(settings, D)
    assert failed.value.step == "gate"
    run_id = failed.value.result.run_id
    with short_write(settings) as con:
        logged = con.fetchall("select phase, node, status from raw.pipeline_execution_log where run_id = ? "
                              "and node_type = 'test' and status <> 'pass'", [run_id])
        assert [(phase, status) for phase, node, status in logged if "market_key" in node] == [("gate", "fail")]
        # the run's steps: land, then the gate that failed; its dbt nodes: freshness checks and source tests
        assert con.fetchall("select node, status from raw.pipeline_execution_log where run_id = ? "
                            "and node_type = 'step' order by started_at", [run_id]) == [("land", "success"),
                                                                                        ("gate", "error")]
        assert con.fetchall("select distinct node_type from raw.pipeline_execution_log where run_id = ? "
                            "order by 1", [run_id]) == [("source",), ("step",), ("test",)]
        assert con.fetchone("select count(*) from raw.phase_completions where run_id = ? and phase = 'phase2'",
                            [run_id]) == (0,)


def test_prefect_daily_flow_leaves_the_same_state_as_run_day(history, reference, tmp_path, monkeypatch):
    from flows._prefect_env import configure_prefect

    configure_prefect(Path(tempfile.mkdtemp(prefix="nba-props-test-prefect-")))
    from flows.daily import daily
    from python_jobs.config import reset_settings

    settings = copy_warehouse(history, tmp_path / "prefect")
    monkeypatch.setenv("NBA_PROPS_WAREHOUSE_DIR", str(settings.warehouse_dir))
    monkeypatch.setenv("NBA_PROPS_DBT_TARGET", "ci")
    reset_settings()
    try:
        state = daily(game_date=D.isoformat(), return_state=True)
    finally:
        reset_settings()
    assert state.is_completed() or "SLO" in (state.message or ""), state
    assert snapshot(settings) == snapshot(reference)


def _wait_for_phase_then_kill(proc: subprocess.Popen, settings, step: str, schema: str, output: Path) -> None:
    """SIGKILL the run once its step `step` is running AND dbt has created one `schema` relation in
    it (so the phase is half done), or fail if the run gets past it first."""
    progress, log = progress_path(settings, D), settings.warehouse_dir / "logs" / "dbt.log"
    offset = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"run ended before {step}: {output.read_text()[-5000:]}"
        info = _json(progress)
        if info.get("step") == step and offset is None:
            offset = log.stat().st_size if log.exists() else 0
        elif offset is None and info.get("step") in _after(step):
            pytest.fail(f"run got past {step} before it could be killed")
        if offset is not None and log.exists():
            with open(log, encoding="utf-8", errors="replace") as fh:
                fh.seek(offset)
                if any("OK created" in line and f" {schema}." in line for line in fh):
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=60)
                    assert proc.returncode == -signal.SIGKILL
                    return
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{step} never started: {output.read_text()[-5000:]}")


def _json(path: Path) -> dict:
    import json

    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _after(step: str) -> list[str]:
    names = [s.name for s in default_steps()]
    return names[names.index(step) + 1:]


def test_sigkill_in_phase2_then_in_phase5_then_rerun_equals_an_uninterrupted_run(history, reference, tmp_path):
    settings = copy_warehouse(history, tmp_path / "killed")
    cmd = [sys.executable, "-m", "python_jobs.cli", "run-day", "--date", D.isoformat()]
    for step, schema in (("phase2", "staging"), ("phase5", "predictions")):
        # output to a file, not a pipe: nobody reads a pipe while the run goes on, and a full pipe
        # buffer would block the child in the middle of a phase
        output = tmp_path / f"run_killed_in_{step}.log"
        with open(output, "w") as out:
            proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=_env(settings), stdout=out,
                                    stderr=subprocess.STDOUT, text=True)
            _wait_for_phase_then_kill(proc, settings, step, schema, output)
        with short_write(settings) as con:
            # the killed run's ledger row stays 'running' and its lock is not released
            assert con.fetchone("select status from raw.pipeline_runs order by started_at desc limit 1") == (
                "running",)
            assert con.fetchone("select released_at from raw.pipeline_locks") == (None,)
    # the rerun takes over the dead holder's lock (no waiting for the expiry), records the two
    # killed runs as abandoned (#11.7f) and completes
    result = run_day(settings, D)
    assert result.status in ("succeeded", "slo_failed")
    with short_write(settings) as con:
        assert con.fetchone("select taken_over_from is not null from raw.pipeline_locks") == (True,)
        assert con.fetchall("select status, count(*) from raw.pipeline_runs group by 1 order by 1") == [
            ("abandoned", 2), (result.status, 1)]
    assert snapshot(settings) == snapshot(reference)


def test_a_missing_source_proceeds_with_four_of_five_and_records_the_gap(history, tmp_path):
    """Replay cannot make a source late, so the probe hides the odds props; the fake clock makes
    the hour of waiting instant. The run proceeds after 1 h with 4 of 5 and records the gap."""
    from python_jobs import pipeline

    settings = copy_warehouse(history, tmp_path / "gap")
    real = pipeline.ready_sources

    def without_props(s, d, names):
        return [n for n in real(s, d, names) if n != "odds_player_props"]

    start = datetime(2025, 3, 19, 14, 0, tzinfo=UTC)
    clock = FakeClock(start)
    pipeline.ready_sources = without_props
    try:
        result = run_day(settings, D, clock=clock, steps=default_steps()[:1], flow="gap-test")
    finally:
        pipeline.ready_sources = real
    assert result.status == "succeeded"
    with short_write(settings) as con:
        rows = dict(con.fetchall("select source_name, status from raw.source_waits"))
        assert rows.pop("odds_player_props") == "missing" and set(rows.values()) == {"arrived"}
        assert con.fetchall("select distinct tier from raw.source_waits") == [("4_of_5",)]
        assert con.fetchall("select alert_type, subject from raw.alerts") == [
            ("missing_source", "odds_player_props")]
        detail = con.fetchone("select rows_out from raw.pipeline_execution_log where node = 'land'")
        assert detail is not None


def test_trace_follows_a_prediction_back_to_its_payloads_and_scrape_runs(reference):
    from typer.testing import CliRunner

    from python_jobs.cli import app
    from python_jobs.ops.trace import find_predictions, trace_prediction

    with short_write(reference) as con:
        pid, player_id, feature_row_id = con.fetchone(
            "select prediction_id, player_id, feature_row_id from predictions.player_prop_predictions "
            "where game_date = ? and line_source = 'consensus_main' and system_id = 'catboost_v1' "
            "order by player_id limit 1", [D])
    tr = {sec.title.split(" (")[0]: sec for sec in trace_prediction(reference, pid).sections}
    assert tr["predictions"].rows[0]["player_id"] == player_id
    assert tr["scoring runs"].rows and tr["scoring runs"].rows[0]["recommendation"] in ("OVER", "UNDER", "PASS")
    # the run stored the features it scored with, and nothing rebuilt them since
    assert tr["scoring runs"].rows[0]["feature_values_hash"]
    assert not any(r["changed"] for r in tr["feature values: as scored vs today"].rows)
    assert tr["feature row"].rows[0]["feature_row_id"] == feature_row_id
    games = next(sec for title, sec in tr.items() if title.startswith("staged box scores"))
    assert games.rows and all(g["game_date"] < D for g in games.rows)   # only games before D
    lines = tr["staged prop lines behind the consensus line"].rows
    assert any(line["is_main_line"] for line in lines)
    payload_sources = {p["source"] for p in tr["raw payloads"].rows}
    assert payload_sources == {"stats_nba", "odds_api"}, payload_sources
    assert {p["payload_id"] for p in tr["raw payloads"].rows} == {
        r["source_payload_id"] for r in games.rows + lines}
    assert {r["scrape_run_id"] for r in tr["scrape runs"].rows} == {p["scrape_run_id"] for p in tr["raw payloads"].rows}

    # by player and date, from the CLI
    assert pid in find_predictions(reference, str(player_id), D)
    env = {"NBA_PROPS_WAREHOUSE_DIR": str(reference.warehouse_dir), "NBA_PROPS_DBT_TARGET": "ci",
           "NBA_PROPS_DUCKDB_PATH": str(reference.database_path), "COLUMNS": "250"}
    from python_jobs.config import reset_settings

    reset_settings()
    try:
        out = CliRunner().invoke(app, ["trace", "--player", str(player_id), "--date", D.isoformat()], env=env)
    finally:
        reset_settings()
    assert out.exit_code == 0, out.output
    assert "raw payloads" in out.output and "scrape runs" in out.output


def test_status_reports_the_last_run_of_every_phase_and_the_sources(reference):
    from python_jobs.ops.status import status

    rep = status(reference)
    assert rep.reachable and rep.healthy, rep
    assert {s["step"] for s in rep.last_steps} == {s.name for s in default_steps()}
    assert {s["status"] for s in rep.last_steps} == {"success"}
    assert rep.last_runs and rep.last_runs[0]["status"] in ("succeeded", "noop")
    assert rep.sources


def test_monitoring_detects_a_duplicate_key_and_reconcile_repairs_a_drifted_completion(reference, tmp_path):
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ops import monitor
    from python_jobs.ops.config import load_ops_config
    from python_jobs.ops.reconcile import reconcile

    settings = copy_warehouse(reference, tmp_path / "drift")
    with short_write(settings) as con:
        # one box-score row written twice (what a DELETE+INSERT fallback used to do) ...
        con.execute("insert into staging.stg_nba__player_game_logs select * from staging.stg_nba__player_game_logs "
                    "where game_date = ? order by player_id limit 1", [D.replace(day=D.day - 1)])
        # ... and the predictions of D lost after their completion was recorded
        n_predictions = con.fetchone("delete from predictions.player_prop_predictions where game_date = ?",
                                    [D])[0]
    assert n_predictions > 0
    run_dbt(["build", "--selector", "monitoring"], settings, vars={"run_date": D.isoformat()})
    with short_write(settings) as con:
        dup = con.fetchone("select has_duplicates, n_duplicate_keys, n_duplicate_rows from "
                          "monitoring.monitoring_duplicate_keys where checked_relation = "
                          "'staging.stg_nba__player_game_logs'")
        assert dup == (True, 1, 2)
        clean = con.fetchone("select count(*) from monitoring.monitoring_duplicate_keys where has_duplicates")
        assert clean == (1,)
        found = monitor.collect(con, D, load_ops_config())
    kinds = {(a.alert_type, a.subject) for a in found.alerts}
    assert ("duplicate_keys", "staging.stg_nba__player_game_logs") in kinds
    assert found.slo_failures  # no prediction left for D: the coverage SLO fails

    rows = {(r.game_date, r.phase): r for r in reconcile(settings, dates=[D])}
    assert rows[(D, "phase5")].action == "marked_incomplete"
    assert rows[(D, "phase5")].recorded_count == n_predictions and rows[(D, "phase5")].actual_count == 0
    assert rows[(D, "phase4")].action == "ok"


def test_report_of_the_real_run_has_one_pick_row_per_player(reference, tmp_path):
    """The report on the warehouse the real pipeline built (the synthetic report tests pin the
    figures; this one pins that the real tables feed every page)."""
    import re

    from python_jobs.report.generator import generate_report

    site = generate_report(reference, D, output_dir=tmp_path / "site")
    with short_write(reference) as con:
        n_predictions, n_players = con.fetchone(
            "select count(*), count(distinct player_id) from predictions.player_prop_predictions where game_date = ?",
            [D])
        recs = {f"{s}:{r}" for s, r in con.fetchall(
            "select system_id, recommendation from predictions.player_prop_predictions where game_date = ?", [D])}
    html = site.index_path.read_text()
    rows = re.findall(r'<tr data-player="[^"]*" data-recs="([^"]*)" data-rec="([^"]+)"', html)
    assert site.n_predictions == n_predictions and len(rows) == n_players > 0
    assert {x for recs_of_player, _ in rows for x in recs_of_player.split()} <= recs
    for page in ("performance.html", "players.html", "health.html"):
        assert (site.output_dir / page).stat().st_size > 0
    assert site.n_players == len(list((site.output_dir / "players").glob("*.html"))) > 0
