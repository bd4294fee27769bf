"""Validation benchmark: what the Great Expectations checkpoint costs, apart from the rest of the run.

- ``gx_import_seconds``: ``import great_expectations`` in a fresh process (paid only by the
  commands that validate: the CLI and the ingest path never import it);
- ``gx_checkpoint_seconds``: the daily checkpoint (``step gx_checkpoint`` of ``run-day``) for one
  replayed date, 2025-03-19, on one season of history built through Phase 4 (landed batches, staging
  keys, feature store; the predictions mart is not built here and is reported as skipped), GX
  context and Data Docs included, import excluded;
- ``gx_checkpoint_rerun_seconds``: the same again in the same process;
- ``edge_validation_records_per_second`` is in the ingest benchmark (the hot path does not use GX).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, timedelta

from python_jobs.config import PROJECT_ROOT, Settings

DAY = date(2025, 3, 19)


def run(settings: Settings) -> dict[str, float | int | str]:
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ingest import ingest_history
    from python_jobs.warehouse.connection import connect

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import great_expectations"], cwd=PROJECT_ROOT, check=True)
    import_seconds = time.perf_counter() - started

    ingest_history(settings, seasons=["2024-25"], until=DAY - timedelta(days=1))
    from python_jobs.ingest import land_day

    land_day(settings, DAY)
    run_dbt(["build", "--selector", "through_phase4"], settings, vars={"run_date": DAY.isoformat()})

    from python_jobs.validation.gx_checkpoint import GxRunner, run_checkpoint

    GxRunner()   # the import, paid once, outside the checkpoint figure
    figures: dict[str, float | int | str] = {"gx_import_seconds": round(import_seconds, 3)}
    for label in ("gx_checkpoint_seconds", "gx_checkpoint_rerun_seconds"):
        with connect(settings) as con:
            started = time.perf_counter()
            report = run_checkpoint(settings, con, DAY)
            figures[label] = round(time.perf_counter() - started, 3)
    figures.update({
        "gx_checkpoint_validations": len(report.validations),
        "gx_checkpoint_expectations": sum(v.evaluated for v in report.validations),
        "gx_checkpoint_rows": sum(v.rows for v in report.validations),
        "gx_checkpoint_failed_expectations": report.n_failed,
        "gx_checkpoint_skipped": ", ".join(report.skipped) or "none",
    })
    return figures
