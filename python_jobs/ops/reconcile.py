"""Recount what each phase produced per game date and repair drifted completion records.

A completion record says "phase P for date D completed with N rows". ``reconcile`` recounts N from
the warehouse (``counts.PHASE_OUTPUTS``). When the count differs it appends a new record (the
latest wins): 'incomplete' when rows were lost or the relation is gone (a backfill reruns the
date), 'complete' with the new count when rows were added (late corrections). Append-only, so
rerunning reconcile on an unchanged warehouse changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from python_jobs.config import Settings
from python_jobs.ops import records
from python_jobs.ops.counts import PHASES, count_phase
from python_jobs.ops.guard import short_write


@dataclass(frozen=True)
class ReconcileRow:
    game_date: date
    phase: str
    recorded_status: str
    recorded_count: int | None
    actual_count: int | None
    action: str                     # 'ok' | 'marked_incomplete' | 'count_updated'


def reconcile(settings: Settings, *, dates: list[date] | None = None, run_id: str | None = None,
              now: datetime | None = None, dry_run: bool = False) -> list[ReconcileRow]:
    run_id = run_id or records.new_id()
    correlation_id = f"reconcile-{run_id[:12]}"
    now = now or settings.utcnow()
    latest = records.latest_completions(settings, dates)
    out: list[ReconcileRow] = []
    with short_write(settings) as con:
        actual = {(d, p): count_phase(con, p, d) for (d, p) in latest if p in PHASES}
    for (d, phase), rec in sorted(latest.items()):
        if phase not in PHASES:
            continue
        n = actual[(d, phase)]
        recorded = rec["row_count"]
        if rec["status"] == "complete" and (n is None or recorded is None or n < recorded):
            action, status = "marked_incomplete", "incomplete"
        elif rec["status"] == "complete" and n > recorded:
            action, status = "count_updated", "complete"
        else:
            # consistent, or already incomplete: only a run can mark a phase complete again
            action, status = "ok", None
        out.append(ReconcileRow(d, phase, rec["status"], recorded, n, action))
        if status is not None and not dry_run:
            records.record_completion(
                settings, game_date=d, phase=phase, run_id=run_id, correlation_id=correlation_id,
                status=status, row_count=n if n is not None else recorded, recorded_by="reconcile",
                recorded_at=now, note=f"recorded {recorded} rows, found {n if n is not None else 'no relation'}",
            )
    return out


def date_is_complete(latest: dict, game_date: date, phases: list[str]) -> bool:
    return all(latest.get((game_date, p), {}).get("status") == "complete" for p in phases)
