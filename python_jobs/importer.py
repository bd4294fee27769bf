"""``nba-props import PATH...``: land payload files recorded elsewhere.

Accepted (``.json`` or ``.json.gz``, gzip detected from the magic bytes too), the kind detected
from the content, never from the file name:

* stats.nba.com ``LeagueGameLog`` (player mode), ``CommonAllPlayers`` and ``ScoreboardV2`` responses
  (``{resource, parameters, resultSets}``);
* The Odds API v4 event odds: the plain event object with ``bookmakers``, or the historical
  endpoint's ``{timestamp, previous_timestamp, next_timestamp, data}`` wrapper around it.

A file that is not one of these (garbled, truncated, unknown shape, not UTF-8...) is *rejected*:
its bytes are landed as ``source='file', endpoint='unknown'`` and a ``record_kind='payload'`` row
with the reason goes to ``raw.quarantine``; the rest of the batch still lands. Importing the same
file twice lands a duplicate (same source/endpoint/params/sha256) and loads nothing new.

Bounds and refusals (issue #11): gzip is decompressed as a stream and capped at
``Settings.import_max_decompressed_bytes`` (256 MiB by default; ``decompressed_too_large``), a cut
gzip stream is ``truncated_gzip``; a symlink whose target lies outside the given path's directory
is refused unread (``symlink_outside``). A file whose records were *all* quarantined is reported
``quarantined``, not ``landed``.

Exit codes of ``nba-props import``: 0 every file landed (or was a duplicate); 1 at least one file
rejected as a whole; 2 no file rejected but at least one had every record quarantined.
"""

from __future__ import annotations

import logging
import time as _time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from python_jobs.config import Settings
from python_jobs.errors import PayloadError
from python_jobs.landing import LandingSession
from python_jobs.ops.guard import short_write
from python_jobs.parsers.payloads import STREAM_MIN_BYTES, peek_stats_envelope
from python_jobs.scrapers.base import Fetched, ScrapeRequest, ScrapeResult
from python_jobs.validation.envelopes import load_json

log = logging.getLogger(__name__)
GZIP_MAGIC = b"\x1f\x8b"
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass
class ImportedFile:
    path: str
    kind: str | None  # 'stats_nba/leaguegamelog', ... ; None when rejected
    status: str  # 'landed' | 'duplicate' | 'rejected' | 'quarantined' (every record quarantined)
    reason: str | None = None
    records: int = 0
    valid: int = 0
    quarantined: int = 0
    result: ScrapeResult | None = field(default=None, repr=False)


@dataclass
class ImportReport:
    scrape_run_id: str
    status: str
    seconds: float
    files: list[ImportedFile]

    @property
    def rejected(self) -> list[ImportedFile]:
        return [f for f in self.files if f.status == "rejected"]

    @property
    def fully_quarantined(self) -> list[ImportedFile]:
        return [f for f in self.files if f.status == "quarantined"]

    @property
    def exit_code(self) -> int:
        """0 all landed; 1 a file rejected; 2 a file whose every record was quarantined."""
        return 1 if self.rejected else 2 if self.fully_quarantined else 0

    @property
    def n_records_valid(self) -> int:
        return sum(f.valid for f in self.files)

    @property
    def n_records_quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def to_json(self) -> dict[str, Any]:
        """The ``import --json`` document (shape in the README)."""
        return {"scrape_run_id": self.scrape_run_id, "status": self.status, "seconds": round(self.seconds, 3),
                "exit_code": self.exit_code, "n_records_valid": self.n_records_valid,
                "n_records_quarantined": self.n_records_quarantined,
                "files": [{"path": f.path, "kind": f.kind, "status": f.status, "reason": f.reason,
                           "records": f.records, "valid": f.valid, "quarantined": f.quarantined} for f in self.files]}

    def __rich__(self) -> Table:
        table = Table(title=f"import {self.scrape_run_id[:12]}: {self.status}, {len(self.files)} file(s), "
                            f"{len(self.rejected)} rejected")
        for col in ("file", "kind", "status", "valid", "quarantined", "reason"):
            table.add_column(col, justify="right" if col in ("valid", "quarantined") else "left",
                             overflow="fold")
        for f in self.files:
            status = {"rejected": "[red]rejected[/red]", "duplicate": "[yellow]duplicate[/yellow]",
                      "quarantined": "[red]every record quarantined[/red]"}.get(f.status, "[green]landed[/green]")
            table.add_row(f.path, f.kind or "-", status, f"{f.valid:,}", f"{f.quarantined:,}", f.reason or "")
        return table


