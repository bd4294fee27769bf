"""Retract a landed payload (issue #11, point 1): the supported way to un-import.

Raw stays append-only: a retraction is a row of ``raw.payload_retractions`` (who, why, when), and
the staging models leave the records of retracted payloads out (macro ``not_retracted``). Because
staging is incremental, the retraction takes effect downstream with a rebuild of phases 2-4 from
raw (``--full-refresh``; predictions and grades already made are history and stay, see
docs/reliability.md). Nothing is deleted by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from python_jobs.config import Settings
from python_jobs.errors import PermanentError
from python_jobs.ops.guard import short_write
from python_jobs.ops.records import new_id
from python_jobs.warehouse.partitions import floor_timestamp

log = logging.getLogger(__name__)

REBUILD_ARGS = ["build", "--selector", "through_phase4", "--full-refresh"]


class RetractionError(PermanentError):
    """A retraction that cannot be recorded (unknown payload, empty reason)."""


@dataclass(frozen=True)
class Retraction:
    retraction_id: str
    payload_id: str
    reason: str
    retracted_at: datetime
    already_retracted: bool


def retract_payload(settings: Settings, payload_id: str, reason: str, *, retracted_by: str = "cli",
                    now: datetime | None = None) -> Retraction:
    """Record the retraction of one landed payload (idempotent: a second one is reported, not added)."""
    reason = (reason or "").strip()
    if not reason:
        raise RetractionError("a retraction needs a reason (--reason)")
    now = now or settings.utcnow()
    with short_write(settings) as con:
        # a payload of any age can be retracted: every partition, two narrow columns
        found = con.fetchone("select duplicate_of_payload_id from raw.landed_payloads "
                             "where scraped_at >= ? and payload_id = ?", [floor_timestamp(settings.home), payload_id])
        if found is None:
            raise RetractionError(f"no landed payload {payload_id!r}")
        previous = con.fetchone("select retraction_id, reason, retracted_at from raw.payload_retractions "
                               "where payload_id = ? order by retracted_at limit 1", [payload_id])
        if previous:
            return Retraction(previous[0], payload_id, previous[1], previous[2], True)
        rid = new_id()
        con.execute("insert into raw.payload_retractions values (?, ?, ?, ?, ?)",
                    [rid, payload_id, reason, retracted_by, now])
    log.warning("payload %s retracted by %s: %s", payload_id, retracted_by, reason)
    return Retraction(rid, payload_id, reason, now, False)


def rebuild_after_retraction(settings: Settings) -> None:
    """Phases 2-4 rebuilt from raw, without the retracted payloads."""
    from python_jobs.dbt_runner import run_dbt

    run_dbt(REBUILD_ARGS, settings)
