"""``nba-props dbt ...``: dbt with the project's profile, target and warehouse path."""

from __future__ import annotations

import typer

from python_jobs.config import get_settings
from python_jobs.dbt_runner import DbtError, run_dbt


def register(app: typer.Typer) -> None:
    @app.command(
        "dbt",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def dbt(ctx: typer.Context) -> None:
        """Run any dbt command against the configured warehouse, e.g. `nba-props dbt build --selector phase2`."""
        try:
            run_dbt(list(ctx.args), get_settings(), write_json=True)
        except DbtError as exc:
            typer.secho(str(exc), fg="red", err=True)
            raise typer.Exit(1) from exc
