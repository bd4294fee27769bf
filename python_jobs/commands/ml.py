"""``nba-props train | score | grade | backtest | export``: Phase 5/6 commands (logic in python_jobs.ml)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import typer

from python_jobs.commands._common import json_output, parse_date, progress_bar
from python_jobs.config import get_settings
from python_jobs.dbt_runner import DbtError
from python_jobs.errors import NbaPropsError


def _date(value: str, option: str = "--date") -> date:
    return parse_date(value, option)  # type: ignore[return-value]


def _fail(exc: Exception) -> None:
    typer.secho(f"{type(exc).__name__}: {exc}", fg="red", err=True)
    raise typer.Exit(1) from exc


_HANDLED = (NbaPropsError, DbtError, ValueError, KeyError, FileNotFoundError)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train_cmd(
        cutoff: str = typer.Option(None, help="train on games before this date (default: today ET)"),
        system: list[str] = typer.Option(None, "--system", help="system id (repeatable; default all)"),
    ) -> None:
        """Train the prediction systems (time-based split) and register the new versions."""
        from python_jobs.ml.training import train

        try:
            report = train(get_settings(), systems=system or None, cutoff=_date(cutoff) if cutoff else None)
        except _HANDLED as exc:
            _fail(exc)
        typer.echo(json.dumps(asdict(report), indent=2, default=str))

    @app.command("score")
    def score_cmd(
        game_date: str = typer.Option(..., "--date", help="game date (US/Eastern) to score"),
        system: list[str] = typer.Option(None, "--system", help="system id (repeatable; default all)"),
        build: bool = typer.Option(True, help="run dbt build --selector phase5 afterwards"),
        allow_future_model: bool = typer.Option(
            False, help="score with a model trained on games on/after the date (its grades are leakage)"),
        correlation_id: str = typer.Option("manual", envvar="NBA_PROPS_CORRELATION_ID"),
    ) -> None:
        """Score a game date, write raw.prediction_scores and merge into player_prop_predictions."""
        from python_jobs.ml.scoring import score_date

        try:
            report = score_date(get_settings(), _date(game_date), systems=system or None,
                                correlation_id=correlation_id, build=build,
                                allow_future_model=allow_future_model)
        except _HANDLED as exc:
            _fail(exc)
        typer.echo(json.dumps(asdict(report), indent=2, default=str))

    @app.command("grade")
    def grade_cmd(game_date: str = typer.Option(..., "--date", help="game date to grade")) -> None:
        """Build Phase 6 (grading, daily performance, coverage) for a date."""
        from python_jobs.ml.grading import grade_date

        try:
            grade_date(get_settings(), _date(game_date))
        except _HANDLED as exc:
            _fail(exc)
        typer.echo(f"graded {game_date}")

    @app.command("backtest")
    def backtest_cmd(
        start: str = typer.Option(..., help="first game date"),
        end: str = typer.Option(..., help="last game date"),
        output: Path = typer.Option(..., help="JSON file to write"),
        retrain_every_days: int = typer.Option(7, help="retraining cadence (days between anchors)"),
        system: list[str] = typer.Option(None, "--system", help="system id (repeatable; default all)"),
        with_predictions: bool = typer.Option(False, help="also write every graded prediction row"),
        json_out: bool = typer.Option(False, "--json", help="print the result document (the --output JSON) on stdout"),
    ) -> None:
        """Walk-forward backtest on whatever the warehouse holds."""
        from python_jobs.ml.backtest import backtest

        d0, d1 = _date(start, "--start"), _date(end, "--end")
        try:
            with json_output(json_out) as emit, progress_bar("backtest", enabled=not json_out) as update:
                result = backtest(get_settings(), d0, d1, output=output,
                                  retrain_every_days=retrain_every_days, systems=system or None,
                                  include_predictions=with_predictions, on_date=update)
        except _HANDLED as exc:
            _fail(exc)
        if json_out:
            emit(result)
            return
        typer.echo(format_backtest_table(result))
        typer.echo(f"wrote {output} ({result['n_game_dates']} game dates, {result['seconds']} s)")

    @app.command("export")
    def export_cmd(game_date: str = typer.Option(..., "--date", help="game date to export")) -> None:
        """Write the day's picks and performance tables as JSON and CSV under exports/<date>/."""
        from python_jobs.ml.export import export_date

        try:
            report = export_date(get_settings(), _date(game_date))
        except _HANDLED as exc:
            _fail(exc)
        typer.echo(json.dumps(asdict(report), indent=2, default=str))


def format_backtest_table(result: dict) -> str:
    """A Markdown table of the overall figures per system (used in docs/ml.md)."""
    head = ("| system | predictions | bets | hits | pushes | hit rate | Wilson 95% | ROI | MAE model | MAE line |\n"
            "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    lines = [head]
    for sid, s in result["systems"].items():
        o = s["overall"]
        wil = f"{o['wilson_low']:.3f}-{o['wilson_high']:.3f}" if o["wilson_low"] is not None else "-"
        hr = f"{o['hit_rate']:.3f}" if o["hit_rate"] is not None else "-"
        roi = f"{o['roi']:+.3f}" if o["roi"] is not None else "-"
        lines.append(f"| {sid} | {o['n_predictions']} | {o['n_bets']} | {o['hits']} | {o['pushes']} | {hr} | "
                     f"{wil} | {roi} | {o['mae_model']} | {o['mae_line']} |")
    return "\n".join(lines)
