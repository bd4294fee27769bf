"""Report benchmark: generate the daily site for one date on the bundled real data.

Builds its own warehouse the way the demo does (bundled history up to 2025-03-18, then the daily
pipeline for 2025-03-19 and 2025-03-20), then times ``generate_report`` for 2025-03-20 twice
(cold: first plotly.js write and first queries; warm: a regeneration) and for a date without
games. Figures: seconds, predictions, player pages, site size.
"""

from __future__ import annotations

import time
from datetime import date

from python_jobs.config import Settings

HISTORY_UNTIL = date(2025, 3, 18)
DAYS = (date(2025, 3, 19), date(2025, 3, 20))
EMPTY_DAY = date(2025, 7, 4)


def _site_mib(path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 2)


def run(settings: Settings) -> dict[str, float | int | str]:
    from python_jobs.ingest import ingest_history
    from python_jobs.pipeline import run_day
    from python_jobs.report import generate_report

    started = time.perf_counter()
    ingest_history(settings, until=HISTORY_UNTIL)
    for day in DAYS:
        run_day(settings, day)
    setup = time.perf_counter() - started
    report_date = DAYS[-1]
    cold = generate_report(settings, report_date, output_dir=settings.warehouse_dir / "site")
    warm = generate_report(settings, report_date, output_dir=settings.warehouse_dir / "site")
    empty = generate_report(settings, EMPTY_DAY, output_dir=settings.warehouse_dir / "site-empty")
    return {
        "report_date": report_date.isoformat(),
        "setup_seconds": round(setup, 1),
        "report_cold_seconds": cold.seconds,
        "report_warm_seconds": warm.seconds,
        "report_empty_day_seconds": empty.seconds,
        "n_predictions": warm.n_predictions,
        "n_player_pages": warm.n_players,
        "n_pages": len(warm.pages),
        "site_mib": _site_mib(warm.output_dir),
    }
