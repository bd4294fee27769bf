"""Engine-neutral warehouse errors: callers catch these, never an engine's own exception types."""

from __future__ import annotations

from python_jobs.errors import ConfigurationError, PermanentError, TransientError


class WarehouseFileConflict(TransientError):
    """DuckDB: another process holds the database file's own lock (retry later)."""


class WarehouseUnavailable(PermanentError):
    """The warehouse cannot be opened at all (missing file for a read-only open, bad path, ...)."""


class RelationNotFound(PermanentError):
    """A query named a table or view that does not exist (e.g. a phase that was never built)."""


class EngineNotAvailable(ConfigurationError):
    """The target's engine has no implementation installed (e.g. the BigQuery extra is missing)."""
