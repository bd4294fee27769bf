"""Run dbt in-process (``dbtRunner``): the import and the parse are paid once per process.

A dbt command-line call costs ~3.5-4 s before doing anything; in-process invocations after the
first take ~0.4 s. Every Python entry point (CLI, flows, tests, bench) goes through ``run_dbt``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from python_jobs.config import Settings, dbt_env, get_settings
from python_jobs.errors import PicklableError

log = logging.getLogger(__name__)


class DbtError(PicklableError, RuntimeError):
    """A dbt invocation failed (a model, a test or dbt itself)."""

    def __init__(self, args: list[str], failures: list[str], exception: BaseException | None = None):
        self.args_ = args
        self.failures = failures
        self.exception = exception
        detail = "; ".join(failures[:20]) or (repr(exception) if exception else "unknown failure")
        super().__init__(f"dbt {' '.join(args)} failed: {detail}")


@dataclass
class DbtOutcome:
    args: list[str]
    success: bool
    results: list[Any] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


_runner_cache: dict[str, Any] = {}


@contextmanager
def _scoped_env(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` for the duration of one dbt invocation, then restore what was there."""
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def release_dbt_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open for the life of the process.

    dbt-duckdb holds its environment (and the file's write lock) in a class attribute after an
    in-process invocation. Released after every invocation so the same process (or another one
    waiting on a lock) can open the file, and a later invocation against another database file
    never reuses this one. The next ``run_dbt`` reopens it (milliseconds).
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # the prod target runs on dbt-bigquery only
        return
    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def _runner(settings: Settings):
    from dbt.cli.main import dbtRunner

    key = str(settings.database_path)
    if key not in _runner_cache:
        _runner_cache.clear()
        _runner_cache[key] = dbtRunner()
    return _runner_cache[key]


def run_dbt(args: list[str], settings: Settings | None = None, *, check: bool = True,
            vars: dict[str, Any] | None = None) -> DbtOutcome:
    """Invoke dbt with ``args`` (e.g. ``["build", "--selector", "phase2"]``).

    Raises ``DbtError`` when ``check`` and any node errored or failed.
    """
    import json

    settings = settings or get_settings()
    full = list(args) + [
        "--project-dir", str(settings.home),
        "--profiles-dir", str(settings.home),
        "--target", settings.dbt_target,
        "--target-path", str(settings.dbt_target_path),
        "--log-path", str(settings.warehouse_dir / "logs"),
    ]
    if vars:
        full += ["--vars", json.dumps(vars, default=str)]
    if args and args[0] in {"build", "run", "test", "seed", "snapshot", "source"}:
        full += ["--threads", str(settings.threads)]
    log.info("dbt %s", " ".join(args))
    with _scoped_env(dbt_env(settings)):
        try:
            res = _runner(settings).invoke(full)
        finally:
            release_dbt_duckdb()
    results = []
    failures: list[str] = []
    if res.result is not None and hasattr(res.result, "results"):
        results = list(res.result.results)
        for r in results:
            status = str(getattr(r, "status", "")).lower()
            if status in {"error", "fail", "runtime error"}:
                node = getattr(r, "node", None)
                name = getattr(node, "unique_id", "?") if node else "?"
                failures.append(f"{name}: {status}: {getattr(r, 'message', '')}")
    outcome = DbtOutcome(args=list(args), success=bool(res.success), results=results, failures=failures)
    if check and not res.success:
        raise DbtError(list(args), failures, res.exception)
    return outcome
