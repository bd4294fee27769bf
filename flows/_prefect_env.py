"""Prefect environment for the flows: ephemeral mode (no server to install), project-local state.

Must run BEFORE ``prefect`` is imported (Prefect reads its settings from the environment at
import). Values already set in the environment win, so a user pointing ``PREFECT_API_URL`` at a
long-running ``prefect server start`` (or Prefect Cloud) keeps it.

- ``PREFECT_HOME``: ``<warehouse_dir>/prefect`` (the ephemeral SQLite database and logs live next
  to the warehouse, not in ``~/.prefect``);
- analytics/telemetry off (``PREFECT_SERVER_ANALYTICS_ENABLED=false``, ``DO_NOT_TRACK=1``);
- ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=120``: the temporary server takes 11-20 s
  to start on a small machine, beyond Prefect's 20 s default when the machine is busy;
- ``PREFECT_RUNNER_POLL_FREQUENCY=1``: ``flows.serve`` starts a new run within a second.
"""

from __future__ import annotations

import os
from pathlib import Path

from python_jobs.config import get_settings

EPHEMERAL_STARTUP_TIMEOUT_SECONDS = "120"
RUNNER_POLL_SECONDS = "1"


def prefect_env(warehouse_dir: Path) -> dict[str, str]:
    """The environment the flows set (without overriding what the user already set)."""
    return {
        "PREFECT_HOME": str(Path(warehouse_dir).resolve() / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        "PREFECT_LOGGING_LEVEL": "INFO",
        # the library's stdlib loggers (python_jobs.pipeline, ...) show up in the flow run logs
        "PREFECT_LOGGING_EXTRA_LOGGERS": "python_jobs",
        # a served deployment (flows.serve) picks up a new flow run within this many seconds
        # (Prefect's default is 10: an on-demand run waited up to 10 s before it started)
        "PREFECT_RUNNER_POLL_FREQUENCY": RUNNER_POLL_SECONDS,
    }


def configure_prefect(warehouse_dir: Path | None = None) -> dict[str, str]:
    """Set the Prefect environment (setdefault) and return what is in effect."""
    env = prefect_env(warehouse_dir or get_settings().warehouse_dir)
    for key, value in env.items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return {k: os.environ[k] for k in env}
