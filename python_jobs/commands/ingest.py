"""Phase 1 commands: ``nba-props ingest``, ``nba-props land-day``, ``nba-props import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from python_jobs.commands._common import json_output, make_console, parse_date, progress_bar
from python_jobs.config import get_settings
from python_jobs.errors import NbaPropsError
from python_jobs.ops.guard import WarehouseBusy

console = make_console()


_date = parse_date


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest(
        seasons: Annotated[list[str] | None, typer.Option(
            "--seasons", "-s", help="season label, e.g. 2024-25 (repeatable); default: every bundled season")] = None,
        until: Annotated[str | None, typer.Option(
            "--until", help="last US/Eastern date whose results and lines are landed (YYYY-MM-DD)")] = None,
    ) -> None:
        """Land the history: LeagueGameLog and schedule per season, CommonAllPlayers, the odds snapshots."""
        from python_jobs.ingest import ingest_history

        try:
            with progress_bar("ingest") as update:
                report = ingest_history(get_settings(), seasons=seasons or None, until=_date(until, "--until"),
                                        on_request=update)
        except WarehouseBusy as exc:
            _busy("ingest", exc)
        except (NbaPropsError, ValueError) as exc:
            typer.secho(f"ingest failed: {exc}", fg="red", err=True)
            raise typer.Exit(1) from exc
        _finish(report)

    def _busy(command: str, exc: Exception) -> None:
        """Another process (a run) kept the writer guard past NBA_PROPS_GUARD_WAIT_SECONDS: exit 3."""
        typer.secho(f"{command}: {exc}; retry when it is done", fg="yellow", err=True)
        raise typer.Exit(3) from exc

    def _finish(report) -> None:
        """Print the report; exit 1 with every failed request when the run is not ok."""
        console.print(report)
        if report.status != "ok":
            for r in report.failures:
                typer.secho(f"  {r.request.source}/{r.request.endpoint} {r.request.params_json}: "
                            f"{r.error_class}: {r.error_message}", fg="red", err=True)
            raise typer.Exit(1)

    @app.command("land-day")
    def land_day_cmd(
        game_date: Annotated[str, typer.Option("--date", "-d", help="game date D (US/Eastern, YYYY-MM-DD)")],
    ) -> None:
        """The morning scrape for D: yesterday's box scores, today's scoreboard, today's prop lines."""
        from python_jobs.ingest import land_day

        day = _date(game_date, "--date")
        if day is None:
            raise typer.BadParameter("a date is required", param_hint="--date")
        try:
            report = land_day(get_settings(), day)
        except WarehouseBusy as exc:
            _busy("land-day", exc)
        except NbaPropsError as exc:
            typer.secho(f"land-day failed: {exc}", fg="red", err=True)
            raise typer.Exit(1) from exc
        _finish(report)

    @app.command("import")
    def import_cmd(
        paths: Annotated[list[Path], typer.Argument(help="payload files (.json or .json.gz)")],
        json_out: Annotated[bool, typer.Option("--json", help="print one JSON document (see README)")] = False,
    ) -> None:
        """Land payload files recorded elsewhere (LeagueGameLog, Odds API event odds).

        Exit 0 when every file landed, 1 when a file was rejected, 2 when none was rejected but a
        file had every record quarantined, 3 when a run kept the warehouse busy (nothing written)."""
        from python_jobs.importer import import_paths

        try:
            with json_output(json_out) as emit, progress_bar("import", enabled=not json_out) as update:
                report = import_paths(get_settings(), paths, on_file=update)
        except WarehouseBusy as exc:
            _busy("import", exc)
        if json_out:
            emit(report.to_json())
        else:
            console.print(report)
        if report.rejected:
            typer.secho(f"{len(report.rejected)} of {len(report.files)} file(s) rejected (see raw.quarantine)",
                        fg="red", err=True)
        for f in report.fully_quarantined:
            typer.secho(f"{f.path}: every record quarantined, nothing loaded ({f.quarantined:,} record(s); "
                        "see raw.quarantine)", fg="red", err=True)
        if report.exit_code:
            raise typer.Exit(report.exit_code)
