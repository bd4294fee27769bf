"""Corrections to finished dates (issue #11, point 2), the real case: three re-imported rows changed a
player's points from 4 to 24. The change is recorded (which payload changed which key, old -> new),
raises an alert naming the date to re-grade, and is listed on the report's data-health page; a
retraction of the correcting payload takes it back out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from python_jobs.config import Settings
from python_jobs.warehouse.connection import connect
from tests.python.conftest import copy_warehouse
from tests.python.ingest._ingest_helpers import close_connections, dumps, land_one, replay_game_log
from tests.python.ops.test_retract import DAY, GL_PARAMS, base  # noqa: F401 - the shared fixture

MODEL = ["run", "--select", "monitoring_data_corrections"]


def _corrections(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        return con.execute("select game_id, player_id, corrected_field, old_value, new_value, old_payload_id, "
                           "new_payload_id, game_date from monitoring.monitoring_data_corrections "
                           "order by game_id, player_id, corrected_field").fetchall()


def test_a_reimport_changing_points_from_4_to_24_is_recorded_and_alerted(base: Settings, tmp_path: Path) -> None:  # noqa: F811
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ops.monitor import correction_alerts
    from python_jobs.ops.retract import retract_payload

    settings = copy_warehouse(base, tmp_path / "wh")
    run_dbt(MODEL, settings)
    assert _corrections(settings) == []  # the bundled history has no corrections

    payload = replay_game_log(settings, DAY)
    rs = payload["resultSets"][0]
    h = {name: i for i, name in enumerate(rs["headers"])}
    four = [r for r in rs["rowSet"] if r[h["PTS"]] == 4]
    assert four, "a player with 4 points on DAY"
    row = four[0]
    row[h["PTS"]], row[h["FGM"]], row[h["FGA"]] = 24, row[h["FGM"]] + 10, row[h["FGA"]] + 10
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        (original_payload,) = con.execute("select payload_id from raw.nba_player_game_logs where game_id = ? "
                                          "and player_id = ?", [row[h["GAME_ID"]], row[h["PLAYER_ID"]]]).fetchone()
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(payload))
    close_connections()
    assert quarantined == []
    run_dbt(MODEL, settings)
    # exactly the changed key, old -> new, both payloads; the unchanged re-imported rows are not corrections
    assert _corrections(settings) == [(row[h["GAME_ID"]], row[h["PLAYER_ID"]], "points", 4.0, 24.0,
                                       original_payload, result.payload_id, DAY)]
    with connect(settings, read_only=True) as wh:
        alerts = correction_alerts(wh)
    assert [(a.alert_type, a.game_date) for a in alerts] == [("data_correction", DAY)]
    assert "points 4 -> 24" in alerts[0].message and f"nba-props grade --date {DAY}" in alerts[0].message

    retract_payload(settings, result.payload_id, "wrong points (test)")
    run_dbt(MODEL, settings)
    assert _corrections(settings) == []


def test_the_data_health_page_lists_corrections(base: Settings, tmp_path: Path) -> None:  # noqa: F811
    """The report's data-health page shows the corrections table (and says so when there is none)."""
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.report.generator import generate_report

    settings = copy_warehouse(base, tmp_path / "report")
    run_dbt(MODEL, settings)
    site = generate_report(settings, date(2025, 3, 11), output_dir=tmp_path / "site")
    pages = "\n".join(p.read_text() for p in site.output_dir.rglob("*.html"))
    assert "Corrections to landed box scores" in pages
    assert "No landed box-score value was changed by a later payload." in pages
