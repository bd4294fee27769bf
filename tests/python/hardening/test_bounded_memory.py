"""Bounded memory on import (issue #11.5), measured as the peak RSS of a child process.

Each import runs in a fresh grandchild; a small child spawns it and reports
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, so nothing else this test session ran is counted.
A memory bound is a property of the code, not of the machine's speed: no duration is asserted.

* a gzip bomb (~1 MiB of gzip that inflates to 1 GiB) is rejected as ``decompressed_too_large``
  without ever holding more than the cap (256 MiB by default);
* a 200 MB LeagueGameLog (the real 2024-11-06 rows repeated under distinct game ids) lands every
  record under 1 GiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT

GIB = 1024**3
IMPORT = """
import json, sys
from pathlib import Path
from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.importer import import_paths
settings = Settings(home=PROJECT_ROOT, warehouse_dir=Path(sys.argv[2]), dbt_target="ci")
report = import_paths(settings, [sys.argv[1]])
print(json.dumps([[f.status, f.records, f.valid, f.quarantined, f.reason] for f in report.files]))
"""
MEASURE = """
import resource, subprocess, sys
child = subprocess.run([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], capture_output=True, text=True)
sys.stderr.write(child.stderr[-3000:])
print(child.returncode)
print(child.stdout.strip().splitlines()[-1] if child.stdout.strip() else "null")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


RAW_LAYER = """
import sys
from pathlib import Path
from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.warehouse.schema import ensure_raw_schema
ensure_raw_schema(settings=Settings(home=PROJECT_ROOT, warehouse_dir=Path(sys.argv[1]), dbt_target="ci"))
"""


def _import_in_child(path: Path, warehouse: Path) -> tuple[list, int]:
    # the warehouse exists before the measured import (its raw layer is created once by dbt, which
    # loads ~300 MiB of its own: that is the first command's cost, not the import's)
    subprocess.run([sys.executable, "-c", RAW_LAYER, str(warehouse)], cwd=PROJECT_ROOT, check=True,
                   capture_output=True, text=True, timeout=600)
    proc = subprocess.run([sys.executable, "-c", MEASURE, IMPORT, str(path), str(warehouse)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=1200)
    code, files, peak = proc.stdout.strip().splitlines()[-3:]
    assert code == "0", proc.stderr
    return json.loads(files), int(peak)


@pytest.mark.timeout(600)
def test_a_gzip_bomb_is_rejected_without_inflating_it(tmp_path):
    bomb = tmp_path / "bomb.json.gz"
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    spaces = b" " * (1 << 20)
    with bomb.open("wb") as fh:
        fh.write(packer.compress(b'{"resultSets": [{"name": "LeagueGameLog", "headers": []'))
        for _ in range(1024):  # 1 GiB of whitespace
            fh.write(packer.compress(spaces))
        fh.write(packer.compress(b"]}") + packer.flush())
    assert bomb.stat().st_size < 1.1 * 2**20
    files, peak = _import_in_child(bomb, tmp_path / "wh")
    assert [(f[0], f[4].split(":")[0]) for f in files] == [("rejected", "decompressed_too_large")]
    assert peak < GIB, f"peak RSS {peak / 2**20:.0f} MiB"


def _write_big_game_log(path: Path, target_bytes: int) -> int:
    """The real rows of 2024-11-06 repeated under distinct GAME_IDs (one per copy and real game) until
    ``target_bytes``; returns rows."""
    sys.path.insert(0, str(PROJECT_ROOT / "tests" / "python" / "ingest"))
    from _ingest_helpers import replay_game_log

    from python_jobs.config import Settings

    payload = replay_game_log(Settings(home=PROJECT_ROOT, warehouse_dir=path.parent / "gen", dbt_target="ci"),
                              date(2024, 11, 6))
    rs = payload["resultSets"][0]
    headers, base = rs["headers"], rs["rowSet"]
    gid = headers.index("GAME_ID")
    games = {g: k for k, g in enumerate(sorted({row[gid] for row in base}))}
    params = {"Season": "2024-25", "SeasonType": "Regular Season", "PlayerOrTeam": "P"}
    n = size = copy = 0
    with path.open("w") as fh:
        fh.write(json.dumps({"resource": "leaguegamelog", "parameters": params})[:-1]
                 + ', "resultSets": [{"name": "LeagueGameLog", "headers": ' + json.dumps(headers) + ', "rowSet": [')
        while size < target_bytes:
            for row in base:
                row = list(row)
                # one distinct id per (copy, real game): each synthetic game keeps its two teams
                row[gid] = f"00224{copy * len(games) + games[row[gid]]:05d}"  # season 2024-25
                text = ("," if n else "") + json.dumps(row)
                fh.write(text)
                size += len(text)
                n += 1
            copy += 1
        fh.write("]}]}")
    return n


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_a_200_mb_league_game_log_lands_under_1_gib(tmp_path):
    path = tmp_path / "big.json"
    n = _write_big_game_log(path, 200_000_000)
    assert path.stat().st_size >= 200_000_000
    files, peak = _import_in_child(path, tmp_path / "wh")
    assert files == [["landed", n, n, 0, None]]
    assert peak < GIB, f"peak RSS {peak / 2**20:.0f} MiB"