CHUNK = 1 << 20


def decode_file_bytes(name: str, data: bytes, *, max_bytes: int = 256 * 1024 * 1024) -> bytes:
    """The payload bytes of a .json or .json.gz file (gzip recognised by its magic bytes).

    Gzip is inflated as a stream, never past ``max_bytes`` (a 1 MiB bomb cannot take gigabytes);
    concatenated gzip members are read in turn. Errors: ``decompressed_too_large``,
    ``truncated_gzip`` (the stream ends early), ``invalid_gzip`` (corrupt data).
    """
    if data[:2] != GZIP_MAGIC:
        return data
    out = bytearray()
    pos = 0
    try:
        while True:  # one gzip member per turn
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            while not inflater.eof:
                if inflater.unconsumed_tail:
                    given = inflater.unconsumed_tail
                elif pos < len(data):
                    given, pos = data[pos:pos + CHUNK], pos + CHUNK
                else:
                    given = b""
                chunk = inflater.decompress(given, max_bytes - len(out) + 1)  # one byte over the cap tells
                if not given and not chunk and not inflater.eof:
                    raise PayloadError(f"gzip stream ends early after {len(out):,} decompressed bytes "
                                       "(truncated file)", reason_code="truncated_gzip")
                out += chunk
                if len(out) > max_bytes:
                    raise PayloadError(f"decompresses to more than the {max_bytes:,}-byte cap "
                                       "(import_max_decompressed_bytes)", reason_code="decompressed_too_large")
            data, pos = inflater.unused_data + data[pos:], 0
            if data[:2] != GZIP_MAGIC:
                break  # no further member (trailing bytes are ignored, as gzip(1) does)
    except zlib.error as exc:
        raise PayloadError(f"corrupt gzip data ({exc})", reason_code="invalid_gzip") from None
    return bytes(out)


def _peek(body: bytes) -> Any:
    """What :func:`detect_kind` needs of a payload. A large stats.nba.com payload is only peeked at
    (names and headers, read as a stream up to the first rowSet): its rows are never built here."""
    if len(body) >= STREAM_MIN_BYTES:
        peeked = peek_stats_envelope(body)
        if peeked is not None:
            return peeked
    return load_json(body)


def check_symlink(path: Path) -> None:
    """Refuse a symlink whose target lies outside the directory of the path given (never read it)."""
    if not path.is_symlink():
        return
    base = path.parent.resolve()
    target = path.resolve()
    if not target.is_relative_to(base):
        raise PayloadError(f"symlink to {target} points outside {base}: not followed", reason_code="symlink_outside")


def detect_kind(obj: Any) -> tuple[str, str, dict[str, Any]]:
    """(source, endpoint, params) of a decoded payload, from its content; PayloadError if unknown."""
    if isinstance(obj, dict) and isinstance(obj.get("resultSets"), list):
        names = {str(rs.get("name", "")).lower(): rs for rs in obj["resultSets"] if isinstance(rs, dict)}
        params = obj.get("parameters") if isinstance(obj.get("parameters"), dict) else {}
        if "leaguegamelog" in names:
            headers = {str(h).upper() for h in names["leaguegamelog"].get("headers") or []}
            if "PLAYER_ID" not in headers:
                raise PayloadError("LeagueGameLog in team mode (no PLAYER_ID header): only player mode is imported",
                                   reason_code="unknown_shape")
            return "stats_nba", "leaguegamelog", params
        if "commonallplayers" in names:
            return "stats_nba", "commonallplayers", params
        if "gameheader" in names:
            return "stats_nba", "scoreboardv2", params
        raise PayloadError(f"stats.nba.com payload with unsupported resultSets {sorted(names)}",
                           reason_code="unknown_shape")
    inner = obj.get("data") if isinstance(obj, dict) and "timestamp" in obj and "data" in obj else obj
    if isinstance(inner, dict) and "bookmakers" in inner and "id" in inner:
        params: dict[str, Any] = {"event_id": inner.get("id")}
        if inner is not obj:
            params["date"] = obj.get("timestamp")
        return "odds_api", "event_odds", params
    shape = type(obj).__name__ if not isinstance(obj, dict) else f"object with keys {sorted(obj)[:8]}"
    raise PayloadError(f"unknown payload kind ({shape}): expected a stats.nba.com LeagueGameLog or an "
                       "Odds API v4 event-odds payload", reason_code="unknown_payload_kind")


