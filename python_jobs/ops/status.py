"""``nba-props status``: warehouse reachable, last run per phase, freshness of every source, open
alerts. While a run holds the warehouse, the progress files of running runs are shown instead."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from python_jobs.config import Settings
from python_jobs.ops.guard import WarehouseBusy, short_write
from python_jobs.ops.locks import date_lock_key, holder_is_dead
from python_jobs.warehouse.errors import WarehouseFileConflict, WarehouseUnavailable
from python_jobs.warehouse.partitions import landing_lead


def progress_is_live(info: dict, now: datetime) -> bool:
    """A progress file describes a live run: state 'running', its holder process alive (not gone,
    not a zombie) and its run lock not expired (an expired lock may be taken over)."""
    if info.get("state") != "running" or holder_is_dead(info.get("holder_id", "")):
        return False
    expires = info.get("lock_expires_at")
    return expires is None or datetime.fromisoformat(expires) > now


@dataclass
class StatusReport:
    database_path: str
    reachable: bool
    # False when the DuckDB file does not exist: nothing is opened or created, status exits non-zero
    exists: bool = True
    busy_reason: str | None = None
    running: list[dict[str, Any]] = field(default_factory=list)
    last_steps: list[dict[str, Any]] = field(default_factory=list)
    last_runs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)  # landed within raw_landing_lead_days
    open_alerts: list[dict[str, Any]] = field(default_factory=list)
    # runs left 'running' whose holder process is gone or whose run lock expired or was taken over
    abandoned: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``status --json`` document (shape in the README): every field plus ``healthy``."""
        return {**asdict(self), "healthy": self.healthy}

    @property
    def healthy(self) -> bool:
        failed_steps = any(s["status"] != "success" for s in self.last_steps)
        return (self.exists and self.reachable and not failed_steps and not self.abandoned
                and not any(a["severity"] == "error" for a in self.open_alerts))


def _progress_files(settings: Settings) -> list[dict[str, Any]]:
    folder = settings.warehouse_dir / "ops" / "progress"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def running_runs(settings: Settings, now: datetime | None = None) -> list[dict[str, Any]]:
    """Progress files of live runs (holder alive, lock not expired)."""
    now = now or settings.utcnow()
    return [info for info in _progress_files(settings) if progress_is_live(info, now)]


def _abandoned_reason(holder_id: str, lock: tuple | None, now: datetime) -> str | None:
    """Why a run still 'running' in the ledger is abandoned, or None when it may be alive."""
    if holder_is_dead(holder_id):
        return "its process is gone"
    if lock is None:
        return "no run lock for its date"
    lock_holder, expires_at, released_at = lock
    if lock_holder != holder_id:
        return f"its run lock was taken over by {lock_holder}"
    if released_at is not None:
        return "its run lock was released"
    if expires_at <= now:
        return f"its run lock expired at {expires_at:%Y-%m-%d %H:%M:%S} UTC"
    return None


def abandoned_runs(con, now: datetime) -> list[dict[str, Any]]:
    """Ledger rows still 'running' whose run can no longer be alive (``_abandoned_reason``)."""
    rows = con.fetch_dicts("select run_id, game_date, holder_id, started_at from raw.pipeline_runs "
                           "where status = 'running' order by started_at")
    out = []
    for r in rows:
        lock = con.fetchone("select holder_id, expires_at, released_at from raw.pipeline_locks where lock_key = ?",
                            [date_lock_key(r["game_date"])]) if r["game_date"] else None
        reason = _abandoned_reason(r["holder_id"], lock, now)
        if reason:
            out.append({"run_id": r["run_id"], "game_date": r["game_date"], "holder_id": r["holder_id"],
                        "started_at": r["started_at"], "reason": reason})
    return out


def status(settings: Settings, *, wait_seconds: float = 5.0, now: datetime | None = None) -> StatusReport:
    now = now or settings.utcnow()
    if settings.engine == "duckdb" and not settings.database_path.exists():
        # never open (and so create) a warehouse only to say it is there: no file, no folder, no lock
        return StatusReport(str(settings.database_path), reachable=False, exists=False,
                            busy_reason="no warehouse at this path (build one: nba-props demo, or ingest)")
    report = StatusReport(str(settings.database_path), reachable=False, running=running_runs(settings, now))
    try:
        with short_write(settings, timeout=wait_seconds) as con:
            report.reachable = True
            report.last_steps = con.fetch_dicts(
                "select phase, node as step, status, game_date, run_id, finished_at, rows_out, error_class, error_message "
                "from (select *, row_number() over (partition by phase order by finished_at desc, logged_at desc) rn "
                "      from raw.pipeline_execution_log where node_type = 'step') where rn = 1 order by phase")
            report.last_runs = con.fetch_dicts(
                "select run_id, flow, game_date, status, started_at, finished_at, error_message "
                "from raw.pipeline_runs order by started_at desc limit 5")
            report.sources = con.fetch_dicts(
                "select source, endpoint, max(scraped_at) as last_scraped_at, count(*) as n_payloads, "
                "round(date_diff('minute', max(scraped_at), ?::timestamptz) / 60.0, 1) as age_hours "
                "from raw.landed_payloads where scraped_at >= ? group by source, endpoint order by source, endpoint",
                [now, now - landing_lead(settings.home)])
            report.open_alerts = con.fetch_dicts(
                "select alert_type, severity, game_date, subject, message, raised_at from raw.alerts "
                "where acknowledged_at is null order by raised_at desc, alert_type, subject limit 50")
            report.abandoned = abandoned_runs(con, now)
    except WarehouseBusy as exc:
        report.busy_reason = str(exc)
    except (WarehouseFileConflict, WarehouseUnavailable) as exc:
        report.busy_reason = f"cannot open the warehouse: {exc}"
    return report
