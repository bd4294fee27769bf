"""Landing: store every payload unchanged (append-only), parse it, validate its records, load them.

One :class:`LandingSession` is one scrape run (a row of ``raw.scrape_runs``). For each fetched
payload it:

1. computes the sha256 of the body as received and its byte size;
2. looks up the dedup key (source, endpoint, canonical params JSON, sha256): identical content
   already landed gives a row with ``duplicate_of_payload_id`` set and a null body, and its
   records are **not** parsed or loaded again;
3. otherwise keeps the body gzip-compressed (``body`` BLOB, ``body_encoding = 'gzip'``: the ten
   LeagueGameLog payloads are ~43 MB of JSON, ~10 MB gzipped) and parses it into column batches
   (:mod:`python_jobs.parsers.payloads`); a payload that cannot be parsed at all is kept and
   quarantined as ``record_kind = 'payload'``;
4. stages the records (Arrow) for one vectorised SQL validation per record kind.

Payload rows, valid records and quarantine rows are written together at :meth:`flush`, inside one
transaction: a crash can never leave a payload marked as landed whose records were not loaded
(which a rerun would then skip as a duplicate). The invariant *records in = valid + quarantined*
is checked per payload by :func:`python_jobs.validation.records.validate_and_load`.

A large LeagueGameLog (>= 16 MB) is parsed as a stream and loaded in chunks, each chunk committed
on its own (one transaction would keep every chunk's data in memory until the commit); its payload
row is written last, so a payload is still never landed without all its records. Records of a
stream that failed are deleted at once; those of a process killed mid-stream (records whose
payload row was never written) are deleted when the next session starts.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from re import fullmatch as re_fullmatch
from typing import Any, Literal

import ijson
import orjson
import pyarrow as pa

from python_jobs.config import Settings
from python_jobs.errors import IngestInvariantError, NbaPropsError, PayloadError
from python_jobs.parsers.payloads import (
    STREAM_MIN_BYTES,
    STREAMING_PARSERS,
    ParsedPayload,
    parse_payload,
)
from python_jobs.redaction import redact
from python_jobs.scrapers.base import Fetched, ScrapeRequest, ScrapeResult, canonical_params
from python_jobs.validation.records import RecordKind, record_kinds, validate_and_load
from python_jobs.validation.staging import StageBuilder
from python_jobs.warehouse.base import Warehouse
from python_jobs.warehouse.partitions import floor_timestamp

log = logging.getLogger(__name__)

BODY_ENCODING = "gzip"
FLUSH_ROWS = 400_000  # staged records per kind before an intermediate flush
STREAM_MEMORY_LIMIT = "512MB"  # DuckDB's limit while a large payload streams in


def _memory_setting(value: str) -> str:
    """A memory_limit value read back from DuckDB ('19.1 GiB'), safe to set again."""
    if not re_fullmatch(r"[0-9]+(\.[0-9]+)? ?[A-Za-z]+", value):
        raise ValueError(f"unexpected memory_limit setting {value!r}")
    return value


def new_id() -> str:
    return uuid.uuid4().hex


def encode_body(body: bytes) -> bytes:
    """Compress a payload body for storage (gzip level 1, mtime 0: deterministic, ~4x smaller)."""
    return gzip.compress(body, compresslevel=1, mtime=0)


def read_body(con: Warehouse, payload_id: str, scraped_at: datetime | None = None) -> bytes | None:
    """The payload body exactly as received (None for a duplicate, whose body is not stored).

    The body is read from the payload's own partition (its ``scraped_at``); without ``scraped_at``
    it is looked up first (every partition, the two narrow columns only).
    """
    if scraped_at is None:
        scraped_at = con.scalar("select scraped_at from raw.landed_payloads where scraped_at >= ? and payload_id = ?",
                                [floor_timestamp(), payload_id])
        if scraped_at is None:
            raise KeyError(f"no landed payload {payload_id}")
    row = con.fetchone("select body, body_encoding from raw.landed_payloads where scraped_at = ? and payload_id = ?",
                       [scraped_at, payload_id])
    if row is None:
        raise KeyError(f"no landed payload {payload_id}")
    body, encoding = row
    if body is None:
        return None
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "identity":
        return bytes(body)
    raise ValueError(f"payload {payload_id}: unknown body encoding {encoding!r}")


@dataclass
class _PendingPayload:
    payload_id: str
    source: str
    endpoint: str
    params_json: str
    scraped_at: datetime
    sha256: str
    byte_size: int
    body: bytes | None
    duplicate_of: str | None
    origin: str


class LandingSession:
    """One scrape run: land payloads, stage their records, flush them in one transaction."""

    def __init__(self, con: Warehouse, settings: Settings, *, command: str,
                 transport: Literal["replay", "live", "file"], correlation_id: str | None = None):
        self.con = con
        self.settings = settings
        self.command = command
        self.transport = transport
        self.scrape_run_id = new_id()
        self.correlation_id = correlation_id or self.scrape_run_id
        self.kinds: dict[str, RecordKind] = record_kinds(settings.home)
        self.builders: dict[str, StageBuilder] = {name: k.builder() for name, k in self.kinds.items()}
        self._pending: list[_PendingPayload] = []
        self._pending_quarantine: list[dict[str, Any]] = []
        self._results_by_payload: dict[str, ScrapeResult] = {}
        self.results: list[ScrapeResult] = []
        self.started_at = settings.utcnow()
        self.run_date = settings.eastern_today().isoformat()  # box scores after it are quarantined
        self._check_earlier = False  # a streamed payload's chunk may repeat keys of its earlier chunks
        # streamed landing (bounded memory for huge files) is DuckDB's: on BigQuery a payload is
        # parsed whole (the decompression cap bounds it) and nothing is ever deleted from raw
        self._streaming = con.engine == "duckdb"
        if self._streaming:
            self._delete_orphans()
        # the dedup map reads every partition by design (a re-import of an old file lands with
        # today's scraped_at, whenever its original landed), but only the narrow key columns
        self._known: dict[tuple[str, str, str, str], str] = {
            (s, e, p, h): pid for s, e, p, h, pid in con.fetchall(
                "select source, endpoint, params_json, sha256, payload_id from raw.landed_payloads "
                "where scraped_at >= ? and duplicate_of_payload_id is null", [floor_timestamp(settings.home)])
        }
        con.execute(
            "insert into raw.scrape_runs (scrape_run_id, correlation_id, command, transport, started_at, status) "
            "values (?, ?, ?, ?, ?, 'running')",
            [self.scrape_run_id, self.correlation_id, command, transport, self.started_at],
        )

    # ------------------------------------------------------------------ landing
    def land(self, fetched: Fetched, *, source: str | None = None, endpoint: str | None = None,
             params: dict[str, Any] | None = None, parse: bool = True
             ) -> tuple[ScrapeResult, ParsedPayload | None]:
        """Land one payload; returns its result (counts filled at flush) and what was parsed.

        ``source``/``endpoint``/``params`` override the request's (the importer detects them);
        ``parse=False`` only stores the payload (the caller quarantines it).
        """
        req = fetched.request
        source = source or req.source
        endpoint = endpoint or req.endpoint
        params = dict(req.params if params is None else params)
        params_json = canonical_params(params)
        body = fetched.body.encode("utf-8") if isinstance(fetched.body, str) else bytes(fetched.body)
        sha = hashlib.sha256(body).hexdigest()
        payload_id = new_id()
        request = ScrapeRequest(source, endpoint, params)  # type: ignore[arg-type]
        dup = self._known.get((source, endpoint, params_json, sha))
        result = ScrapeResult(request=request, status="ok", payload_id=payload_id, duplicate_of_payload_id=dup)
        self._pending.append(_PendingPayload(payload_id, source, endpoint, params_json, fetched.fetched_at, sha,
                                             len(body), None if dup else encode_body(body), dup,
                                             redact(fetched.origin)))
        self.results.append(result)
        if dup:
            # identical content already landed: log it, load nothing
            log.debug("duplicate payload %s/%s %s of %s", source, endpoint, params_json, dup)
            return result, None
        self._known[(source, endpoint, params_json, sha)] = payload_id
        if not parse:
            result.status = "failed"
            return result, None
        streamer = STREAMING_PARSERS.get((source, endpoint))
        if streamer is not None and len(body) >= STREAM_MIN_BYTES:
            streamed = self._land_streamed(streamer, result, fetched, source, endpoint, body, params)
            if streamed is not None:
                return result, streamed
            # not streamable (another shape, or not strict JSON): the whole-payload parser decides
        try:
            parsed = parse_payload(source, endpoint, body, params)
        except PayloadError as exc:
            self.quarantine_payload(payload_id, source, endpoint, exc.reason_code, str(exc), body)
            result.status = "failed"
            result.error_class = type(exc).__name__
            result.error_message = str(exc)
            result.n_records = result.n_quarantined = 1
            return result, None
        for batch in parsed.batches:
            self.builders[batch.kind].add(
                payload_id=payload_id, scrape_run_id=self.scrape_run_id, scraped_at=fetched.fetched_at,
                source=source, endpoint=endpoint, record_index=range(batch.n), record_json=batch.record_json,
                data=batch.data, pre_reason_code=batch.pre_reason_code, pre_reason=batch.pre_reason,
                context={**batch.context, "run_date": self.run_date})
        result.n_records = parsed.n_records
        result.status = "ok" if parsed.n_records else "empty"
        self._results_by_payload[payload_id] = result
        if any(b.n_rows >= FLUSH_ROWS for b in self.builders.values()):
            self.flush()
        return result, parsed

    # ------------------------------------------------------------------ streamed payloads
    def _streamed_tables(self) -> dict[str, str]:
        """table -> its partition column"""
        return {self.kinds["nba_player_game_logs"].table: "scraped_at", "quarantine": "quarantined_at"}

    def _delete_orphans(self) -> None:
        """Records of a stream whose process died before its payload row was written."""
        # DuckDB only (streamed landing); an orphan may be of any age: every partition, by design
        floor = floor_timestamp(self.settings.home)
        for table, landed_at in self._streamed_tables().items():
            self.con.execute(f"delete from raw.{table} where {landed_at} >= ? and payload_id is not null "
                             "and payload_id not in (select payload_id from raw.landed_payloads where scraped_at >= ?)",
                             [floor, floor])

    def _land_streamed(self, streamer: Any, result: ScrapeResult, fetched: Fetched, source: str, endpoint: str,
                       body: bytes, params: dict[str, Any]) -> ParsedPayload | None:
        """Parse and load a large payload chunk by chunk (bounded memory), its payload row last.

        Returns None, having deleted what it loaded, when the stream cannot be used (not the
        expected shape, or not strict JSON): the caller then parses the payload whole.
        """
        payload_id = result.payload_id
        if not self._streaming:
            return None
        try:
            parsed = streamer(body, params)
        except PayloadError:
            return None
        own = next(p for p in self._pending if p.payload_id == payload_id)
        self._pending.remove(own)
        self.flush()  # what came before lands on its own
        n = 0
        # small chunks need little; without a limit DuckDB keeps every written block cached
        (previous_limit,) = self.con.fetchone("select current_setting('memory_limit')")
        self.con.execute(f"set memory_limit = '{STREAM_MEMORY_LIMIT}'")
        batches = iter(parsed.batches)
        try:
            while True:
                try:
                    batch = next(batches, None)
                except (ijson.JSONError, PayloadError, UnicodeDecodeError) as exc:
                    # not strict JSON after all (a NaN token, a cut): undo, then parse it whole
                    log.warning("streamed parse of %s/%s stopped (%s): parsing it whole", source, endpoint, exc)
                    self._discard_stream(payload_id, result)
                    self._pending.append(own)
                    return None
                if batch is None:
                    break
                chunk_json, start = batch.record_json, batch.start
                self.builders[batch.kind].add(
                    payload_id=payload_id, scrape_run_id=self.scrape_run_id, scraped_at=fetched.fetched_at,
                    source=source, endpoint=endpoint, record_index=range(start, start + batch.n),
                    record_json=lambda i, fn=chunk_json, start=start: fn(i - start),
                    data=batch.data, pre_reason_code=batch.pre_reason_code, pre_reason=batch.pre_reason,
                    context={**batch.context, "run_date": self.run_date})
                n += batch.n
                result.n_records = n
                self._results_by_payload[payload_id] = result
                self._check_earlier = start > 0
                self.flush()
        except BaseException:
            self._discard_stream(payload_id, result)
            raise
        finally:
            self._check_earlier = False
            self.con.execute(f"set memory_limit = '{_memory_setting(previous_limit)}'")
        result.status = "ok" if n else "empty"
        self._pending.append(own)
        self.flush()  # the payload row, now that all its records are in
        return parsed

    def _discard_stream(self, payload_id: str, result: ScrapeResult) -> None:
        """Delete what a stopped stream loaded (committed chunks) and forget its staged records."""
        for builder in self.builders.values():
            builder.clear()
        for table, landed_at in self._streamed_tables().items():  # DuckDB only (streamed landing)
            self.con.execute(f"delete from raw.{table} where {landed_at} >= ? and payload_id = ?",
                             [floor_timestamp(self.settings.home), payload_id])
        self._results_by_payload.pop(payload_id, None)
        result.n_records = result.n_valid = result.n_quarantined = 0

    def quarantine_payload(self, payload_id: str | None, source: str | None, endpoint: str | None,
                           reason_code: str, reason: str, body: bytes | None) -> None:
        """Quarantine a whole payload (the body, when known, stays in raw.landed_payloads)."""
        preview = None
        if body is not None:
            preview = body[:2000].decode("utf-8", errors="replace")
        self._pending_quarantine.append({
            "quarantine_id": new_id(), "payload_id": payload_id, "scrape_run_id": self.scrape_run_id,
            "source": source, "endpoint": endpoint, "record_kind": "payload", "record_index": None,
            "reason_code": reason_code, "reason": reason,
            "record_json": orjson.dumps({"body_preview": preview}).decode() if preview is not None else None,
            "quarantined_at": self.settings.utcnow(),
        })
        log.warning("quarantined payload %s (%s/%s): %s: %s", payload_id, source, endpoint, reason_code, reason)

    def record_failure(self, request: ScrapeRequest, exc: NbaPropsError) -> ScrapeResult:
        """A fetch that failed (after retries for transient errors): typed result, nothing landed."""
        result = ScrapeResult(request=request, status="failed", error_class=type(exc).__name__,
                              error_message=redact(str(exc)))
        self.results.append(result)
        log.error("scrape failed %s/%s %s: %s: %s", request.source, request.endpoint, request.params_json,
                  type(exc).__name__, result.error_message)
        return result

    # ------------------------------------------------------------------ flush
    def flush(self) -> None:
        """Write pending payloads, valid records and quarantine rows in one transaction."""
        if not self._pending and not self._pending_quarantine and not any(b.n_rows for b in self.builders.values()):
            return
        now = self.settings.utcnow()
        con = self.con
        with con.transaction():
            if self._pending:
                table = pa.table({
                    "payload_id": [p.payload_id for p in self._pending],
                    "scrape_run_id": [self.scrape_run_id] * len(self._pending),
                    "correlation_id": [self.correlation_id] * len(self._pending),
                    "source": [p.source for p in self._pending],
                    "endpoint": [p.endpoint for p in self._pending],
                    "params_json": [p.params_json for p in self._pending],
                    "scraped_at": pa.array([p.scraped_at for p in self._pending], type=pa.timestamp("us", tz="UTC")),
                    "sha256": [p.sha256 for p in self._pending],
                    "byte_size": pa.array([p.byte_size for p in self._pending], type=pa.int64()),
                    "body": pa.array([p.body for p in self._pending], type=pa.binary()),
                    "body_encoding": [None if p.body is None else BODY_ENCODING for p in self._pending],
                    "duplicate_of_payload_id": pa.array([p.duplicate_of for p in self._pending], type=pa.string()),
                    "origin": [p.origin for p in self._pending],
                })
                con.load_arrow("raw.landed_payloads", table)
            for name, builder in self.builders.items():
                counts = validate_and_load(con, self.kinds[name], builder, quarantined_at=now,
                                           check_earlier=self._check_earlier)
                for pid, c in counts.items():
                    result = self._results_by_payload.get(pid)
                    if result is None:
                        raise IngestInvariantError(f"records of unknown payload {pid} were staged")
                    result.n_valid += c.n_valid
                    result.n_quarantined += c.n_quarantined
            if self._pending_quarantine:
                q = pa.Table.from_pylist(self._pending_quarantine, schema=pa.schema([
                    ("quarantine_id", pa.string()), ("payload_id", pa.string()), ("scrape_run_id", pa.string()),
                    ("source", pa.string()), ("endpoint", pa.string()), ("record_kind", pa.string()),
                    ("record_index", pa.int32()), ("reason_code", pa.string()), ("reason", pa.string()),
                    ("record_json", pa.string()), ("quarantined_at", pa.timestamp("us", tz="UTC"))]))
                con.load_arrow("raw.quarantine", q)
        for pid, result in list(self._results_by_payload.items()):
            if result.n_valid + result.n_quarantined != result.n_records:
                raise IngestInvariantError(
                    f"payload {pid}: {result.n_records} records in, {result.n_valid} valid + "
                    f"{result.n_quarantined} quarantined")
        self._pending.clear()
        self._pending_quarantine.clear()
        self._results_by_payload.clear()

    def finish(self, *, error: BaseException | None = None) -> str:
        """Flush what is pending and close the run row; returns the run status."""
        if error is None:
            self.flush()
        failed = [r for r in self.results if r.status == "failed" and r.payload_id is None]
        if error is not None:
            status = "failed"
        elif failed and len(failed) == len(self.results):
            status = "failed"
        elif failed or any(r.status == "failed" for r in self.results):
            status = "partial"
        else:
            status = "ok"
        first = error if error is not None else None
        err_class = type(first).__name__ if first else (failed[0].error_class if failed else None)
        err_msg = redact(str(first)) if first else (
            redact(f"{len(failed)} failed scrape(s); first: {failed[0].error_message}") if failed else None)
        self.con.execute(
            """
            update raw.scrape_runs set finished_at = ?, status = ?, n_payloads = ?, n_records_valid = ?,
                   n_records_quarantined = ?, error_class = ?, error_message = ?
            where scrape_run_id = ?
            """,
            [self.settings.utcnow(), status, sum(1 for r in self.results if r.payload_id),
             sum(r.n_valid for r in self.results), sum(r.n_quarantined for r in self.results),
             err_class, err_msg, self.scrape_run_id],
        )
        return status


def land_all(session: LandingSession, fetched: Iterable[Fetched]) -> list[ScrapeResult]:
    return [session.land(f)[0] for f in fetched]
