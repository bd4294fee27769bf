"""Serve the three deployments from one long-running process (no work pool needed)::

    uv run prefect server start &                 # or Prefect Cloud
    PREFECT_API_URL=http://127.0.0.1:4200/api uv run python -m flows.serve

The served deployments are named ``<flow>/<flow>-served`` (``daily/daily-served``): they run in
this process from this checkout. They must not share a name with the work-pool deployments of
``prefect deploy --all`` (``daily/daily``): serving under the same name would rewrite those
deployments, and their runs then crash with "Downloading flow code from storage at None".

Same schedules as ``prefect.yaml``: daily at 10:00 America/New_York, reconcile Mondays 06:00;
the backfill deployment runs on demand with parameters
(``prefect deployment run backfill/backfill-served -p start=... -p end=...``).
"""

from __future__ import annotations

from flows._prefect_env import configure_prefect

configure_prefect()

from prefect import serve  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows.backfill import backfill  # noqa: E402
from flows.daily import daily  # noqa: E402
from flows.reconcile import reconcile  # noqa: E402

TIMEZONE = "America/New_York"
SERVED = "{}-served"   # never the names prefect.yaml deploys to a work pool


def deployments() -> list:
    return [
        daily.to_deployment(name=SERVED.format("daily"), schedules=[Cron("0 10 * * *", timezone=TIMEZONE)],
                            concurrency_limit=1, tags=["nba-props", "daily"]),
        backfill.to_deployment(name=SERVED.format("backfill"), parameters={"start": "2025-03-01", "end": "2025-03-20"},
                               concurrency_limit=1, tags=["nba-props", "backfill"]),
        reconcile.to_deployment(name=SERVED.format("reconcile"), schedules=[Cron("0 6 * * 1", timezone=TIMEZONE)],
                                tags=["nba-props", "reconcile"]),
    ]


if __name__ == "__main__":
    serve(*deployments())
