"""Ops commands: run-day, backfill, reconcile, status, trace (logic in python_jobs.pipeline / ops)."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from python_jobs.commands._common import json_output, make_console, parse_date, progress_bar
from python_jobs.config import get_settings

console = make_console()


def _table(title: str, rows: list[dict], columns: list[str] | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    columns = columns or (list(rows[0]) if rows else [])
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    return table


def _record_table(title: str, row: dict) -> Table:
    """One record as field | value lines (a wide row stays readable in an 80-column terminal)."""
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for k, v in row.items():
        table.add_row(k, "" if v is None else str(v))
    return table


def _side_by_side(title: str, rows: list[dict], key: str) -> Table:
    """Records as columns (field | row 1 | row 2 ...), headed by ``key``: the systems side by side."""
    table = Table(title=title)
    table.add_column("field", style="bold")
    for r in rows:
        table.add_column(str(r.get(key)), overflow="fold")
    for field_name in rows[0]:
        table.add_row(field_name, *("" if r.get(field_name) is None else str(r.get(field_name)) for r in rows))
    return table


def _print_alerts(alerts) -> None:
    for a in alerts:
        color = "red" if a.severity == "error" else "yellow"
        console.print(f"[{color}]ALERT {a.alert_type} ({a.severity}) {a.subject}: {a.message}[/{color}]")


def register(app: typer.Typer) -> None:
    @app.command("run-day")
    def run_day_cmd(
        game_date: str = typer.Option(..., "--date", help="game date (US/Eastern), YYYY-MM-DD"),
        force: bool = typer.Option(False, help="run even if a run with the same inputs already finished"),
        wait_minutes: float = typer.Option(None, help="wait this long for another run of the date (default: config)"),
    ) -> None:
        """Run the daily pipeline for one game date (no Prefect). Exit 0 ok/no-op, 1 failed, 2 SLO failed,
        3 the date or the warehouse is held by another run (locked, lock lost to a takeover, writer busy)."""
        day = parse_date(game_date)
        from python_jobs.ops.guard import WarehouseBusy
        from python_jobs.ops.locks import LockHeld
        from python_jobs.pipeline import PipelineFailed, run_day

        settings = get_settings()
        try:
            result = run_day(settings, day, force=force, wait_minutes=wait_minutes)
        except (LockHeld, WarehouseBusy) as exc:
            typer.secho(str(exc), fg="yellow", err=True)
            raise typer.Exit(3) from exc
        except PipelineFailed as exc:
            _print_alerts(exc.result.alerts)
            typer.secho(str(exc), fg="red" if exc.result.exit_code == 1 else "yellow", err=True)
            if exc.result.lock_note:
                typer.secho(exc.result.lock_note, fg="yellow", err=True)
            raise typer.Exit(exc.result.exit_code) from exc
        if result.lock_note:
            typer.secho(result.lock_note, fg="yellow", err=True)
        if result.status == "noop":
            console.print(f"{game_date}: already done by run {result.previous_run_id} with the same inputs (no-op; --force to rerun)")
            return
        console.print(_table(f"run {result.run_id} ({result.correlation_id})",
                             [{"step": s.name, "status": s.status, "seconds": f"{s.seconds:.1f}",
                               "rows_out": s.rows_out} for s in result.steps]))
        _print_alerts(result.alerts)
        for msg in result.slo_failures:
            typer.secho(f"SLO FAILED: {msg}", fg="red", err=True)
        raise typer.Exit(result.exit_code)

    @app.command("backfill")
    def backfill_cmd(
        start: str = typer.Option(..., "--start", help="first game date"),
        end: str = typer.Option(..., "--end", help="last game date"),
        force: bool = typer.Option(False, help="rerun dates already complete"),
    ) -> None:
        """Run the daily pipeline over a date range; dates already complete are skipped (resumable)."""
        from python_jobs.pipeline import backfill, backfill_dates

        d0, d1 = parse_date(start, "--start"), parse_date(end, "--end")
        if d1 < d0:
            raise typer.BadParameter(f"--end {end} is before --start {start}", param_hint="--end")
        settings = get_settings()
        n = len(backfill_dates(settings, d0, d1))
        with progress_bar("backfill") as update:
            done = 0

            def on_date(d: date, status: str) -> None:
                nonlocal done
                done += 1
                update(done, n, f"{d} {status}")

            report = backfill(settings, d0, d1, force=force, on_date=on_date)
        console.print(f"done {len(report.done)}, skipped (complete) {len(report.skipped)}, "
                      f"SLO failed {len(report.slo_failed)}, failed {len(report.failed)}")
        for d, msg in report.failed.items():
            typer.secho(f"{d}: {msg}", fg="red", err=True)
        raise typer.Exit(report.exit_code)

    @app.command("reconcile")
    def reconcile_cmd(dry_run: bool = typer.Option(False, help="report drift without repairing")) -> None:
        """Recount each phase per date and repair drifted completion records."""
        from python_jobs.ops.reconcile import reconcile

        rows = reconcile(get_settings(), dry_run=dry_run)
        drifted = [r.__dict__ for r in rows if r.action != "ok"]
        console.print(f"{len(rows)} completion records checked, {len(drifted)} drifted"
                      + (" (dry run: not repaired)" if dry_run and drifted else ""))
        if drifted:
            console.print(_table("drifted completion records", drifted))

    @app.command("status")
    def status_cmd(json_out: bool = typer.Option(False, "--json", help="print one JSON document (see README)")) -> None:
        """Health: warehouse reachable, last run per phase, source freshness, open alerts.
        Exit 0 healthy, 1 not (no warehouse, unreachable, a failed step, an error alert)."""
        from python_jobs.ops.status import status

        with json_output(json_out) as emit:
            rep = status(get_settings())
        if json_out:
            emit(rep.to_json())
            raise typer.Exit(0 if rep.healthy else 1)
        if not rep.exists:
            typer.secho(f"no warehouse at {rep.database_path}: nothing to report (build one with "
                        "`nba-props demo` or `nba-props ingest`)", fg="red", err=True)
            raise typer.Exit(1)
        console.print(f"warehouse {rep.database_path}: " + ("[green]reachable[/green]" if rep.reachable
                                                           else f"[yellow]not reachable[/yellow] ({rep.busy_reason})"))
        if rep.running:
            console.print(_table("runs in progress", rep.running, ["game_date", "run_id", "step", "pid", "updated_at"]))
        for run in rep.abandoned:
            typer.secho(f"ABANDONED run {run['run_id']} for {run['game_date']} (holder {run['holder_id']}): "
                        f"{run['reason']}; the next run of the date records it as abandoned", fg="red", err=True)
        if rep.reachable:
            console.print(_table("last step per phase", rep.last_steps,
                                 ["phase", "step", "status", "game_date", "finished_at", "rows_out", "error_class"]))
            console.print(_table("last runs", rep.last_runs, ["run_id", "flow", "game_date", "status", "finished_at"]))
            console.print(_table("source freshness (raw.landed_payloads)", rep.sources))
            console.print(_table(f"open alerts ({len(rep.open_alerts)})", rep.open_alerts,
                                 ["severity", "alert_type", "game_date", "subject", "message"]))
        raise typer.Exit(0 if rep.healthy else 1)

    @app.command("trace")
    def trace_cmd(
        prediction_id: str = typer.Argument(None, help="prediction_id from predictions.player_prop_predictions"),
        player: str = typer.Option(None, "--player", help="player id or name (with --date)"),
        game_date: str = typer.Option(None, "--date", help="game date (with --player)"),
        json_out: bool = typer.Option(False, "--json", help="print one JSON document (see README)"),
    ) -> None:
        """Print predictions (one row per system) -> graded result -> feature values as scored vs today ->
        feature row -> staged rows -> raw payloads and scrape runs."""
        from python_jobs.ops.trace import TraceNotFound, find_predictions, trace_predictions

        day = parse_date(game_date)
        if not prediction_id and not (player and game_date):
            raise typer.BadParameter("give PREDICTION_ID or --player and --date")
        settings = get_settings()
        try:
            with json_output(json_out) as emit:
                ids = [prediction_id] if prediction_id else find_predictions(settings, player, day)
                traces = trace_predictions(settings, ids)
        except TraceNotFound as exc:
            typer.secho(str(exc), fg="red", err=True)
            raise typer.Exit(1) from exc
        if json_out:
            emit({"traces": [tr.to_json() for tr in traces]})
            return
        for tr in traces:
            first = tr.sections[0].rows[0] if tr.sections[0].rows else {}
            console.rule(f"player {first.get('player_id', '')} on {first.get('game_date', '')}: "
                         f"{len(tr.prediction_ids)} prediction(s)")
            for sec in tr.sections:
                if sec.missing_relation:
                    console.print(f"[yellow]{sec.title}: {sec.relation} is not built in this warehouse[/yellow]")
                elif not sec.rows:
                    console.print(f"{sec.title} — {sec.relation}: no row")
                elif len(sec.rows) == 1:
                    console.print(_record_table(f"{sec.title} — {sec.relation}", sec.rows[0]))
                elif sec.title in ("predictions", "graded result"):  # one column per system, side by side
                    console.print(_side_by_side(f"{sec.title} — {sec.relation}", sec.rows, "system_id"))
                else:
                    console.print(_table(f"{sec.title} — {sec.relation} ({len(sec.rows)})", sec.rows))
            for w in tr.warnings:
                typer.secho(f"WARNING: {w}", fg="yellow", err=True)
