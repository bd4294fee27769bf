"""Every query the Python side sends to a table with BigQuery's ``require_partition_filter`` (raw
landing tables by ``scraped_at``, ``raw.prediction_scores`` and ``predictions.player_prop_predictions``
by ``game_date``) filters its partition column (issue #10).

The oracle is sqlglot: each statement sent through the Warehouse boundary is parsed and every read
of such a table must sit in a query block whose WHERE (or join ON) has a top-level AND term
comparing the bare partition column. The emulator does not enforce require_partition_filter (it
records no partitioning at all: README "Deploy to BigQuery", 4), so the check runs on the DuckDB
warehouse, whose SQL is the same text the BigQuery engine transpiles.

The recorded run: one season of bundled history landed through replay up to 2025-03-18 (landing,
its dedup map and batch validation), `run_day` for 2025-03-19 (source probes, counts, scoring,
grading), then `status`, `trace` (by player and by prediction id), the report of the date,
`backfill_dates`, `read_body` and a retraction.
"""

from __future__ import annotations

from datetime import date

import pytest

from python_jobs.warehouse.duckdb_engine import DuckDBWarehouse
from python_jobs.warehouse.partitions import required_partition_filters, unfiltered_partition_reads
from tests.python.conftest import make_settings

D = date(2025, 3, 19)

# the tables the dbt YAML marks with require_partition_filter, written out by hand
EXPECTED_REQUIRED = {
    ("raw", "landed_payloads"): "scraped_at",
    ("raw", "nba_player_game_logs"): "scraped_at",
    ("raw", "nba_schedule_games"): "scraped_at",
    ("raw", "nba_players"): "scraped_at",
    ("raw", "odds_player_props"): "scraped_at",
    ("raw", "prediction_scores"): "game_date",
    ("predictions", "player_prop_predictions"): "game_date",
}


def test_required_tables_are_read_from_the_dbt_yaml():
    assert required_partition_filters() == EXPECTED_REQUIRED


@pytest.mark.parametrize(("sql", "flagged"), [
    ("select * from raw.landed_payloads where payload_id = ?", ["raw.landed_payloads"]),
    ("select * from raw.landed_payloads where scraped_at >= ? and payload_id = ?", []),
    ('select * from "raw"."landed_payloads" p where p.payload_id = ? and p.scraped_at = ?', []),
    # an OR does not prune: the filter must be a top-level AND term
    ("select * from raw.landed_payloads p where p.payload_id = ? or p.scraped_at >= ?", ["raw.landed_payloads"]),
    # an expression of the column is not the column
    ("select * from raw.nba_players where cast(scraped_at as date) = ?", ["raw.nba_players"]),
    ("select count(*) > 0 from raw.nba_players", ["raw.nba_players"]),
    # the filter belongs to the block that scans the table, not to an outer one
    ("select * from (select * from raw.odds_player_props) o where o.scraped_at >= ?", ["raw.odds_player_props"]),
    ("select (select count(*) from raw.nba_player_game_logs where scraped_at >= ? and game_date = ?) > 0 "
     "or (select count(*) from raw.nba_schedule_games where game_date = ?) > 0", ["raw.nba_schedule_games"]),
    ("delete from raw.quarantine where payload_id not in (select payload_id from raw.landed_payloads)",
     ["raw.landed_payloads"]),
    ("delete from raw.nba_player_game_logs where payload_id = ?", ["raw.nba_player_game_logs"]),
    # in a join, the partition column of THAT table (qualified by its alias)
    ("select * from predictions.player_prop_predictions p join precompute.ml_feature_store f "
     "on p.feature_row_id = f.feature_row_id where f.game_date = ?", ["predictions.player_prop_predictions"]),
    ("select * from predictions.player_prop_predictions p join precompute.ml_feature_store f "
     "on p.feature_row_id = f.feature_row_id where p.game_date = ?", []),
    ("select * from raw.prediction_scores where game_date between ? and ?", []),
    ("select * from raw.quarantine", []),  # not partition-filtered: never flagged
    ("insert into raw.nba_players (payload_id) select payload_id from _wh_in_1", []),  # a write
])
def test_the_check_on_precise_statements(sql, flagged):
    assert unfiltered_partition_reads(sql, EXPECTED_REQUIRED) == flagged


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> list[str]:
    """Every SQL statement the Python side sent to the warehouse during the scenario above."""
    from python_jobs.ingest import ingest_history
    from python_jobs.landing import read_body
    from python_jobs.ops.retract import retract_payload
    from python_jobs.ops.status import status
    from python_jobs.ops.trace import find_predictions, trace_prediction
    from python_jobs.pipeline import backfill_dates, run_day
    from python_jobs.report.generator import generate_report
    from python_jobs.warehouse.connection import connect

    statements: list[str] = []
    patch = pytest.MonkeyPatch()
    run, fetch_arrow = DuckDBWarehouse._run, DuckDBWarehouse.fetch_arrow

    def recording_run(self, sql, params):
        statements.append(sql)
        return run(self, sql, params)

    def recording_fetch_arrow(self, sql, params=None):
        statements.append(sql)
        return fetch_arrow(self, sql, params)

    patch.setattr(DuckDBWarehouse, "_run", recording_run)
    patch.setattr(DuckDBWarehouse, "fetch_arrow", recording_fetch_arrow)
    try:
        settings = make_settings(tmp_path_factory.mktemp("partition_filters"))
        ingest_history(settings, seasons=["2024-25"], until=date(2025, 3, 18))
        result = run_day(settings, D)
        assert result.status in ("succeeded", "slo_failed"), result
        report = status(settings)
        assert report.reachable and report.sources  # the freshness read returned the landed sources
        ids = find_predictions(settings, "jokic", D)
        trace = trace_prediction(settings, ids[0])
        by_title = {s.title: s for s in trace.sections}
        assert by_title["raw payloads"].rows, "the trace found the payloads behind the prediction"
        assert {r["game_date"] for r in by_title["predictions"].rows} == {D}
        generate_report(settings, D, settings.warehouse_dir / "report")
        assert backfill_dates(settings, date(2025, 3, 17), D) == [date(2025, 3, 17), date(2025, 3, 18), D]
        payload = by_title["raw payloads"].rows[0]
        with connect(settings) as con:
            assert read_body(con, payload["payload_id"]) is not None
        retract_payload(settings, payload["payload_id"], "partition filter check")
    finally:
        patch.undo()
    return statements


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_python_read_of_a_partition_filtered_table_filters_its_partition(recorded):
    required = required_partition_filters()
    reads = [s for s in recorded if any(f"{schema}.{table}" in s.replace('"', "") for schema, table in required)]
    assert len(reads) >= 20, "the scenario reads the partition-filtered tables"
    offenders = {}
    for sql in recorded:
        missing = unfiltered_partition_reads(sql, required)
        if missing:
            offenders[" ".join(sql.split())[:300]] = missing
    if offenders:
        pytest.fail("reads without a partition filter:\n" + "\n".join(f"{v}: {k}" for k, v in offenders.items()))
