"""Parsers on real payloads (both LeagueGameLog layouts), ingest_history/land_day idempotency, import."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest
from _ingest_helpers import (
    ODDS_SAMPLE,
    ODDS_SAMPLE_2,
    SCOREBOARD_SAMPLE,
    dumps,
    read_gz_json,
    replay_game_log,
    to_live_layout,
)
from typer.testing import CliRunner

from python_jobs.config import Settings
from python_jobs.ingest import ingest_history, land_day
from python_jobs.parsers.payloads import parse_payload
from python_jobs.warehouse.connection import connect

RAW_TABLES = ("nba_player_game_logs", "nba_schedule_games", "nba_players", "odds_player_props", "quarantine")


def _counts(settings: Settings) -> dict[str, int]:
    with connect(settings, read_only=True) as con:
        return {t: con.fetchone(f"select count(*) from raw.{t}")[0] for t in RAW_TABLES}


def test_both_game_log_layouts_parse_to_the_same_records(tmp_settings: Settings) -> None:
    bundled = replay_game_log(tmp_settings, date(2024, 11, 6))
    live = to_live_layout(bundled)
    a = parse_payload("stats_nba", "leaguegamelog", dumps(bundled), {}).batches[0]
    b = parse_payload("stats_nba", "leaguegamelog", dumps(live), {}).batches[0]
    assert a.n == b.n > 100
    for col in ("player_id", "game_id", "points", "minutes", "fg_pct", "plus_minus", "matchup"):
        assert list(a.data[col]) == list(b.data[col]), col
    assert "fantasy_pts" not in a.data and len(b.data["fantasy_pts"]) == b.n
    assert a.context == {"expected_season_id": "22024"}  # from the payload's own parameters


def test_real_odds_samples_pair_over_and_under() -> None:
    for path in (ODDS_SAMPLE, ODDS_SAMPLE_2):
        event = read_gz_json(path)
        outcomes = [o for b in event["bookmakers"] for m in b["markets"] for o in m["outcomes"]]
        batch = parse_payload("odds_api", "event_odds", dumps(event), {}).batches[0]
        # the BKN @ TOR sample repeats 14 williamhill_us lines with other prices: later copies are duplicates
        assert set(batch.pre_reason_code or [None]) <= {None, "duplicate_record"}
        n_dup = sum(c is not None for c in batch.pre_reason_code or [])
        assert n_dup == (14 if path == ODDS_SAMPLE_2 else 0)
        # every line is either a pair or one-sided; no outcome lost
        sides = sum((o is not None) for col in ("over_price", "under_price") for o in batch.data[col])
        assert sides == len(outcomes)
        assert set(batch.data["bookmaker_key"]) == {b["key"] for b in event["bookmakers"]}


def test_real_scoreboard_sample_tip_times_and_tricodes() -> None:
    batch = parse_payload("stats_nba", "scoreboardv2", dumps(read_gz_json(SCOREBOARD_SAMPLE)), {}).batches[0]
    i = list(batch.data["game_id"]).index("0022500817")
    assert (batch.data["away_team_tricode"][i], batch.data["home_team_tricode"][i]) == ("CLE", "OKC")
    assert batch.data["tip_at"][i] == "2026-02-22T18:00:00Z"  # '1:00 pm ET' in February = 18:00 UTC
    assert batch.data["season"][i] == "2025-26"


def test_ingest_and_land_day_are_idempotent(tmp_settings: Settings) -> None:
    until = date(2025, 2, 20)
    first = ingest_history(tmp_settings, seasons=["2024-25"], until=until)
    assert first.status == "ok"
    assert first.n_records == first.n_records_valid + first.n_records_quarantined
    after_first = _counts(tmp_settings)
    # the replay clock: nothing of 2025-02-20's evening is missing, nothing later leaked in
    with connect(tmp_settings, read_only=True) as con:
        assert con.fetchone("select max(game_date) from raw.nba_player_game_logs")[0] == until
        assert con.fetchone("select max(captured_at)::date from raw.odds_player_props")[0] <= until
        assert con.fetchone("select count(*) from raw.landed_payloads where body is null")[0] == 0
    assert after_first["odds_player_props"] > 1000 and after_first["nba_players"] == 5111

    second = ingest_history(tmp_settings, seasons=["2024-25"], until=until)
    assert second.n_payloads == first.n_payloads == second.n_duplicates
    assert second.n_records_valid == 0
    assert _counts(tmp_settings) == after_first

    day = land_day(tmp_settings, date(2025, 2, 21))
    assert day.endpoints["stats_nba/leaguegamelog"].valid > 0  # 2025-02-20's results
    assert day.endpoints["odds_api/event_odds"].valid > 0
    after_day = _counts(tmp_settings)
    again = land_day(tmp_settings, date(2025, 2, 21))
    assert again.n_duplicates == again.n_payloads == day.n_payloads
    assert _counts(tmp_settings) == after_day
    with connect(tmp_settings, read_only=True) as con:
        runs = con.fetchone("select count(*), count(*) filter (where status = 'ok') from raw.scrape_runs")
    assert runs == (4, 4)


def test_import_mixed_batch(tmp_settings: Settings, tmp_path: Path) -> None:
    from python_jobs.cli import app

    good_log = tmp_path / "leaguegamelog_2024-11-06.json.gz"
    payload = to_live_layout(replay_game_log(tmp_settings, date(2024, 11, 6)))
    payload["parameters"] = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P"}
    good_log.write_bytes(gzip.compress(dumps(payload)))
    plain_odds = tmp_path / "event.json"
    plain_odds.write_bytes(gzip.decompress(ODDS_SAMPLE.read_bytes()))
    historical = tmp_path / "historical.json"
    historical.write_text(json.dumps({"timestamp": "2024-02-22T23:00:00Z", "previous_timestamp": None,
                                      "next_timestamp": None, "data": read_gz_json(ODDS_SAMPLE_2)}))
    garbled = tmp_path / "garbled.json"
    garbled.write_bytes(b'{"resultSets": [{"name": "LeagueGameLog", "headers": ["PLAYER_ID"')
    unknown = tmp_path / "scores.json.gz"
    unknown.write_bytes(gzip.compress(b'[{"id": "abc", "completed": true}]'))

    runner = CliRunner()
    args = ["import", str(good_log), str(plain_odds), str(historical), str(garbled), str(unknown)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "2 of 5 file(s) rejected" in result.output
    with connect(tmp_settings, read_only=True) as con:
        q = con.fetchall("select record_kind, reason_code from raw.quarantine where record_kind = 'payload' "
                        "order by reason_code")
        assert q == [("payload", "invalid_json"), ("payload", "unknown_payload_kind")]
        assert con.fetchone("select count(*) from raw.nba_player_game_logs")[0] == len(
            payload["resultSets"][0]["rowSet"])
        snaps = con.fetchone("select count(distinct event_id), count(*) filter (where snapshot_at is not null) > 0 "
                            "from raw.odds_player_props")
        assert snaps == (2, True)
        fantasy = con.fetchone("select count(*) from raw.nba_player_game_logs where fantasy_pts is null")[0]
        assert fantasy == 0
    before = _counts(tmp_settings)
    rerun = runner.invoke(app, args)  # same files again: duplicates, nothing new loaded or quarantined
    assert rerun.exit_code == 1
    assert _counts(tmp_settings) == before


@pytest.mark.parametrize("bad_date", ["2025-13-01", "tomorrow"])
def test_land_day_cli_rejects_bad_dates(tmp_settings: Settings, bad_date: str) -> None:
    from python_jobs.cli import app

    result = CliRunner().invoke(app, ["land-day", "--date", bad_date])
    assert result.exit_code == 2
