"""Phase 6 exports: a day's picks and the performance tables as JSON and CSV files.

``export_date(settings, D)`` writes ``settings.exports_dir/<D>/``:
- ``picks.{json,csv}``: every prediction of D (all systems) with the player's name;
- ``accuracy.{json,csv}``: the graded rows of D (grading.prediction_accuracy);
- ``performance.{json,csv}``: grading.system_daily_performance of D;
- ``performance_to_date.{json,csv}``: per system, everything graded up to and including D;
- ``manifest.json``: row counts, files, generated_at.
Files are replaced atomically, so a rerun overwrites them (idempotent).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from python_jobs.config import Settings
from python_jobs.errors import PermanentError
from python_jobs.files import atomic_write_text
from python_jobs.warehouse.connection import connect
from python_jobs.warehouse.errors import RelationNotFound


class ExportError(PermanentError):
    """The tables to export are missing (phase 5/6 not built)."""


QUERIES: dict[str, str] = {
    "picks": """
        select p.game_date, p.system_id, p.model_version, p.player_id, f.player_name, p.game_id,
               p.line_source, p.line_points, p.line_bookmakers, p.over_price, p.under_price,
               p.predicted_points, p.prediction_std, p.edge, p.confidence, p.recommendation,
               p.p_over, p.calibration_version, p.best_book, p.best_price, p.expected_value,
               p.feature_quality_score, p.scored_at
        from predictions.player_prop_predictions as p
        left join precompute.ml_feature_store as f on p.feature_row_id = f.feature_row_id
        where p.game_date = ?
        order by p.system_id, p.recommendation, p.confidence desc, p.player_id
    """,
    "accuracy": """
        select * from grading.prediction_accuracy where game_date = ?
        order by system_id, player_id, line_source
    """,
    "performance": """
        select * from grading.system_daily_performance where game_date = ? order by system_id
    """,
    "performance_to_date": """
        with bets as (
            select system_id,
                   count(case when is_bet and grade_status in ('graded', 'void') then 1 end) as n_bets,
                   count(case when bet_result = 'hit' then 1 end) as hits,
                   count(case when bet_result = 'miss' then 1 end) as misses,
                   count(case when bet_result = 'push' then 1 end) as pushes,
                   avg(case when line_points is not null then absolute_error end) as mae_model,
                   avg(line_absolute_error) as mae_line,
                   sum(profit_units) as profit_units,
                   count(case when bet_result in ('hit', 'miss', 'push') and profit_units is not null then 1 end)
                       as n_bets_priced,
                   min(game_date) as first_game_date,
                   max(game_date) as last_game_date
            from grading.prediction_accuracy
            where game_date <= ? and grade_status in ('graded', 'void')
            group by system_id
        )
        select *, hits::double / nullif(hits + misses, 0) as hit_rate,
               profit_units / nullif(n_bets_priced, 0) as roi
        from bets order by system_id
    """,
}


@dataclass
class ExportReport:
    game_date: date
    directory: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Rows written over all tables (the pipeline's rows_out)."""
        return sum(self.rows.values())


def export_date(settings: Settings, game_date: date) -> ExportReport:
    directory = settings.exports_dir / game_date.isoformat()
    directory.mkdir(parents=True, exist_ok=True)
    report = ExportReport(game_date, directory)
    with connect(settings) as con:
        for name, sql in QUERIES.items():
            try:
                result = con.fetch_arrow(sql, [game_date])
            except RelationNotFound as exc:
                raise ExportError(
                    f"cannot export {name} for {game_date}: {exc}. Build phase 5 and 6 first "
                    "(`nba-props score --date ...`, `nba-props grade --date ...`)."
                ) from exc
            columns = result.column_names
            records = result.to_pylist()
            records = [{k: _jsonable(v) for k, v in r.items()} for r in records]
            atomic_write_text(directory / f"{name}.json", json.dumps(records, indent=1))
            atomic_write_text(directory / f"{name}.csv", _csv(columns, records))
            report.rows[name] = len(records)
            report.files += [f"{name}.json", f"{name}.csv"]
    manifest = {"game_date": game_date.isoformat(), "generated_at": settings.utcnow().isoformat(),
                "rows": report.rows, "files": report.files}
    atomic_write_text(directory / "manifest.json", json.dumps(manifest, indent=1))
    return report


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _csv(columns: list[str], records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()

