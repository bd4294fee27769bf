"""Phase 6 entry point: build the grading models for a date (the SQL lives in models/grading)."""

from __future__ import annotations

from datetime import date

from python_jobs.config import Settings
from python_jobs.dbt_runner import DbtOutcome, run_dbt


def grade_date(settings: Settings, game_date: date, *, correlation_id: str = "manual") -> DbtOutcome:
    """``dbt build --selector phase6`` with run_date = the graded date (checks its coverage SLO)."""
    return run_dbt(["build", "--selector", "phase6"], settings,
                   vars={"run_date": game_date.isoformat(), "correlation_id": correlation_id})
