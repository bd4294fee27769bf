"""Run dbt in-process (``dbtRunner``): the import and the parse are paid once per process.

A dbt command-line call costs ~3.5-4 s before doing anything; in-process invocations after the
first take ~0.4 s. Every Python entry point (CLI, flows, tests, bench) goes through ``run_dbt``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
from collections.abc import Callable, Iterator
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


# dbt's log file (<warehouse>/logs/dbt.log) gets what the console gets, at info: dbt's default for
# the file, debug, also writes every statement it sends and ~50 lines per node (2 MB a day), which
# cost ~0.5 s of a daily run (docs/performance.md). The compiled SQL of every node stays in
# target/run; DBT_LOG_LEVEL_FILE=debug in the environment (dbt's own setting) brings the full log back.
FILE_LOG_LEVEL = "info"
FILE_LOG_LEVEL_ENV = "DBT_LOG_LEVEL_FILE"


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
        parsed = _parsing(settings, common, lambda: dbtRunner().invoke(["parse", *common, "--no-write-json"]))
        if not parsed.success or parsed.result is None:
            return None
        _manifest_cache.clear()
        _manifest_cache[key] = parsed.result
    return _manifest_cache[key]


# ---------------------------------------------------------------- dbt's saved parse, kept per machine
SAVED_PARSE = "partial_parse.msgpack"
SAVED_PARSE_CACHE_VERSION = 1


def _kept_parse_path(settings: Settings, common: list[str]) -> Path:
    """Where the machine keeps dbt's latest saved parse for a new warehouse of this project, target,
    catalog and ``--vars``: the values dbt checks before it reuses a saved parse (the profile's
    connection info holds the catalog, not the file's path: profiles.yml), plus the project's
    folder (the saved parse records absolute paths) and the dbt versions."""
    from importlib.metadata import version

    from python_jobs.files import cache_key
    from python_jobs.warehouse.duckdb_engine import catalog_name

    catalog = catalog_name(str(settings.database_path)) if settings.engine == "duckdb" else ""
    vars_ = common[common.index("--vars") + 1] if "--vars" in common else ""
    key = cache_key((f"v{SAVED_PARSE_CACHE_VERSION}", str(Path(settings.home).resolve()), settings.dbt_target,
                     catalog, vars_, version("dbt-core"), version("dbt-duckdb")))
    return settings.cache_dir / "dbt-parse" / f"{key}.msgpack"


def _parsing(settings: Settings, common: list[str], invoke: Callable[[], Any]) -> Any:
    """``invoke()`` (a dbt invocation that parses the project), started from the machine's kept
    saved parse when the warehouse has none of its own, its saved parse kept after a success."""
    kept = _kept_parse_path(settings, common)
    _seed_saved_parse(settings, kept)
    res = invoke()
    if res.success:
        _keep_saved_parse(settings, kept)
    return res


def _seed_saved_parse(settings: Settings, kept: Path) -> None:
    """A warehouse without a saved parse of its own (a new one) starts from the one the machine
    kept (``_keep_saved_parse``), so that ``dbt parse`` re-parses only what changed since (dbt
    compares every file's checksum, the vars, the profile and the project config with it, and
    parses everything again when those differ) instead of the whole project (~3.5 s)."""
    from python_jobs.files import atomic_write

    own = settings.dbt_target_path / SAVED_PARSE
    if own.exists() or not kept.exists():
        return
    try:
        atomic_write(own, lambda tmp: shutil.copyfile(kept, tmp))
    except OSError as exc:   # costs only time: dbt parses the whole project
        log.warning("kept dbt parse %s not copied to %s: %s", kept, own, exc)


def _keep_saved_parse(settings: Settings, kept: Path) -> None:
    """Keep the warehouse's saved parse, just written or checked by ``dbt parse``, for the next
    new warehouse (atomically: a reader never sees half of it). A cache that cannot be written
    costs only time: a warning."""
    from python_jobs.files import atomic_write

    own = settings.dbt_target_path / SAVED_PARSE
    try:
        if not own.exists() or (kept.exists() and kept.read_bytes() == own.read_bytes()):
            return
        atomic_write(kept, lambda tmp: shutil.copyfile(own, tmp))
    except OSError as exc:
        log.warning("dbt parse %s not kept in %s: %s", own, kept, exc)


def _runner(settings: Settings, command: str, common: list[str]) -> tuple[Any, bool]:
    """The dbtRunner for ``command`` and whether the invocation parses the project itself (False:
    it is given the manifest this process parsed)."""
    from dbt.cli.main import dbtRunner

    if command in MANIFEST_COMMANDS:
        manifest = _manifest(common, settings)
        if manifest is not None:
            return dbtRunner(manifest=manifest), False
    key = str(settings.database_path)
    if key not in _runner_cache:
        _runner_cache.clear()
        _runner_cache[key] = dbtRunner()
    return _runner_cache[key], True


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
    if FILE_LOG_LEVEL_ENV not in os.environ and not any(a.startswith("--log-level-file") for a in args):
        full += ["--log-level-file", FILE_LOG_LEVEL]
    log.info("dbt %s%s", " ".join(args), f" (run values {run_vars})" if run_vars else "")
    env = dbt_env(settings)
    if run_vars:   # for this invocation only (restored after it); without any, the caller's environment
        env[RUN_VARS_ENV] = json.dumps(run_vars, default=str, sort_keys=True)
    with _scoped_env(env):
        try:
            runner, parses = _runner(settings, args[0] if args else "", common)
            res = _parsing(settings, common, lambda: runner.invoke(full)) if parses else runner.invoke(full)
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
