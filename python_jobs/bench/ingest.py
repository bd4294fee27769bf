"""Phase 1 benchmark: ten-season ingest, idempotent rerun, one-day land_day, payload parse rate."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from python_jobs.config import Settings
from python_jobs.ingest import bundled_seasons, ingest_history, land_day
from python_jobs.parsers.payloads import parse_payload
from python_jobs.scrapers import endpoints as ep
from python_jobs.scrapers.replay import ReplayTransport
from python_jobs.warehouse.connection import connect
from python_jobs.warehouse.partitions import floor_timestamp

ONE_DAY = date(2025, 3, 19)


def _sub(settings: Settings, name: str) -> Settings:
    s = settings.model_copy(update={"warehouse_dir": settings.warehouse_dir / name})
    s.warehouse_dir.mkdir(parents=True, exist_ok=True)
    return s


def run(settings: Settings) -> dict[str, float | int | str]:
    # parse rate: the ten replayed LeagueGameLog payloads through the parser alone
    transport = ReplayTransport(settings, as_of=datetime(2026, 1, 1, tzinfo=UTC))
    bodies = [transport.fetch(ep.league_game_log(s)).body.encode() for s in bundled_seasons(settings)]
    started = time.perf_counter()
    rows = sum(parse_payload("stats_nba", "leaguegamelog", b).n_records for b in bodies)
    parse_seconds = time.perf_counter() - started
    mb = sum(len(b) for b in bodies) / 1e6

    full = _sub(settings, "full")
    started = time.perf_counter()
    report = ingest_history(full)
    ingest_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rerun = ingest_history(full)
    rerun_seconds = time.perf_counter() - started
    with connect(full, read_only=True) as con:
        stored = con.fetchone("select sum(octet_length(body)), sum(byte_size) from raw.landed_payloads "
                             "where scraped_at >= ? and body is not null", [floor_timestamp()])  # all, by design

    one = _sub(settings, "one_day")
    ingest_history(one, seasons=["2024-25"], until=ONE_DAY - timedelta(days=1))
    started = time.perf_counter()
    day = land_day(one, ONE_DAY)
    land_seconds = time.perf_counter() - started

    return {
        "ten_season_ingest_seconds": round(ingest_seconds, 3),
        "ten_season_payloads": report.n_payloads,
        "ten_season_records_valid": report.n_records_valid,
        "ten_season_records_quarantined": report.n_records_quarantined,
        "ten_season_rerun_seconds": round(rerun_seconds, 3),
        "ten_season_rerun_duplicates": rerun.n_duplicates,
        "ten_season_rerun_records_loaded": rerun.n_records_valid,
        "stored_body_mb": round((stored[0] or 0) / 1e6, 2),
        "received_body_mb": round((stored[1] or 0) / 1e6, 2),
        "one_day_land_day_seconds": round(land_seconds, 3),
        "one_day_payloads": day.n_payloads,
        "one_day_records_valid": day.n_records_valid,
        "leaguegamelog_parse_rows_per_second": round(rows / parse_seconds),
        "leaguegamelog_parse_mb_per_second": round(mb / parse_seconds, 1),
    }
