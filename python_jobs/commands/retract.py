"""`nba-props retract`: un-import a landed payload (logic in python_jobs.ops.retract)."""

from __future__ import annotations

import typer
from rich.console import Console

from python_jobs.config import get_settings

console = Console()


def register(app: typer.Typer) -> None:
    @app.command("retract")
    def retract_cmd(
        payload_id: str = typer.Argument(..., help="raw.landed_payloads.payload_id to retract"),
        reason: str = typer.Option(..., "--reason", help="why (kept in raw.payload_retractions)"),
        rebuild: bool = typer.Option(True, help="rebuild phases 2-4 from raw so it takes effect downstream"),
    ) -> None:
        """Retract a landed payload: staging leaves its records out; nothing is deleted. Exit 1 on error."""
        from python_jobs.ops.retract import (
            RetractionError,
            rebuild_after_retraction,
            retract_payload,
        )

        settings = get_settings()
        try:
            r = retract_payload(settings, payload_id, reason)
        except RetractionError as exc:
            console.print(f"[red]retract failed: {exc}[/red]")
            raise typer.Exit(1) from None
        if r.already_retracted:
            console.print(f"payload {payload_id} was already retracted at {r.retracted_at} ({r.reason})")
        else:
            console.print(f"retracted payload {payload_id}: {r.reason} (retraction {r.retraction_id})")
        if rebuild:
            rebuild_after_retraction(settings)
            console.print("phases 2-4 rebuilt without the retracted payloads")
