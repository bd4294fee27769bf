"""The GX checkpoint on the prod engine: real records landed into the BigQuery emulator through the
real landing, read back through the Warehouse boundary (no GX database connection), validated with
the same generated suites as on DuckDB; a row planted behind the edge's back fails it there too."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from python_jobs.config import Settings
from python_jobs.landing import LandingSession
from python_jobs.scrapers.base import Fetched, ScrapeRequest
from python_jobs.warehouse.connection import connect

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
D = date(2024, 10, 23)


def _land(con, settings: Settings, endpoint: str, params: dict, body: bytes) -> None:
    session = LandingSession(con, settings, command="test", transport="file")
    session.land(Fetched(ScrapeRequest("stats_nba", endpoint, params), body, "test", settings.utcnow()))
    session.finish()


def test_checkpoint_on_bigquery(bq_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import orjson

    from python_jobs.config import PROJECT_ROOT
    from python_jobs.validation.gx_checkpoint import run_checkpoint
    from tests.python.ingest._ingest_helpers import replay_game_log, to_live_layout

    # the dbt profile of prod (the raw layer is created by dbt's run-operation) reads these
    for key, value in {"NBA_PROPS_BQ_PROJECT": bq_settings.bq_project, "NBA_PROPS_BQ_API_ENDPOINT":
                       bq_settings.bq_api_endpoint, "NBA_PROPS_BQ_METHOD": "oauth-secrets",
                       "NBA_PROPS_BQ_TOKEN": "dummy-token"}.items():
        monkeypatch.setenv(key, str(value))
    bq_settings = bq_settings.model_copy(update={"warehouse_dir": tmp_path / "wh"})
    gl = to_live_layout(replay_game_log(bq_settings, date(2024, 10, 22)))
    n_rows = len(gl["resultSets"][0]["rowSet"])
    with gzip.open(PROJECT_ROOT / "data" / "reference" / "commonallplayers_2025-26.json.gz", "rt") as fh:
        players = json.load(fh)
    players["resultSets"][0]["rowSet"] = players["resultSets"][0]["rowSet"][:50]
    with connect(bq_settings) as con:
        _land(con, bq_settings, "leaguegamelog", {"Season": "2024-25", "SeasonType": "Regular Season",
                                                   "PlayerOrTeam": "P"}, orjson.dumps(gl))
        _land(con, bq_settings, "commonallplayers", {"Season": "2025-26"}, orjson.dumps(players))
        report = run_checkpoint(bq_settings, con, D, docs_dir=tmp_path / "docs")
        by_name = {v.name: v for v in report.validations}
        assert report.success, report.summary()
        assert by_name["landed__nba_player_game_logs"].rows == n_rows
        assert by_name["landed__nba_players"].rows == 50
        assert (tmp_path / "docs" / "index.html").exists()

        con.execute("update raw.nba_player_game_logs set minutes = 75 where game_date = ? and player_id = "
                    "(select min(player_id) from raw.nba_player_game_logs where game_date = ?)",
                    [D - timedelta(days=1), D - timedelta(days=1)])
        planted = run_checkpoint(bq_settings, con, D, docs_dir=tmp_path / "docs")
    failed = [f for v in planted.validations for f in v.failed]
    assert failed == ["expect_column_values_to_be_between(minutes): 1 unexpected"]
