"""Turn parsed payload records into a columnar *stage* (pyarrow, all fields as text) for SQL checks.

Every field is staged as text so that one SQL pass can check types, ranges and keys for all rows:

* values of the expected JSON type are converted column-wise by Arrow (fast path);
* a column that mixes types (a string in a numeric column, a bool, an object...) falls back to
  per-value text where non-text JSON values of text fields are written as JSON and string values of
  numeric fields are written *quoted* (``"12"``), so numeric casts fail and the row is quarantined
  as ``wrong_type`` rather than silently coerced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from python_jobs.validation.envelopes import NonFiniteToken


@dataclass(frozen=True)
class FieldSpec:
    name: str  # staged column (= raw table column where it exists)
    header: str | None = None  # source header (stats.nba.com) or key
    numeric: bool = False
    required: bool = False


def _fallback_text(values: Sequence[Any], numeric: bool) -> pa.Array:
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
        elif isinstance(v, str):
            out.append(orjson.dumps(v).decode() if numeric else v)
        elif isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, int | float):
            out.append(repr(v))
        elif isinstance(v, NonFiniteToken):  # its record is quarantined by the parser
            out.append(v.token)
        else:
            out.append(orjson.dumps(v).decode())
    return pa.array(out, type=pa.string())


def column_as_text(values: Sequence[Any], *, numeric: bool) -> pa.Array:
    """Text column of ``values`` preserving the distinction between numbers and strings."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return _fallback_text(values, numeric)
    t = arr.type
    if pa.types.is_null(t):
        return pa.nulls(len(arr), type=pa.string())
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _fallback_text(values, numeric) if numeric else pc.cast(arr, pa.string())
    return _fallback_text(values, numeric)


@dataclass
class StageBuilder:
    """Accumulates staged records of one kind (several payloads) before one SQL validation pass."""

    fields: tuple[FieldSpec, ...]
    columns: dict[str, list[pa.Array]] = field(default_factory=dict)
    n_rows: int = 0
    # payload_id -> function giving a record's original JSON by record_index (built only for the
    # quarantined records: dumping every valid row would cost more than the validation itself)
    json_functions: dict[str, Callable[[int], str]] = field(default_factory=dict)

    def add(self, *, payload_id: str, scrape_run_id: str, scraped_at: Any, source: str, endpoint: str,
            record_index: Sequence[int], record_json: Sequence[str | None] | Callable[[int], str],
            data: dict[str, Sequence[Any]],
            pre_reason_code: Sequence[str | None] | None = None, pre_reason: Sequence[str | None] | None = None,
            context: dict[str, Any] | None = None) -> None:
        """Stage ``len(record_index)`` records; ``data`` maps field name -> raw values (missing = null)."""
        n = len(record_index)
        if n == 0:
            return

        def push(name: str, arr: pa.Array) -> None:
            self.columns.setdefault(name, []).append(arr)

        push("payload_id", pa.array([payload_id] * n, type=pa.string()))
        push("scrape_run_id", pa.array([scrape_run_id] * n, type=pa.string()))
        push("scraped_at", pa.array([scraped_at] * n, type=pa.timestamp("us", tz="UTC")))
        push("source", pa.array([source] * n, type=pa.string()))
        push("endpoint", pa.array([endpoint] * n, type=pa.string()))
        push("record_index", pa.array(record_index, type=pa.int32()))
        if callable(record_json):
            self.json_functions[payload_id] = record_json
            push("record_json", pa.nulls(n, type=pa.string()))
        else:
            push("record_json", pa.array(record_json, type=pa.string()))
        push("pre_reason_code", pa.array(pre_reason_code or [None] * n, type=pa.string()))
        push("pre_reason", pa.array(pre_reason or [None] * n, type=pa.string()))
        for key, value in (context or {}).items():
            push(f"ctx_{key}", pa.array([value] * n, type=pa.string()))
        for spec in self.fields:
            values = data.get(spec.name)
            if values is None:
                push(spec.name, pa.nulls(n, type=pa.string()))
            else:
                if len(values) != n:
                    raise ValueError(f"field {spec.name}: {len(values)} values for {n} records")
                push(spec.name, column_as_text(values, numeric=spec.numeric))
        self.n_rows += n

    def table(self, context_keys: Sequence[str] = ()) -> pa.Table:
        names = ["payload_id", "scrape_run_id", "scraped_at", "source", "endpoint", "record_index", "record_json",
                 "pre_reason_code", "pre_reason", *[f"ctx_{k}" for k in context_keys], *[f.name for f in self.fields]]
        arrays = []
        for name in names:
            chunks = self.columns.get(name)
            if not chunks:
                arrays.append(pa.nulls(self.n_rows, type=pa.string()))
            else:
                if sum(len(c) for c in chunks) != self.n_rows:
                    raise ValueError(f"context column {name} missing for some staged payloads")
                arrays.append(pa.chunked_array(chunks))
        return pa.Table.from_arrays(arrays, names=names)

    def record_json(self, payload_id: str, record_index: int) -> str | None:
        fn = self.json_functions.get(payload_id)
        return fn(record_index) if fn is not None else None

    def clear(self) -> None:
        self.json_functions.clear()
        self.columns.clear()
        self.n_rows = 0
