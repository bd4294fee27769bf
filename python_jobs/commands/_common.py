"""What every command shares: date options and the console (one place for both)."""

from __future__ import annotations

import sys
from datetime import date, datetime

import typer
from rich.console import Console


def parse_date(value: str | None, option: str = "--date") -> date | None:
    """A YYYY-MM-DD option value, or a usage error (exit 2) naming the option: never a traceback."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from None


def make_console(*, stderr: bool = False) -> Console:
    """Rich console; when the output is not a terminal (a pipe, a file) lines are never wrapped or
    cut at 80 columns: tables print at their full width."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 400, soft_wrap=not stream.isatty())
