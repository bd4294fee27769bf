"""Run-order independence (issue #11, point 6): the players and every feature of date D depend only
on what was known on D's morning, whatever later dates the warehouse already holds.

The real case: running 2025-03-22 before 2025-03-21 used to drop the players who then did not play
from 03-21 (their roster rows came from the registry, and a date whose box scores had already
landed lost them), so 03-21 got 96 players fewer than when run alone."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from python_jobs.config import Settings
from tests.python.conftest import copy_warehouse, make_settings
from tests.python.features.conftest import build_features, ingest_and_build
from tests.python.features.test_feature_store import _assert_same_rows, _rows

DAY = date(2025, 3, 21)


def _run_date(settings: Settings, day: date) -> None:
    """What run-day does for phases 1-4 of one date: the morning landing, staging, features."""
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import land_day

    land_day(settings, day)
    run_dbt(["run", "--select", "tag:phase2"], settings, vars={"run_date": day.isoformat()})
    build_features(settings, vars={"run_date": day.isoformat()})


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The 2024-25 season landed and built up to the day before DAY (read-only: copy it)."""
    return ingest_and_build(make_settings(tmp_path_factory.mktemp("run_order_base")), until=DAY - timedelta(days=1))


def test_a_later_date_run_first_changes_nothing_for_the_earlier_date(base: Settings, tmp_path: Path) -> None:
    alone = copy_warehouse(base, tmp_path / "alone")
    _run_date(alone, DAY)
    expected = _rows(alone, f"game_date = '{DAY}'")

    reversed_order = copy_warehouse(base, tmp_path / "reversed")
    _run_date(reversed_order, DAY + timedelta(days=1))
    _run_date(reversed_order, DAY)
    got = _rows(reversed_order, f"game_date = '{DAY}'")

    # the morning of D: every team of the slate has its roster, no labels are known yet
    assert len(expected) > 300
    assert all(r["is_upcoming"] and r["actual_points"] is None for r in expected)
    _assert_same_rows(got, expected)


def test_reconcile_finds_no_drift_after_the_next_days_run(base: Settings, tmp_path: Path) -> None:
    """Fault-free: the run for D records its Phase 4 rows, the run for D+1 rebuilds D with its results
    (the morning's registry guesses give way to the players who played): reconcile reports nothing.
    A real loss (D's feature rows deleted) is still found."""
    from python_jobs.ops import records
    from python_jobs.ops.counts import count_phase
    from python_jobs.ops.guard import short_write
    from python_jobs.ops.reconcile import reconcile

    settings = copy_warehouse(base, tmp_path / "reconcile")
    for day in (DAY, DAY + timedelta(days=1)):
        _run_date(settings, day)
        with short_write(settings) as con:
            n = count_phase(con, "phase4", day)
        records.record_completion(settings, game_date=day, phase="phase4", run_id=f"run-{day}",
                                  correlation_id="test", status="complete", row_count=n,
                                  recorded_by="test", recorded_at=settings.utcnow())
    rows = reconcile(settings, dates=[DAY])
    assert [(r.phase, r.action) for r in rows] == [("phase4", "ok")], rows
    assert rows[0].recorded_count and rows[0].actual_count  # D's rows were rebuilt, not lost

    with short_write(settings) as con:
        con.execute("delete from precompute.ml_feature_store where game_date = ?", [DAY])
    rows = reconcile(settings, dates=[DAY], dry_run=True)
    assert [(r.phase, r.action) for r in rows] == [("phase4", "marked_incomplete")], rows
