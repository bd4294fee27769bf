"""Tiered source waits with a faked clock (no real waiting)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from python_jobs.ops.clock import FakeClock
from python_jobs.ops.config import load_ops_config
from python_jobs.ops.waits import wait_alerts, wait_for_sources, wait_rows

CFG = load_ops_config()
ALL = list(CFG.sources)
GAME_DATE = date(2025, 3, 19)
# 10:00 ET on 2025-03-19 (EDT, UTC-4)
MORNING = datetime(2025, 3, 19, 14, 0, tzinfo=UTC)


def arrivals(schedule: dict[str, float | None], clock: FakeClock, start: datetime):
    """A probe: source -> minutes after start when it becomes ready (None = never)."""
    def probe():
        elapsed = (clock.now() - start).total_seconds() / 60
        return [s for s, at in schedule.items() if at is not None and elapsed >= at]
    return probe


def test_config_matches_the_issue():
    sw = CFG.source_wait
    assert len(ALL) == 5
    assert sw.all_sources_within_minutes == 30
    assert [(t.after_minutes, t.min_sources) for t in sw.tiers] == [(60, 4), (120, 3)]
    assert sw.give_up_after_minutes == 240


def test_all_sources_ready_proceeds_without_sleeping():
    clock = FakeClock(MORNING)
    out = wait_for_sources(CFG, arrivals(dict.fromkeys(ALL, 0.0), clock, MORNING), clock)
    assert (out.proceed, out.tier, out.missing, clock.sleeps) == (True, "all", [], [])


def test_one_source_missing_proceeds_with_four_of_five_after_one_hour():
    clock = FakeClock(MORNING)
    sched = dict.fromkeys(ALL, 0.0) | {"odds_player_props": None}
    out = wait_for_sources(CFG, arrivals(sched, clock, MORNING), clock)
    assert out.proceed and out.tier == "4_of_5"
    assert out.missing == ["odds_player_props"]
    assert out.waited == timedelta(minutes=60)
    rows = wait_rows(CFG, GAME_DATE, out, run_id="r1", correlation_id="c1")
    assert {r["source_name"]: r["status"] for r in rows}["odds_player_props"] == "missing"
    assert sum(r["status"] == "arrived" for r in rows) == 4
    alerts = wait_alerts(CFG, GAME_DATE, out)
    assert [(a.alert_type, a.subject) for a in alerts] == [("missing_source", "odds_player_props")]


def test_late_arrival_within_the_first_hour_waits_for_all():
    clock = FakeClock(MORNING)
    sched = dict.fromkeys(ALL, 0.0) | {"odds_events": 45.0}
    out = wait_for_sources(CFG, arrivals(sched, clock, MORNING), clock)
    assert out.proceed and out.tier == "all_late" and out.missing == []
    assert timedelta(minutes=45) <= out.waited <= timedelta(minutes=55)
    assert out.arrived["odds_events"] - MORNING == out.waited


def test_two_missing_need_two_hours_then_three_of_five():
    clock = FakeClock(MORNING)
    sched = dict.fromkeys(ALL, 0.0) | {"odds_events": None, "odds_player_props": None}
    out = wait_for_sources(CFG, arrivals(sched, clock, MORNING), clock)
    assert out.proceed and out.tier == "3_of_5"
    assert out.waited == timedelta(minutes=120)
    assert sorted(out.missing) == ["odds_events", "odds_player_props"]


def test_three_missing_gives_up_at_four_hours_and_raises_late_alerts():
    clock = FakeClock(MORNING)
    sched = {"nba_box_scores": 0.0, "nba_players": 0.0, "nba_scoreboard": None, "odds_events": None,
             "odds_player_props": None}
    out = wait_for_sources(CFG, arrivals(sched, clock, MORNING), clock)
    assert not out.proceed and out.tier == "gave_up"
    assert out.waited == timedelta(minutes=240)
    alerts = wait_alerts(CFG, GAME_DATE, out)
    kinds = {(a.alert_type, a.subject) for a in alerts}
    # expected 07:00 ET = 11:00 UTC; still missing at 18:00 UTC: 7 h late
    assert ("late_data", "nba_scoreboard") in kinds
    # odds props expected 10:00 ET = 14:00 UTC; missing at 18:00 UTC: exactly 4 h, not more
    assert ("late_data", "odds_player_props") not in kinds
    assert {a.subject for a in alerts if a.alert_type == "missing_source"} == {
        "nba_scoreboard", "odds_events", "odds_player_props"}
    assert all(a.severity == "error" for a in alerts if a.alert_type == "missing_source")


def test_source_arriving_more_than_four_hours_after_schedule_raises_late_data():
    clock = FakeClock(MORNING)
    # box scores expected 06:00 ET (10:00 UTC), seen at 14:50 UTC: 4.8 h late
    sched = dict.fromkeys(ALL, 0.0) | {"nba_box_scores": 50.0}
    out = wait_for_sources(CFG, arrivals(sched, clock, MORNING), clock)
    assert out.proceed and out.tier == "all_late"
    alerts = wait_alerts(CFG, GAME_DATE, out)
    assert [(a.alert_type, a.subject) for a in alerts] == [("late_data", "nba_box_scores")]
    assert "4.8 h" in alerts[0].message


def test_sources_ready_at_the_first_check_are_not_called_late():
    start = datetime(2025, 3, 19, 15, 30, tzinfo=UTC)  # a run started late: 11:30 ET
    clock = FakeClock(start)
    out = wait_for_sources(CFG, arrivals(dict.fromkeys(ALL, 0.0), clock, start), clock)
    assert wait_alerts(CFG, GAME_DATE, out) == []


def test_unknown_source_from_probe_is_an_error():
    clock = FakeClock(MORNING)
    with pytest.raises(ValueError, match="unknown source"):
        wait_for_sources(CFG, lambda: ["nope"], clock)
