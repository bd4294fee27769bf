"""``nba-props report``: write the daily static report site (logic in python_jobs.report)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from python_jobs.commands._common import parse_date
from python_jobs.config import get_settings


def _date(value: str) -> date:
    return parse_date(value)  # type: ignore[return-value]


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        game_date: Annotated[str, typer.Option("--date", help="game date (US/Eastern) of the picks, YYYY-MM-DD")],
        output: Annotated[Path | None, typer.Option(
            "--output", help="folder for the site (default: <warehouse>/report/<date>, also copied to "
                             "<warehouse>/report/latest)")] = None,
        backtest: Annotated[Path | None, typer.Option(
            "--backtest", exists=True, dir_okay=False,
            help="backtest JSON (default: newest <warehouse>/backtests/*.json, else docs/backtest_2025.json)")] = None,
    ) -> None:
        """Write the daily report (picks, performance, players, data health) as a static site and print
        where it is. The site needs no network: open index.html from disk or publish the folder."""
        from python_jobs.report import generate_report

        try:
            result = generate_report(get_settings(), _date(game_date), output_dir=output, backtest=backtest)
        except ValueError as exc:  # a --backtest file of the wrong shape
            typer.secho(f"{type(exc).__name__}: {exc}", fg="red", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"{result.n_predictions} predictions, {result.n_players} player pages, "
                   f"{len(result.pages)} pages in {result.seconds:.2f} s")
        typer.echo(f"Report: {result.index_path}")
        if result.latest_dir is not None:
            typer.echo(f"Latest: {result.latest_dir / 'index.html'}")
