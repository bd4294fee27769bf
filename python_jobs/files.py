"""Writing a file so that no reader ever sees half of it: a temporary file beside it, renamed over
it (``os.replace`` is atomic on one filesystem). Used by the exports, the model registry and the
machine caches (replay's box scores, dbt's rendering of the raw layer, dbt's saved parse), whose
entries are named by ``cache_key``."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` fills a temporary file in ``path``'s folder (created if missing), which then
    replaces ``path``. On any error the temporary file is removed and the error raised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """``text`` as the whole content of ``path`` (UTF-8), written atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def cache_key(parts: Iterable[str | bytes]) -> str:
    """The sha256 (hex) naming a machine-cache entry: of every part it depends on, each ended by a
    NUL byte (so that ("ab", "c") and ("a", "bc") differ)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part.encode() if isinstance(part, str) else part) + b"\0")
    return digest.hexdigest()
