"""``nba-props validate``: the Great Expectations checkpoint of one date, on its own (the daily run
has it as its step ``gx_checkpoint``). Logic in python_jobs.validation.gx_checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from python_jobs.commands._common import parse_date
from python_jobs.config import get_settings


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_cmd(
        game_date: Annotated[str, typer.Option("--date", help="game date (US/Eastern), YYYY-MM-DD")],
        docs: Annotated[Path | None, typer.Option(
            "--docs", help="folder for the Data Docs (default: <warehouse>/report/<date>/data_docs, "
                           "linked from the report's data-health page)")] = None,
    ) -> None:
        """Validate the date's landed batches (field rules of config/validation/) and key marts
        (staging keys, ml_feature_store, the predictions contract) with Great Expectations; write Data
        Docs. Exit 0 when every expectation holds, 1 otherwise. Reads only."""
        day = parse_date(game_date)
        settings = get_settings()
        from python_jobs.ops.guard import short_write
        from python_jobs.validation.gx_checkpoint import run_checkpoint

        with short_write(settings) as con:
            report = run_checkpoint(settings, con, day, docs_dir=docs)   # type: ignore[arg-type]
        for v in report.validations:
            mark = "ok  " if v.success else "FAIL"
            typer.echo(f"{mark} {v.name:<40} {v.rows:>7} rows {v.evaluated:>4} expectations"
                       + ("" if v.success else "  " + "; ".join(v.failed)))
        for skipped in report.skipped:
            typer.echo(f"skip {skipped} (not built in this warehouse)")
        typer.echo(f"{report.summary().split(' -- ')[0]} in {report.seconds:.1f} s")
        typer.echo(f"Data Docs: {report.docs_index}")
        if not report.success:
            raise typer.Exit(1)