def import_paths(settings: Settings, paths: Sequence[Path | str], *, correlation_id: str | None = None,
                 on_file: Callable[[int, int, str], None] | None = None) -> ImportReport:
    """Land every file of the batch; reject (and quarantine) the ones that are not known payloads.
    ``on_file(done, total, path)`` is called after each file (the CLI's progress bar)."""
    started = _time.perf_counter()
    files: list[ImportedFile] = []
    with short_write(settings) as con:  # the writer guard: waits for a run, bounded
        session = LandingSession(con, settings, command="import", transport="file", correlation_id=correlation_id)
        try:
            for i, p in enumerate(paths, start=1):
                files.append(_import_one(session, settings, Path(p)))
                if on_file is not None:
                    on_file(i, len(paths), str(p))
        except BaseException as exc:
            session.finish(error=exc)
            raise
        status = session.finish()
    for f in files:  # counts are known after the flush
        if f.result is not None and f.status != "rejected":
            f.records, f.valid, f.quarantined = f.result.n_records, f.result.n_valid, f.result.n_quarantined
            if f.status == "landed" and f.records and not f.valid:
                f.status = "quarantined"
                f.reason = f"every record quarantined ({f.quarantined:,} of {f.records:,}; see raw.quarantine)"
    if any(f.status in ("rejected", "quarantined") for f in files) and status == "ok":
        status = "partial"
        with short_write(settings) as con:  # the writer guard: waits for a run, bounded
            con.execute("update raw.scrape_runs set status = 'partial' where scrape_run_id = ?",
                        [session.scrape_run_id])
    return ImportReport(session.scrape_run_id, status, _time.perf_counter() - started, files)


def _import_one(session: LandingSession, settings: Settings, path: Path) -> ImportedFile:
    shown = str(path)
    try:
        check_symlink(path)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PayloadError(f"{size:,} bytes is over the {MAX_FILE_BYTES:,}-byte limit", reason_code="file_too_large")
        raw = path.read_bytes()
    except (OSError, PayloadError) as exc:
        code = exc.reason_code if isinstance(exc, PayloadError) else "unreadable_file"
        session.quarantine_payload(None, "file", "unknown", code, f"{shown}: {exc}", None)
        return ImportedFile(shown, None, "rejected", f"{code}: {exc}")
    try:
        body = decode_file_bytes(path.name, raw, max_bytes=settings.import_max_decompressed_bytes)
        source, endpoint, params = detect_kind(_peek(body))
    except PayloadError as exc:
        # land the bytes as received and quarantine the whole file (once: a re-import is a duplicate)
        request = ScrapeRequest("file", "unknown", {"file": path.name})
        fetched = Fetched(request=request, body=raw, origin=shown, fetched_at=settings.utcnow())
        result, _ = session.land(fetched, parse=False)
        if not result.is_duplicate:
            session.quarantine_payload(result.payload_id, "file", "unknown", exc.reason_code,
                                       f"{path.name}: {exc}", raw)
        log.error("rejected %s: %s", shown, exc)
        return ImportedFile(shown, None, "rejected", f"{exc.reason_code}: {exc}", result=result)
    fetched = Fetched(request=ScrapeRequest(source, endpoint, params), body=body, origin=shown,  # type: ignore[arg-type]
                      fetched_at=settings.utcnow())
    result, _ = session.land(fetched)
    if result.status == "failed":  # the envelope was recognised but is invalid: quarantined by land()
        return ImportedFile(shown, f"{source}/{endpoint}", "rejected", f"{result.error_class}: {result.error_message}",
                            result=result)
    status = "duplicate" if result.is_duplicate else "landed"
    return ImportedFile(shown, f"{source}/{endpoint}", status, result=result)
