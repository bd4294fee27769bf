"""Tiered waits for the Phase 1 sources (config: ``source_wait`` in ``config/ops.yml``).

All sources within ``all_sources_within_minutes``; otherwise keep waiting and proceed with
``min_sources`` of N once a tier's ``after_minutes`` has passed (4 of 5 after 1 h, 3 of 5 after
2 h); give up at ``give_up_after_minutes``. The clock is injected, so tests fake hours of waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from python_jobs.ops.clock import Clock
from python_jobs.ops.config import OpsConfig
from python_jobs.ops.records import Alert


@dataclass
class WaitOutcome:
    proceed: bool
    tier: str                       # 'all', 'all_late', '4_of_5', ..., 'gave_up'
    started_at: datetime
    finished_at: datetime
    arrived: dict[str, datetime]    # source -> first time it was seen ready
    missing: list[str]
    polls: int
    first_checked_at: datetime = field(default=None)  # type: ignore[assignment]

    @property
    def waited(self) -> timedelta:
        return self.finished_at - self.started_at


def wait_for_sources(cfg: OpsConfig, probe: Callable[[], Iterable[str]], clock: Clock) -> WaitOutcome:
    """Poll ``probe`` (returns the names of the sources that are ready) until a tier is met."""
    sw = cfg.source_wait
    sources = list(cfg.sources)
    total = len(sources)
    started = clock.now()
    arrived: dict[str, datetime] = {}
    polls = 0
    while True:
        now = clock.now()
        polls += 1
        for name in probe():
            if name not in cfg.sources:
                raise ValueError(f"probe reported unknown source {name!r}")
            arrived.setdefault(name, now)
        elapsed_min = (now - started).total_seconds() / 60
        missing = [s for s in sources if s not in arrived]
        n = total - len(missing)

        def done(proceed: bool, tier: str, now: datetime = now, missing: list[str] = missing,
                 polls: int = polls) -> WaitOutcome:
            return WaitOutcome(proceed, tier, started, now, dict(arrived), missing, polls, started)

        if n == total:
            return done(True, "all" if elapsed_min <= sw.all_sources_within_minutes else "all_late")
        for tier in reversed(sw.tiers):
            if elapsed_min >= tier.after_minutes and n >= tier.min_sources:
                return done(True, f"{tier.min_sources}_of_{total}")
        if elapsed_min >= sw.give_up_after_minutes:
            return done(False, "gave_up")
        # sleep until the next poll or the next threshold, whichever comes first
        thresholds = [t.after_minutes for t in sw.tiers] + [sw.give_up_after_minutes]
        next_threshold = min((t for t in thresholds if t > elapsed_min), default=sw.give_up_after_minutes)
        step_min = min(sw.poll_interval_minutes, next_threshold - elapsed_min)
        clock.sleep(max(step_min * 60, 1.0))


def wait_alerts(cfg: OpsConfig, game_date: date, outcome: WaitOutcome) -> list[Alert]:
    """Late-data (> late_alert_minutes after the source's expected time) and missing-source alerts."""
    alerts: list[Alert] = []
    late = timedelta(minutes=cfg.source_wait.late_alert_minutes)
    for name in cfg.sources:
        expected = cfg.expected_at(name, game_date)
        seen = outcome.arrived.get(name)
        if seen is None:
            alerts.append(Alert("missing_source", "error" if not outcome.proceed else "warning", name,
                                f"source {name} had not arrived when the wait ended ({outcome.tier}, "
                                f"waited {outcome.waited.total_seconds() / 60:.0f} min)", game_date))
            if outcome.finished_at - expected > late:
                alerts.append(Alert("late_data", "warning", name,
                                    f"source {name} is more than {late.total_seconds() / 3600:.0f} h late "
                                    f"(expected {expected:%Y-%m-%d %H:%M} UTC, still missing)", game_date))
        elif seen > outcome.started_at and seen - expected > late:
            # only lateness we observed: a source ready at the first check may have come any time before
            alerts.append(Alert("late_data", "warning", name,
                                f"source {name} arrived {(seen - expected).total_seconds() / 3600:.1f} h after "
                                f"its expected time {expected:%Y-%m-%d %H:%M} UTC", game_date))
    return alerts


def wait_rows(cfg: OpsConfig, game_date: date, outcome: WaitOutcome, *, run_id: str,
              correlation_id: str) -> list[dict]:
    return [
        {"run_id": run_id, "correlation_id": correlation_id, "game_date": game_date, "source_name": name,
         "expected_at": cfg.expected_at(name, game_date), "first_checked_at": outcome.started_at,
         "arrived_at": outcome.arrived.get(name), "status": "arrived" if name in outcome.arrived else "missing",
         "tier": outcome.tier, "recorded_at": outcome.finished_at}
        for name in cfg.sources
    ]
