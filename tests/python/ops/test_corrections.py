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
from tests.python.ingest._ingest_helpers import (
    close_connections,
    dumps,
    land_one,
    landed_event_odds,
    replay_game_log,
)
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
    assert "Corrections to landed box scores and lines" in pages
    assert "No landed box-score value or prop line was changed by a later payload." in pages


def _single_pair(books: list[dict]) -> tuple[dict, str, list[dict]]:
    """The first (book, player) whose ladder is exactly one Over/Under pair (so it is the main line)."""
    for book in books:
        outcomes = book["markets"][0]["outcomes"]
        for name in dict.fromkeys(o["description"] for o in outcomes):
            mine = [o for o in outcomes if o["description"] == name]
            if sorted(o["name"] for o in mine) == ["Over", "Under"] and mine[0]["point"] == mine[1]["point"]:
                return book, name, mine
    raise AssertionError("no single-pair ladder")


def test_a_restated_snapshot_changing_a_main_line_is_recorded_and_alerted(base: Settings, tmp_path: Path) -> None:  # noqa: F811
    """A landed odds snapshot restated by a later payload (same event, same capture time) with one
    book's line for one player moved by a point: recorded as a prop-line correction (which payload,
    which book and snapshot, old -> new), alerted, gone after the retraction. A later snapshot that
    moves another line is ordinary line movement, not a correction."""
    from datetime import UTC, datetime, timedelta

    from python_jobs.dbt_runner import run_dbt
    from python_jobs.ops.monitor import correction_alerts
    from python_jobs.ops.retract import retract_payload

    settings = copy_warehouse(base, tmp_path / "lines")
    original_payload, params, event = landed_event_odds(settings)
    inner = event.get("data", event)
    book, player, pair = _single_pair(inner["bookmakers"])
    old_line = pair[0]["point"]
    for o in pair:
        o["point"] = old_line + 1
    result, quarantined, valid = land_one(settings, "odds_api", "event_odds", params, dumps(event))
    close_connections()
    assert quarantined == [] and valid > 0
    run_dbt(MODEL, settings)
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        rows = con.execute(
            "select corrected_entity, corrected_field, player_name, bookmaker_key, old_value, new_value, "
            "old_payload_id, new_payload_id, line_captured_at, game_date from monitoring.monitoring_data_corrections"
        ).fetchall()
    captured = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    with duckdb.connect(str(settings.database_path), read_only=True) as con:  # the bundled events carry no commence_time
        (game_day,) = con.execute("select distinct game_date from staging.stg_odds__player_prop_lines "
                                  "where event_id = ?", [inner["id"]]).fetchone()
    assert rows == [("prop_line", "line_points", player, book["key"], float(old_line), float(old_line + 1),
                     original_payload, result.payload_id, captured, game_day)]
    with connect(settings, read_only=True) as wh:
        alerts = correction_alerts(wh)
    assert [(a.alert_type, a.game_date) for a in alerts] == [("data_correction", game_day)]
    assert f"{book['key']} line {old_line:g} -> {old_line + 1:g}" in alerts[0].message

    # a later snapshot moving another book's line is line movement: no new correction
    _, _, second_pair = _single_pair([b for b in inner["bookmakers"] if b["key"] != book["key"]])
    for o in second_pair:
        o["point"] = o["point"] + 0.5
    for o in pair:
        o["point"] = old_line + 1  # unchanged from the restated snapshot
    event["timestamp"] = (captured + timedelta(minutes=5)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, quarantined, _ = land_one(settings, "odds_api", "event_odds", params, dumps(event))
    close_connections()
    assert quarantined == []
    run_dbt(MODEL, settings)
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        assert con.execute("select count(*) from monitoring.monitoring_data_corrections").fetchone() == (1,)

    retract_payload(settings, result.payload_id, "restated line (test)")
    run_dbt(MODEL, settings)
    with duckdb.connect(str(settings.database_path), read_only=True) as con:
        assert con.execute("select count(*) from monitoring.monitoring_data_corrections").fetchone() == (0,)
