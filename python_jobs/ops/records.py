"""Writers for the ops raw tables: execution log, runs (idempotency), phase completions, alerts,
source waits. Each write is one short transaction under the warehouse guard."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from python_jobs.config import Settings
from python_jobs.ops.guard import short_write
from python_jobs.redaction import redact

# a run that went through every step (an SLO failure is reported, not fixed, by a rerun)
FINISHED_OK = ("succeeded", "slo_failed")


def new_id() -> str:
    return uuid.uuid4().hex


# --------------------------------------------------------------------------- execution log
def log_step(settings: Settings, *, run_id: str, correlation_id: str, flow: str, game_date: date | None,
             phase: str, node: str, node_type: str, started_at: datetime | None,
             finished_at: datetime | None, status: str, rows_in: int | None = None,
             rows_out: int | None = None, error: BaseException | None = None,
             logged_at: datetime) -> str:
    """Append one row to ``raw.pipeline_execution_log``; returns its log_id."""
    log_id = new_id()
    error_class = type(error).__name__ if error is not None else None
    error_message = redact(error)[:4000] if error is not None else None
    with short_write(settings) as con:
        con.execute(
            "insert into raw.pipeline_execution_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [log_id, run_id, correlation_id, flow, game_date, phase, node, node_type, started_at,
             finished_at, rows_in, rows_out, status, error_class, error_message, logged_at],
        )
    return log_id


# --------------------------------------------------------------------------- idempotency
_CODE_GLOBS = ("models/**/*.sql", "models/**/*.yml", "macros/**/*.sql", "seeds/*.csv",
               "snapshots/**/*", "python_jobs/**/*.py", "dbt_project.yml", "selectors.yml",
               "config/ops.yml", "config/validation/*.yml")


def inputs_hash(settings: Settings, extra: dict[str, Any] | None = None) -> str:
    """Hash of what a run's result depends on: the code and dbt project (content), the bundled
    data files (name + size + mtime; they are large), transport and target."""
    h = hashlib.sha256()
    home = Path(settings.home)
    for pattern in _CODE_GLOBS:
        for path in sorted(home.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(home)).encode())
                h.update(path.read_bytes())
    if settings.transport == "replay":
        for path in sorted(Path(settings.data_dir).rglob("*")):
            if path.is_file():
                st = path.stat()
                h.update(f"{path.relative_to(settings.data_dir)}|{st.st_size}|{st.st_mtime_ns}".encode())
    h.update(json.dumps({"transport": settings.transport, "target": settings.dbt_target,
                         **(extra or {})}, sort_keys=True, default=str).encode())
    return h.hexdigest()


def idempotency_key(flow: str, game_date: date | None, inputs: str) -> str:
    return hashlib.sha256(f"{flow}|{game_date}|{inputs}".encode()).hexdigest()


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    idempotency_key: str
    flow: str
    game_date: date | None
    correlation_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str


def finished_run(settings: Settings, key: str) -> RunRecord | None:
    """The finished run (succeeded or slo_failed) with this idempotency key, if any."""
    with short_write(settings) as con:
        row = con.fetchone(
            "select run_id, idempotency_key, flow, game_date, correlation_id, started_at, finished_at, status "
            "from raw.pipeline_runs where idempotency_key = ? and status in (?, ?) "
            "order by finished_at desc limit 1",
            [key, *FINISHED_OK],
        )
    return RunRecord(*row) if row else None


def start_run(settings: Settings, *, run_id: str, key: str, flow: str, game_date: date | None,
              inputs: str, correlation_id: str, holder_id: str, started_at: datetime) -> None:
    with short_write(settings) as con:
        con.execute(
            "insert into raw.pipeline_runs values (?, ?, ?, ?, ?, ?, ?, ?, null, 'running', null, null)",
            [run_id, key, flow, game_date, inputs, correlation_id, holder_id, started_at],
        )


def finish_run(settings: Settings, run_id: str, *, status: str, finished_at: datetime,
               error: BaseException | None = None) -> None:
    # pipeline_runs is a run ledger: the 'running' row is closed once, by its own run
    with short_write(settings) as con:
        con.execute(
            "update raw.pipeline_runs set status = ?, finished_at = ?, error_class = ?, error_message = ? "
            "where run_id = ?",
            [status, finished_at, type(error).__name__ if error else None,
             redact(error)[:4000] if error else None, run_id],
        )


def abandon_runs(settings: Settings, game_date: date, *, found_by: str, at: datetime) -> int:
    """Close the ledger rows of earlier runs of ``game_date`` still 'running' as 'abandoned' (one
    UPDATE). Only the holder of the date's run lock calls it: any other 'running' row of the date
    belongs to a run that died (killed, crashed) or lost its lock. Returns the number closed."""
    with short_write(settings) as con:
        n = con.scalar("select count(*) from raw.pipeline_runs where game_date = ? and status = 'running' "
                       "and run_id <> ?", [game_date, found_by])
        if n:
            con.execute(
                "update raw.pipeline_runs set status = 'abandoned', finished_at = ?, error_class = 'Abandoned', "
                "error_message = ? where game_date = ? and status = 'running' and run_id <> ?",
                [at, f"abandoned: its process died or lost the lock; found by run {found_by}", game_date, found_by])
    return int(n or 0)


# --------------------------------------------------------------------------- completions
def record_completion(settings: Settings, *, game_date: date, phase: str, run_id: str,
                      correlation_id: str, status: str, row_count: int | None, recorded_by: str,
                      recorded_at: datetime, note: str | None = None) -> None:
    with short_write(settings) as con:
        con.execute(
            "insert into raw.phase_completions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [new_id(), game_date, phase, run_id, correlation_id, status, row_count, recorded_by, note,
             recorded_at],
        )


def latest_completions(settings: Settings, game_dates: list[date] | None = None) -> dict[tuple[date, str], dict]:
    """Latest completion record per (game_date, phase)."""
    sql = (
        "select game_date, phase, status, row_count, run_id, recorded_by, recorded_at from ("
        " select *, row_number() over (partition by game_date, phase order by recorded_at desc, completion_id) as rn"
        " from raw.phase_completions) where rn = 1"
    )
    params: list[Any] = []
    if game_dates is not None:
        sql += " and game_date in (select unnest(?::date[]))"
        params.append(list(game_dates))
    with short_write(settings) as con:
        rows = con.fetchall(sql, params)
    return {
        (r[0], r[1]): {"status": r[2], "row_count": r[3], "run_id": r[4], "recorded_by": r[5], "recorded_at": r[6]}
        for r in rows
    }


# --------------------------------------------------------------------------- alerts
@dataclass(frozen=True)
class Alert:
    alert_type: str
    severity: str
    subject: str
    message: str
    game_date: date | None

    @property
    def alert_id(self) -> str:
        return hashlib.md5(f"{self.alert_type}|{self.subject}|{self.game_date}".encode()).hexdigest()


def raise_alerts(settings: Settings, alerts: list[Alert], *, run_id: str, correlation_id: str,
                 raised_at: datetime) -> int:
    """Insert alerts not raised before (same type, subject and date); returns how many are new."""
    if not alerts:
        return 0
    with short_write(settings) as con:
        before = con.fetchone("select count(*) from raw.alerts")[0]
        with con.transaction():
            for a in alerts:  # few per run; insert-if-absent works on every engine (no ON CONFLICT on BigQuery)
                con.execute(
                    "insert into raw.alerts select ?, ?, ?, ?, ?, ?, ?, ?, ?, null "
                    "where not exists (select 1 from raw.alerts where alert_id = ?)",
                    [a.alert_id, run_id, correlation_id, a.game_date, a.alert_type, a.severity, a.subject,
                     a.message, raised_at, a.alert_id],
                )
        after = con.fetchone("select count(*) from raw.alerts")[0]
    return int(after - before)


def record_source_waits(settings: Settings, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = ["run_id", "correlation_id", "game_date", "source_name", "expected_at", "first_checked_at",
            "arrived_at", "status", "tier", "recorded_at"]
    table = pa.Table.from_pylist([{c: r[c] for c in cols} for r in rows])
    with short_write(settings) as con:
        con.load_arrow("raw.source_waits", table)
