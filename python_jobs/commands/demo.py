"""``nba-props demo``: the README's main command, end to end on DuckDB over the bundled real data.

1. land the bundled history through the replay transport up to the day before the first demo date
   (ten seasons of box scores, schedules, players and the prop lines known by then);
2. run the daily pipeline (``run_day``: land, freshness gate, Phase 2-4 build, train if no model,
   score, Phase 5-6, export, monitoring) for each demo date, so the first date's picks are graded
   by the second date's run;
3. write the static report for the last date and print where it is.

Every step is idempotent: running the demo twice leaves the same warehouse (the second daily runs
are no-ops through their idempotency keys).
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import typer
from rich.table import Table

from python_jobs.commands._common import make_console
from python_jobs.config import Settings, get_settings

DEMO_DATES = (date(2025, 3, 19), date(2025, 3, 20))
# wide enough for the grades table when the output is a file or a CI log (rich assumes 80 columns)
console = make_console()


def run_demo(settings: Settings, dates: tuple[date, ...] = DEMO_DATES) -> int:
    """Run the demo; returns the process exit code (0 ok, 2 when a run ended with a failing SLO)."""
    from python_jobs.ingest import ingest_history
    from python_jobs.pipeline import PipelineFailed, run_day
    from python_jobs.report.generator import generate_report

    # dbt's per-node lines go to warehouse/logs/dbt.log; the console keeps the run summaries
    os.environ.setdefault("DBT_QUIET", "true")
    exit_code = 0
    t0 = time.monotonic()
    until = dates[0] - timedelta(days=1)
    console.rule(f"[bold]1. ingest the bundled real data up to {until}")
    report = ingest_history(settings, until=until)
    console.print(report)

    for i, day in enumerate(dates, start=2):
        console.rule(f"[bold]{i}. daily pipeline for {day}")
        try:
            result = run_day(settings, day, flow="demo")
        except PipelineFailed as exc:
            _print_run(exc.result)
            console.print(f"[red]{exc}[/red]  (stack trace in the log; `nba-props status` shows the run)")
            raise
        _print_run(result)
        if result.status == "slo_failed":
            exit_code = 2

    console.rule(f"[bold]{len(dates) + 2}. report for {dates[-1]}")
    site = generate_report(settings, dates[-1])
    _print_grades(settings, dates[:-1])
    console.print(f"\nDone in {time.monotonic() - t0:.0f} s.")
    console.print(f"Report: [bold]{site}[/bold]  (open it in a browser; it needs no network)")
    return exit_code


def _print_run(result) -> None:
    console.print(f"run {result.run_id}: [bold]{result.status}[/bold]")
    for step in result.steps:
        rows = "" if step.rows_out is None else f"rows={step.rows_out}"
        console.print(f"  {step.name:<12} {step.status:<8} {step.seconds:6.1f} s  {rows}")
    for alert in result.alerts:
        console.print(f"  [yellow]alert[/yellow] {alert}")


def _print_grades(settings: Settings, graded_dates: tuple[date, ...]) -> None:
    """The graded performance of the demo's finished dates, per system."""
    from python_jobs.warehouse.connection import connect

    with connect(settings, read_only=True) as con:
        rows = con.fetchall(
            """
            select game_date, system_id, n_predictions, n_bets, hits, hit_rate, mae_model, mae_line
            from grading.system_daily_performance
            where game_date in (select unnest(?::date[]))
            order by game_date, system_id
            """,
            [list(graded_dates)],
        )
    table = Table(title="Graded predictions (break-even hit rate at -110: 52.38%)")
    for col in ("date", "system", "predictions", "bets", "hits", "hit rate", "MAE model", "MAE line"):
        table.add_column(col)
    for d, system, n, bets, hits, rate, mae_model, mae_line in rows:
        table.add_row(str(d), system, str(n), str(bets), str(hits),
                      "-" if rate is None else f"{rate:.1%}",
                      "-" if mae_model is None else f"{mae_model:.2f}",
                      "-" if mae_line is None else f"{mae_line:.2f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo() -> None:
        """Ingest the bundled real data, run the daily pipeline for 2025-03-19 and 2025-03-20
        (graded picks), write the report, print where it is."""
        raise typer.Exit(run_demo(get_settings()))
