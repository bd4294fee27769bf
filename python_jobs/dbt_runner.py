"""Run dbt in-process (``dbtRunner``): the import and the parse are paid once per process.

A dbt command-line call costs ~3.5-4 s before doing anything; in-process invocations after the
first take ~0.4 s. Every Python entry point (CLI, flows, tests, bench) goes through ``run_dbt``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
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

# The per-run values (they change with every run or date). They travel to dbt in the environment
# variable RUN_VARS_ENV (JSON), read by the macro run_var() only while executing, never as --vars:
# dbt re-parses the whole project (~4 s) whenever --vars change, while an environment variable
# that parsing never reads keeps the saved parse (partial_parse.msgpack) valid.
RUN_VARS = frozenset({"run_date", "correlation_id", "pipeline_run_id", "pipeline_phase", "pipeline_flow",
                      "coverage_slo", "stale_sources", "late_alert_minutes"})
RUN_VARS_ENV = "NBA_PROPS_DBT_RUN_VARS"


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


# commands that run on a parsed manifest: they get the one this process parsed last (see _manifest)
MANIFEST_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "source", "compile", "show", "ls",
                               "list", "run-operation"})
# what dbt parses: a change to any of these files invalidates the kept manifest
_PROJECT_FILES = ("dbt_project.yml", "selectors.yml", "profiles.yml", "packages.yml", "dependencies.yml")
_PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md", ".py")
_manifest_cache: dict[tuple, Any] = {}


@functools.lru_cache(maxsize=8)
def _project_dirs(project_file: Path, mtime_ns: int) -> tuple[str, ...]:  # noqa: ARG001 - cache key
    """The folders dbt reads (model-paths, macro-paths, ...) named by ``dbt_project.yml``."""
    import yaml

    project = yaml.safe_load(project_file.read_text()) or {}
    return tuple(sorted({d for key in ("model-paths", "macro-paths", "seed-paths", "snapshot-paths", "test-paths",
                                       "analysis-paths") for d in project.get(key) or []}))


def _project_fingerprint(home: Path) -> tuple:
    """(path, mtime, size) of every file dbt parses under ``home`` (a few ms): a change anywhere
    (an edited model, a new test) makes the next invocation parse again."""
    project_file = home / "dbt_project.yml"
    dirs = _project_dirs(project_file, project_file.stat().st_mtime_ns)
    stats = []
    for name in _PROJECT_FILES:
        with contextlib.suppress(FileNotFoundError):
            st = (home / name).stat()
            stats.append((name, st.st_mtime_ns, st.st_size))
    for d in dirs:
        for root, subdirs, files in os.walk(home / d):
            subdirs[:] = [s for s in subdirs if not s.startswith((".", "__"))]
            for f in files:
                # tests/ also holds the Python test suite: dbt reads only its .sql and .yml there
                if f.endswith(_PROJECT_SUFFIXES) and not (d == "tests" and f.endswith(".py")):
                    st = os.stat(os.path.join(root, f))
                    stats.append((os.path.join(root, f), st.st_mtime_ns, st.st_size))
    return tuple(sorted(stats))


def _manifest(common: list[str], settings: Settings) -> Any | None:
    """The parsed manifest for ``common`` (project, profile, target, --vars), parsed once per process.

    A dbt invocation otherwise reloads its saved parse (partial_parse.msgpack) and rewrites
    manifest.json every time (~1 s each); with the manifest passed in, dbt skips both. It is kept
    while the project's files, the --vars and the environment dbt reads (profile, target) are
    unchanged, and parsed again (``dbt parse``: partial parsing) otherwise.
    None when the parse fails: the command then parses itself and reports the error.
    """
    from dbt.cli.main import dbtRunner

    env = tuple(sorted((k, v) for k, v in os.environ.items()
                       if k.startswith(("NBA_PROPS_", "DBT_")) and k != RUN_VARS_ENV))
    key = (tuple(common), env, _project_fingerprint(settings.home))
    if key not in _manifest_cache:
        # the saved parse (partial_parse.msgpack) is written either way; manifest.json is not
        # (~0.5 s, nothing reads it; `nba-props dbt parse` or `docs generate` write it)
        parsed = dbtRunner().invoke(["parse", *common, "--no-write-json"])
        if not parsed.success or parsed.result is None:
            return None
        _manifest_cache.clear()
        _manifest_cache[key] = parsed.result
    return _manifest_cache[key]


def _runner(settings: Settings, command: str, common: list[str]):
    from dbt.cli.main import dbtRunner

    if command in MANIFEST_COMMANDS:
        manifest = _manifest(common, settings)
        if manifest is not None:
            return dbtRunner(manifest=manifest)
    key = str(settings.database_path)
    if key not in _runner_cache:
        _runner_cache.clear()
        _runner_cache[key] = dbtRunner()
    return _runner_cache[key]


def run_dbt(args: list[str], settings: Settings | None = None, *, check: bool = True,
            vars: dict[str, Any] | None = None, write_json: bool = False) -> DbtOutcome:
    """Invoke dbt with ``args`` (e.g. ``["build", "--selector", "phase2"]``).

    ``vars`` named in ``RUN_VARS`` go to dbt in the environment (macro run_var), the others as
    ``--vars``. ``write_json``: dbt's artifacts of the invocation (run_results.json, sources.json and
    manifest.json again, ~0.5 s per invocation); off by default, as nothing reads them (the per-node
    results are in raw.pipeline_execution_log; ``nba-props dbt ...`` passes True).
    Raises ``DbtError`` when ``check`` and any node errored or failed.
    """
    import json

    settings = settings or get_settings()
    vars = dict(vars or {})
    run_vars = {k: vars.pop(k) for k in list(vars) if k in RUN_VARS}
    common = [
        "--project-dir", str(settings.home),
        "--profiles-dir", str(settings.home),
        "--target", settings.dbt_target,
        "--target-path", str(settings.dbt_target_path),
        "--log-path", str(settings.warehouse_dir / "logs"),
    ]
    if vars:
        common += ["--vars", json.dumps(vars, default=str, sort_keys=True)]
    full = list(args) + common
    if args and args[0] in {"build", "run", "test", "seed", "snapshot", "source"}:
        full += ["--threads", str(settings.threads)]
    if not write_json and args and args[0] in MANIFEST_COMMANDS:
        full += ["--no-write-json"]
    log.info("dbt %s%s", " ".join(args), f" (run values {run_vars})" if run_vars else "")
    env = dbt_env(settings)
    if run_vars:   # for this invocation only (restored after it); without any, the caller's environment
        env[RUN_VARS_ENV] = json.dumps(run_vars, default=str, sort_keys=True)
    with _scoped_env(env):
        try:
            res = _runner(settings, args[0] if args else "", common).invoke(full)
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
