"""Ops writes that changed shape at the boundary: alerts are insert-if-absent (no ON CONFLICT, which
BigQuery lacks) and source waits are one Arrow load."""

from __future__ import annotations

from datetime import UTC, date, datetime

from python_jobs.ops import records
from python_jobs.ops.guard import short_write

D = date(2025, 3, 19)
T = datetime(2025, 3, 19, 15, 0, tzinfo=UTC)


def test_alerts_are_raised_once_per_type_subject_and_date(tmp_settings):
    late = records.Alert("late_data", "warning", "odds", "odds arrived late", D)
    missing = records.Alert("missing_source", "warning", "schedule", "schedule missing", D)
    # the same alert twice in one batch counts once
    assert records.raise_alerts(tmp_settings, [late, missing, late], run_id="r1", correlation_id="c1", raised_at=T) == 2
    assert records.raise_alerts(tmp_settings, [late, missing], run_id="r2", correlation_id="c2", raised_at=T) == 0
    next_day = records.Alert("late_data", "warning", "odds", "odds arrived late", date(2025, 3, 20))
    assert records.raise_alerts(tmp_settings, [late, next_day], run_id="r3", correlation_id="c3", raised_at=T) == 1
    with short_write(tmp_settings) as wh:
        got = wh.fetchall("select alert_type, subject, game_date, run_id from raw.alerts order by game_date, alert_type")
    assert got == [("late_data", "odds", D, "r1"), ("missing_source", "schedule", D, "r1"),
                   ("late_data", "odds", date(2025, 3, 20), "r3")]


def test_source_waits_are_loaded_as_given(tmp_settings):
    rows = [
        {"run_id": "r1", "correlation_id": "c1", "game_date": D, "source_name": "odds", "expected_at": T,
         "first_checked_at": T, "arrived_at": None, "status": "missing", "tier": "4_of_5", "recorded_at": T},
        {"run_id": "r1", "correlation_id": "c1", "game_date": D, "source_name": "box", "expected_at": T,
         "first_checked_at": T, "arrived_at": datetime(2025, 3, 19, 16, 5, tzinfo=UTC), "status": "arrived",
         "tier": "all", "recorded_at": T},
    ]
    records.record_source_waits(tmp_settings, rows)
    with short_write(tmp_settings) as wh:
        got = wh.fetch_dicts("select * from raw.source_waits order by source_name")
    assert got == sorted(rows, key=lambda r: r["source_name"])
