"""``nba-props status``: warehouse reachable, last run per phase, freshness of every source, open
alerts. While a run holds the warehouse, the progress files of running runs are shown instead."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from python_jobs.config import Settings
from python_jobs.ops.guard import WarehouseBusy, short_write
from python_jobs.warehouse.errors import WarehouseFileConflict, WarehouseUnavailable


@dataclass
class StatusReport:
    database_path: str
    reachable: bool
    busy_reason: str | None = None
    running: list[dict[str, Any]] = field(default_factory=list)
    last_steps: list[dict[str, Any]] = field(default_factory=list)
    last_runs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    open_alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        failed_steps = any(s["status"] != "success" for s in self.last_steps)
        return self.reachable and not failed_steps and not any(a["severity"] == "error" for a in self.open_alerts)


def running_runs(settings: Settings) -> list[dict[str, Any]]:
    folder = settings.warehouse_dir / "ops" / "progress"
    out = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        info = json.loads(path.read_text())
        if info.get("state") == "running":
            out.append(info)
    return out


def status(settings: Settings, *, wait_seconds: float = 5.0, now: datetime | None = None) -> StatusReport:
    now = now or settings.utcnow()
    report = StatusReport(str(settings.database_path), reachable=False, running=running_runs(settings))
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
                "from raw.landed_payloads group by source, endpoint order by source, endpoint", [now])
            report.open_alerts = con.fetch_dicts(
                "select alert_type, severity, game_date, subject, message, raised_at from raw.alerts "
                "where acknowledged_at is null order by raised_at desc, alert_type, subject limit 50")
    except WarehouseBusy as exc:
        report.busy_reason = str(exc)
    except (WarehouseFileConflict, WarehouseUnavailable) as exc:
        report.busy_reason = f"cannot open the warehouse: {exc}"
    return report
