"""What each phase produces for a game date D: the relations and date offsets counted by the
pipeline (completion records) and by ``reconcile``. Identifiers come only from this allowlist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from python_jobs.warehouse.base import Warehouse
from python_jobs.warehouse.partitions import landed_since


@dataclass(frozen=True)
class Counted:
    schema: str
    table: str
    date_sql: str          # expression giving the game date of a row (from this allowlist only)
    offset_days: int = 0   # the run for D produces rows for D + offset (box scores: D-1)
    measure_sql: str = "count(*)"  # what is counted (from this allowlist only)
    # raw tables: the landing-time partition column, bounded by landed_since(the row's game date)
    landed_at: str | None = None


PHASE_OUTPUTS: dict[str, list[Counted]] = {
    "phase1": [
        Counted("raw", "nba_player_game_logs", "game_date", -1, landed_at="scraped_at"),
        Counted("raw", "nba_schedule_games", "game_date", landed_at="scraped_at"),
        Counted("raw", "odds_player_props",
                "cast(timezone('America/New_York', coalesce(commence_time, captured_at)) as date)",
                landed_at="scraped_at"),
    ],
    "phase2": [
        Counted("staging", "stg_nba__player_game_logs", "game_date", -1),
        Counted("staging", "stg_nba__schedule_games", "game_date"),
        Counted("staging", "stg_odds__player_prop_lines", "game_date"),
    ],
    "phase3": [
        Counted("analytics", "player_game_summary", "game_date", -1),
        Counted("analytics", "player_consensus_lines", "game_date"),
    ],
    # A date's feature rows are rebuilt by later runs when its results land (labels; the players who
    # played replace the morning's registry guesses), so their number changes by design. What the
    # run for D produced and must keep is a feature row set for every team of D's slate.
    "phase4": [Counted("precompute", "ml_feature_store", "game_date", measure_sql="count(distinct team_id)")],
    "phase5": [Counted("predictions", "player_prop_predictions", "game_date")],
    "phase6": [Counted("grading", "prediction_accuracy", "game_date", -1)],
}
PHASES = list(PHASE_OUTPUTS)


def relation_exists(con: Warehouse, schema: str, table: str) -> bool:
    return con.table_exists(f"{schema}.{table}")


def count_phase(con: Warehouse, phase: str, game_date: date) -> int | None:
    """Rows the phase holds for ``game_date``; None when one of its relations does not exist."""
    total = 0
    for c in PHASE_OUTPUTS[phase]:
        if not relation_exists(con, c.schema, c.table):
            return None
        day = game_date + timedelta(days=c.offset_days)
        partition, params = ("", []) if c.landed_at is None else (f"{c.landed_at} >= ? and ", [landed_since(day)])
        total += con.fetchone(
            f'select {c.measure_sql} from "{c.schema}"."{c.table}" where {partition}{c.date_sql} = ?', [*params, day]
        )[0]
    return int(total)
