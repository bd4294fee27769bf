"""What every command shares: date options, the console, ``--json`` output and progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


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


def json_default(value: Any) -> Any:
    """JSON for what the warehouse returns: timestamps and dates as ISO 8601, decimals as numbers."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@contextmanager
def json_output(enabled: bool) -> Iterator[Callable[[Any], None]]:
    """``--json``: while the command works, whatever it would print on stdout goes to stderr; the
    function yielded writes the one JSON document to the real stdout (so ``| jq`` always parses)."""
    stdout = sys.stdout

    def emit(doc: Any) -> None:
        stdout.write(json.dumps(doc, default=json_default, indent=2) + "\n")
        stdout.flush()

    if not enabled:
        yield emit
        return
    with redirect_stdout(sys.stderr):
        yield emit


@contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar on stderr, drawn only when stderr is a terminal and ``enabled`` (never in
    a pipe, a file or under ``--json``). Yields ``update(done, total, description)``."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda done, total, description="": None
        return
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=make_console(stderr=True), transient=False) as progress:
        task = progress.add_task("", total=None)

        def update(done: int, total: int, description: str = "") -> None:
            progress.update(task, completed=done, total=total, description=description)

        yield update
