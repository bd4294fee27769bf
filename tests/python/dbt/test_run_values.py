"""Per-run values (run_date, correlation_id, pipeline_run_id, ...) reach dbt without re-parsing.

``run_dbt`` passes them in the environment (macro ``run_var``), not as ``--vars``: dbt re-parses the
whole project whenever --vars change, so a new date used to cost a full parse. These tests check
that the saved parse no longer depends on the run values, that the values still reach the models
and the execution log of every invocation, and that the manifest ``run_dbt`` keeps in the process
follows edits to the project's files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.dbt_runner import RUN_VARS, RUN_VARS_ENV, _manifest_cache, run_dbt
from tests.python.conftest import make_settings, project_copy

SEED = ["seed", "--select", "teams"]   # one seed: fast, no raw data needed


def _saved_parse_vars_hash(settings: Settings) -> str:
    """The vars hash dbt stored with its saved parse (partial_parse.msgpack)."""
    from dbt.contracts.graph.manifest import Manifest

    saved = Manifest.from_msgpack((settings.dbt_target_path / "partial_parse.msgpack").read_bytes())
    return saved.state_check.vars_hash.checksum


def _log_rows(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return con.execute(
            "select run_id, correlation_id, flow, cast(game_date as varchar), node from raw.pipeline_execution_log"
            " where node = 'seed.nba_props.teams' order by logged_at").fetchall()


@pytest.mark.timeout(300)
def test_run_values_leave_the_saved_parse_unchanged(tmp_settings: Settings) -> None:
    run_dbt(["parse"], tmp_settings)
    plain = _saved_parse_vars_hash(tmp_settings)
    for day, run_id in (("2025-03-19", "run-one"), ("2025-03-20", "run-two")):
        _manifest_cache.clear()   # as in a fresh process: this invocation loads the saved parse
        run_dbt(SEED, tmp_settings, vars={"run_date": day, "correlation_id": f"c-{run_id}",
                                          "pipeline_run_id": run_id, "pipeline_flow": "daily",
                                          "stale_sources": ["nba.players"], "coverage_slo": 0.9})
        # the run values never reached dbt's parse: the saved parse is still the plain one
        assert _saved_parse_vars_hash(tmp_settings) == plain
    # the hash does follow real --vars (a var that is not a run value still re-parses, as it must)
    run_dbt(["parse"], tmp_settings, vars={"features_rebuild_from": "2025-01-01"})
    assert _saved_parse_vars_hash(tmp_settings) != plain


@pytest.mark.timeout(300)
def test_run_values_reach_every_invocation_and_do_not_leak(tmp_settings: Settings,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUN_VARS_ENV, raising=False)
    run_dbt(SEED, tmp_settings, vars={"run_date": "2025-03-19", "correlation_id": "corr-a",
                                      "pipeline_run_id": "run-a", "pipeline_flow": "daily"})
    run_dbt(SEED, tmp_settings, vars={"run_date": "2025-03-20", "correlation_id": "corr-b",
                                      "pipeline_run_id": "run-b", "pipeline_flow": "backfill"})
    run_dbt(SEED, tmp_settings)   # no run values: the project defaults (dbt's invocation id, 'manual')
    assert RUN_VARS_ENV not in os.environ
    # a user's own NBA_PROPS_DBT_RUN_VARS (README) is used when the call passes none, and kept
    user_value = '{"run_date": "2025-03-21", "pipeline_run_id": "run-env"}'
    monkeypatch.setenv(RUN_VARS_ENV, user_value)
    run_dbt(SEED, tmp_settings)
    run_dbt(SEED, tmp_settings, vars={"pipeline_run_id": "run-c"})   # explicit values win, for this call
    assert os.environ[RUN_VARS_ENV] == user_value
    rows = _log_rows(tmp_settings)
    assert rows[0] == ("run-a", "corr-a", "daily", "2025-03-19", "seed.nba_props.teams")
    assert rows[1] == ("run-b", "corr-b", "backfill", "2025-03-20", "seed.nba_props.teams")
    assert rows[2][1:] == ("manual", "dbt", None, "seed.nba_props.teams")
    assert rows[2][0] not in {"run-a", "run-b"}
    assert rows[3] == ("run-env", "manual", "dbt", "2025-03-21", "seed.nba_props.teams")
    assert rows[4] == ("run-c", "manual", "dbt", None, "seed.nba_props.teams")


@pytest.mark.timeout(300)
def test_run_date_reaches_the_tests_run_window(tmp_settings: Settings) -> None:
    """The data tests of a daily run read only the run window (macro run_window_start): the
    window is computed from run_date at execution, so it follows each invocation's date."""
    compiled = tmp_settings.dbt_target_path / "compiled" / "nba_props" / "models" / "staging" / "nba"
    for day, start in (("2025-03-19", "2025-02-17"), ("2024-12-31", "2024-12-01")):
        run_dbt(["compile", "--select", "source:nba.player_game_logs,test_type:generic"], tmp_settings,
                vars={"run_date": day})
        texts = [p.read_text() for p in compiled.rglob("source_accepted_range_nba_player_game_logs_points*.sql")]
        assert len(texts) == 1, "the source test was not compiled"
        # incremental_window_days = 30 before run_date, on the raw table's partition column
        assert f"where scraped_at >= cast('{start}' as timestamp)" in texts[0]


@pytest.mark.timeout(600)
def test_kept_manifest_follows_edits_to_the_project(tmp_path: Path) -> None:
    """The parsed manifest kept between invocations is dropped when a project file changes."""
    clone = project_copy(tmp_path / "project")
    settings = make_settings(tmp_path / "warehouse").model_copy(update={"home": clone})
    run_dbt(SEED, settings)
    (clone / "seeds" / "speed_probe.csv").write_text("probe_id,label\n1,a\n2,b\n")
    run_dbt(["seed", "--select", "speed_probe"], settings)
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        assert con.execute("select count(*) from reference.speed_probe").fetchone()[0] == 2


def test_every_run_value_is_read_through_run_var() -> None:
    """A model or macro reading a run value with var() would get the project default in a
    pipeline run (the values are no longer --vars): every read goes through run_var()."""
    pattern = re.compile(r"""\bvar\(\s*['"](""" + "|".join(sorted(RUN_VARS)) + r""")['"]""")
    offenders = [f"{path.relative_to(PROJECT_ROOT)}:{n}: {line.strip()}"
                 for folder in ("models", "macros", "tests", "snapshots", "analyses")
                 for path in sorted((PROJECT_ROOT / folder).rglob("*.sql"))
                 if path.name != "run_var.sql"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
    # and the pattern does find such a read (the check can fail)
    assert pattern.search("{{ var('run_date', none) }}") and pattern.search('var("correlation_id")')

