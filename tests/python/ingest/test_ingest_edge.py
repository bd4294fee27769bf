"""Edge gaps of issue #11.4 on real payloads: each case fails without its rule, keeps the good rows.

Base payloads: three real LeagueGameLog rows of 2024-10-22 (bundled box scores, replayed) and
three real Over/Under pairs of the recorded ORL @ CLE event odds. The expected reason codes and
counts are written out by hand per case.
"""

from __future__ import annotations

import copy
import gzip
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from _ingest_helpers import close_connections, dumps, land_one, replay_game_log, small_event_odds
from typer.testing import CliRunner

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.importer import import_paths
from python_jobs.validation.spec import load_spec
from python_jobs.warehouse.connection import connect

PLAYER_NAME_MAX = next(f.max_length for f in load_spec(PROJECT_ROOT, "nba_player_game_logs").fields
                       if f.name == "player_name")

pytestmark = pytest.mark.timeout(300)
GL_PARAMS = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P"}
DAY = date(2024, 10, 22)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    wh = tmp_path_factory.mktemp("edge_wh")
    yield Settings(home=PROJECT_ROOT, warehouse_dir=wh, dbt_target="ci",
                   now=datetime(2024, 10, 23, 15, tzinfo=UTC))
    close_connections()


@pytest.fixture(scope="module")
def game_log(settings: Settings) -> dict:
    payload = replay_game_log(settings, DAY)
    rs = payload["resultSets"][0]
    rs["rowSet"] = rs["rowSet"][:3]
    return payload


def _with_cell(payload: dict, row: int, header: str, value: object) -> dict:
    out = copy.deepcopy(payload)
    rs = out["resultSets"][0]
    rs["rowSet"][row][rs["headers"].index(header)] = value
    return out


@pytest.mark.parametrize(("value", "code"), [
    ("A" * 1_000_000, "field_too_long"),
    ("B" * (PLAYER_NAME_MAX + 1), "field_too_long"),
    ("Nikola\x00Jokic", "invalid_characters"),
    ("Nikola \u202eJokic", "invalid_characters"),
    ("\u2066Jokic\u2069", "invalid_characters"),
    ("\u202aJokic", "invalid_characters"),
], ids=["1MB", "max+1", "nul", "rlo", "lri-pdi", "lre"])
def test_bad_names_are_quarantined_with_their_reason(settings, game_log, value, code):
    body = dumps(_with_cell(game_log, 1, "PLAYER_NAME", value))
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, body)
    assert quarantined == [("nba_player_game_logs", 1, code)]
    assert (result.n_records, result.n_valid, valid) == (3, 2, 2)


def test_a_name_at_the_max_length_and_accented_names_are_fine(settings, game_log):
    ok = _with_cell(game_log, 0, "PLAYER_NAME", "C" * PLAYER_NAME_MAX)
    ok = _with_cell(ok, 1, "PLAYER_NAME", "Nikola Jokić")
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, dumps(ok))
    assert quarantined == [] and valid == 3


def test_box_scores_dated_after_the_run_date_are_quarantined(settings, game_log):
    # the run's clock says 2024-10-21 (US/Eastern): games of 2024-10-22 have not been played
    early = settings.model_copy(update={"now": datetime(2024, 10, 21, 23, 30, tzinfo=UTC)})
    body = dumps(_with_cell(game_log, 0, "PTS", game_log["resultSets"][0]["rowSet"][0][
        game_log["resultSets"][0]["headers"].index("PTS")]))
    result, quarantined, valid = land_one(early, "stats_nba", "leaguegamelog", {**GL_PARAMS, "v": 1}, body)
    assert [q[2] for q in quarantined] == ["future_date"] * 3 and valid == 0
    # 2024-10-23 03:30 UTC is still 2024-10-22 in US/Eastern: the games are today's, accepted
    evening = settings.model_copy(update={"now": datetime(2024, 10, 23, 3, 30, tzinfo=UTC)})
    result, quarantined, valid = land_one(evening, "stats_nba", "leaguegamelog", {**GL_PARAMS, "v": 2}, body)
    assert quarantined == [] and valid == 3


def test_a_nan_token_quarantines_only_its_record(settings, game_log):
    marked = _with_cell(_with_cell(game_log, 1, "PTS", "__NAN__"), 2, "PLAYER_NAME", "__INF__")
    body = dumps(marked).replace(b'"__NAN__"', b"NaN").replace(b'"__INF__"', b"-Infinity")
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, body)
    assert quarantined == [("nba_player_game_logs", 1, "non_finite_number"),
                           ("nba_player_game_logs", 2, "non_finite_number")]
    assert (result.n_records, result.n_valid, valid) == (3, 1, 1)


def test_a_utf8_bom_is_stripped(settings, game_log):
    body = b"\xef\xbb\xbf" + dumps(_with_cell(game_log, 0, "WL", "W"))
    result, quarantined, valid = land_one(settings, "stats_nba", "leaguegamelog", GL_PARAMS, body)
    assert quarantined == [] and (result.n_valid, valid) == (3, 3)


