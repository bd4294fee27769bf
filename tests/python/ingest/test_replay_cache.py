"""Replay's columnar cache of the bundled box scores: keyed by the CSV's content, never stale.

The oracle is the bundled CSV itself, read with the standard library (``gzip`` + ``csv``), and
``hashlib`` for the key; the doctored cache entry proves which source a payload was served from.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import logging
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.scrapers import endpoints as ep
from python_jobs.scrapers.replay import BOX_CACHE_VERSION, ReplayTransport, _Bundle

SEASON = "2024-25"
DAY = date(2024, 11, 6)
CSV_NAME = f"player_logs_{SEASON}.csv.gz"


@pytest.fixture
def data_and_cache(tmp_path: Path) -> tuple[Settings, Path]:
    """A private copy of the bundled box scores of one season, and an empty cache directory."""
    data = tmp_path / "data"
    (data / "boxscores").mkdir(parents=True)
    shutil.copyfile(PROJECT_ROOT / "data" / "boxscores" / CSV_NAME, data / "boxscores" / CSV_NAME)
    settings = Settings(home=PROJECT_ROOT, data_dir=data, cache_dir=tmp_path / "cache",
                        warehouse_dir=tmp_path / "warehouse")
    return settings, data / "boxscores" / CSV_NAME


def _csv_rows(path: Path, day: date) -> list[tuple[int, int]]:
    """(PLAYER_ID, PTS) of the regular-season rows of ``day``, in file order, read with ``csv``."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return [(int(r["PLAYER_ID"]), int(r["PTS"])) for r in csv.DictReader(fh)
                if r["GAME_DATE"] == day.isoformat() and r["SEASON_ID"] == f"2{SEASON[:4]}"]


def _served(settings: Settings) -> tuple[str, list[tuple[int, int]]]:
    """The LeagueGameLog body of DAY from a bundle that has loaded nothing yet, and its rows."""
    _Bundle._instances.clear()  # a new process: nothing loaded in memory
    transport = ReplayTransport(settings, as_of=datetime(2026, 1, 1, tzinfo=UTC))
    body = transport.fetch(ep.league_game_log(SEASON, date_from=DAY, date_to=DAY)).body
    rs = json.loads(body)["resultSets"][0]
    i_player, i_pts = rs["headers"].index("PLAYER_ID"), rs["headers"].index("PTS")
    return body, [(r[i_player], r[i_pts]) for r in rs["rowSet"]]


def _cache_entry(settings: Settings, csv_path: Path) -> Path:
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    return settings.cache_dir / "replay" / f"player_logs_{SEASON}.{digest}.v{BOX_CACHE_VERSION}.parquet"


def _doctor(entry: Path, add_points: int) -> None:
    """Rewrite a cache entry with every PTS raised by ``add_points`` (same columns and types)."""
    con = duckdb.connect()
    try:
        con.execute(f"create table t as select * from read_parquet('{entry}')")
        con.execute(f"update t set PTS = PTS + {add_points}")
        con.execute(f"copy t to '{entry}' (format parquet)")
    finally:
        con.close()


def test_first_load_keeps_a_copy_keyed_by_the_csv_sha256(data_and_cache: tuple[Settings, Path]) -> None:
    settings, csv_path = data_and_cache
    body, rows = _served(settings)
    expected = _csv_rows(csv_path, DAY)
    assert len(expected) > 100  # a full night of games
    assert rows == expected
    entries = list((settings.cache_dir / "replay").iterdir())
    assert entries == [_cache_entry(settings, csv_path)]

    # the next process reads the copy: the same payload, byte for byte
    again, _ = _served(settings)
    assert hashlib.sha256(again.encode()).hexdigest() == hashlib.sha256(body.encode()).hexdigest()


def test_a_cached_copy_is_what_the_next_process_serves(data_and_cache: tuple[Settings, Path]) -> None:
    settings, csv_path = data_and_cache
    _served(settings)
    _doctor(_cache_entry(settings, csv_path), add_points=1000)
    _, rows = _served(settings)
    assert rows == [(p, pts + 1000) for p, pts in _csv_rows(csv_path, DAY)]


def test_an_edited_csv_is_never_served_from_the_old_copy(data_and_cache: tuple[Settings, Path]) -> None:
    settings, csv_path = data_and_cache
    _served(settings)
    old_entry = _cache_entry(settings, csv_path)
    _doctor(old_entry, add_points=1000)  # whatever the old entry holds must not matter now

    # edit the CSV: the first row of DAY scores 99 points
    with gzip.open(csv_path, "rt", encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    i_date, i_pts = header.index("GAME_DATE"), header.index("PTS")
    for n, line in enumerate(lines[1:], start=1):
        cells = next(csv.reader([line]))
        if cells[i_date] == DAY.isoformat():
            cells[i_pts] = "99"
            out = io.StringIO()
            csv.writer(out, lineterminator=line[len(line.rstrip("\r\n")):]).writerow(cells)
            lines[n] = out.getvalue()
            break
    with gzip.open(csv_path, "wt", encoding="utf-8", newline="") as fh:
        fh.write("".join(lines))

    _, rows = _served(settings)
    expected = _csv_rows(csv_path, DAY)
    assert expected[0][1] == 99
    assert rows == expected
    assert _cache_entry(settings, csv_path) != old_entry
    assert sorted((settings.cache_dir / "replay").iterdir()) == sorted([old_entry, _cache_entry(settings, csv_path)])


def test_a_damaged_copy_is_replaced_from_the_csv(data_and_cache: tuple[Settings, Path],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    settings, csv_path = data_and_cache
    _served(settings)
    entry = _cache_entry(settings, csv_path)
    entry.write_bytes(b"not a parquet file")
    with caplog.at_level(logging.WARNING, logger="python_jobs.scrapers.replay"):
        _, rows = _served(settings)
    assert rows == _csv_rows(csv_path, DAY)
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    assert entry.read_bytes()[:4] == b"PAR1"  # written again from the CSV
