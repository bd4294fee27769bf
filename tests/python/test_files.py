"""python_jobs.files: an atomic write replaces the whole file or leaves it as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from python_jobs.files import atomic_write, atomic_write_text, cache_key

pytestmark = pytest.mark.timeout(30)


def test_the_text_replaces_the_file_and_creates_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "index.json"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second é")
    assert path.read_text(encoding="utf-8") == "second é"
    assert sorted(p.name for p in path.parent.iterdir()) == ["index.json"]


def test_a_failing_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.parquet"
    path.write_text("old")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.parquet"]


def test_a_cache_key_is_the_sha256_of_its_parts_each_ended_by_nul() -> None:
    assert cache_key(["v1", b"\x00bytes"]) == hashlib.sha256(b"v1\x00\x00bytes\x00").hexdigest()
    assert cache_key(["ab", "c"]) != cache_key(["a", "bc"])   # the separator keeps the parts apart
    assert cache_key(iter(["x"])) == cache_key(["x"])          # any iterable, bytes or text alike
    assert cache_key([b"x"]) == cache_key(["x"])
