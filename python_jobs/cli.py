"""The one command-line interface: ``nba-props``.

Commands live in ``python_jobs/commands/<area>.py``; each module exposes ``register(app)``.
The logic lives in library modules so the CLI, the flows and the tests call the same functions.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

import typer
from rich.logging import RichHandler

import python_jobs.commands as commands_pkg
from python_jobs.commands._common import make_console
from python_jobs.runtime import run_batch_process

app = typer.Typer(
    name="nba-props",
    help="NBA player-points props warehouse: scrape, build, predict, grade, report.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logging")) -> None:
    """Configure logging once for every command."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        # logs go to stderr: stdout carries only the command's output (tables, --json documents)
        handlers=[RichHandler(console=make_console(stderr=True), rich_tracebacks=True, show_path=False)],
        force=True,
    )
    for noisy in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


for _mod in sorted(m.name for m in pkgutil.iter_modules(commands_pkg.__path__) if not m.name.startswith("_")):
    importlib.import_module(f"python_jobs.commands.{_mod}").register(app)


def run() -> None:
    """The ``nba-props`` console script (and ``python -m python_jobs.cli``): the app with the batch
    collector thresholds, then the process ends without the interpreter's teardown
    (``python_jobs.runtime``: ~2.5 s of a daily run). Tests call ``app`` itself."""
    run_batch_process(app)


if __name__ == "__main__":  # pragma: no cover
    run()