# ------------------------------------------------------------------------------ odds
def test_event_ids_that_are_not_plain_ids_are_rejected(settings):
    event = small_event_odds(3)
    event["id"] = "../../etc/passwd"
    result, quarantined, valid = land_one(settings, "odds_api", "event_odds", {"event_id": event["id"]}, dumps(event))
    assert result.status == "failed" and "event id" in (result.error_message or "")
    assert quarantined == [("payload", None, "bad_event_id")] and valid == 0


def test_lines_snapshotted_after_tip_are_quarantined(settings):
    event = small_event_odds(3)
    tip = datetime.fromisoformat(event["commence_time"].replace("Z", "+00:00"))
    for offset, expected in ((timedelta(hours=1), ["line_after_tip"] * 3), (-timedelta(hours=1), [])):
        snap = (tip + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
        wrapped = {"timestamp": snap, "previous_timestamp": None, "next_timestamp": None, "data": event}
        result, quarantined, valid = land_one(settings, "odds_api", "event_odds",
                                              {"event_id": event["id"], "date": snap}, dumps(wrapped))
        assert [q[2] for q in quarantined] == expected
        assert valid == 3 - len(expected)


def test_a_huge_player_name_in_odds_is_quarantined(settings):
    event = small_event_odds(3)
    for o in event["bookmakers"][0]["markets"][0]["outcomes"][:2]:
        o["description"] = "x" * 1_000_000
    result, quarantined, valid = land_one(settings, "odds_api", "event_odds", {"event_id": event["id"]}, dumps(event))
    assert [q[2] for q in quarantined] == ["field_too_long"] and valid == 2


# ------------------------------------------------------------------------------ import (files)
def _import_cli(settings: Settings, *paths: Path):
    from python_jobs.cli import app

    env = {"NBA_PROPS_WAREHOUSE_DIR": str(settings.warehouse_dir), "NBA_PROPS_DUCKDB_PATH": str(settings.database_path),
           "NBA_PROPS_DBT_TARGET": "ci"}
    return CliRunner().invoke(app, ["import", *map(str, paths)], env=env)


def test_a_file_whose_every_record_is_quarantined_exits_2(tmp_settings, tmp_path):
    payload = replay_game_log(tmp_settings, DAY)
    rs = payload["resultSets"][0]
    rs["rowSet"] = rs["rowSet"][:4]
    for row in rs["rowSet"]:
        row[rs["headers"].index("PTS")] = -1
    bad = tmp_path / "all_bad.json"
    bad.write_bytes(dumps({**payload, "parameters": GL_PARAMS}))
    out = _import_cli(tmp_settings, bad)
    assert out.exit_code == 2, out.output
    assert "every record quarantined" in out.output
    assert "landed" not in out.output.replace("raw.quarantine", "")
    with connect(tmp_settings, read_only=True) as con:
        assert con.fetchall("select status from raw.scrape_runs") == [("partial",)]
        assert con.fetchone("select count(*) from raw.quarantine where reason_code = 'negative_stat'") == (4,)


def test_a_truncated_gzip_is_reported_as_truncated_gzip(tmp_settings, tmp_path, game_log):
    path = tmp_path / "cut.json.gz"
    whole = gzip.compress(dumps(game_log))
    path.write_bytes(whole[: len(whole) // 2])
    report = import_paths(tmp_settings, [path])
    assert [(f.status, f.reason.split(":")[0]) for f in report.files] == [("rejected", "truncated_gzip")]


def test_symlinks_out_of_the_given_directory_are_refused(tmp_settings, tmp_path, game_log):
    inside = tmp_path / "in"
    inside.mkdir()
    real = inside / "log.json"
    real.write_bytes(dumps({**game_log, "parameters": GL_PARAMS}))
    ok_link = inside / "same_dir_link.json"
    ok_link.symlink_to(real)
    out_link = inside / "passwd.json"
    out_link.symlink_to("/etc/passwd")
    up_link = inside / "up.json"
    up_link.symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_bytes(dumps(game_log))
    report = import_paths(tmp_settings, [out_link, up_link, ok_link])
    statuses = [(f.status, (f.reason or "").split(":")[0]) for f in report.files]
    assert statuses == [("rejected", "symlink_outside"), ("rejected", "symlink_outside"), ("landed", "")]
    with connect(tmp_settings, read_only=True) as con:
        bodies = con.fetchone("select count(*) from raw.landed_payloads where origin like '%passwd%'")
        reasons = con.fetchall("select reason from raw.quarantine where reason_code = 'symlink_outside' "
                              "order by reason")
    assert bodies == (0,)  # nothing of /etc/passwd was read or stored
    assert len(reasons) == 2 and all("outside" in r[0] for r in reasons)
    assert os.path.exists("/etc/passwd")
