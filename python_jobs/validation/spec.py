"""The field rules of each payload kind, declared ONCE in ``config/validation/<kind>.yml``.

Two validators are generated from them:

* the fast edge checks (SQL conditions: :meth:`KindSpec.check`, :meth:`KindSpec.typed`,
  :meth:`KindSpec.text_guards`), which :mod:`python_jobs.validation.records` places in its fixed
  check order (the first failing check names the quarantine ``reason_code``);
* the Great Expectations expectations (:meth:`KindSpec.expectations`, plain dicts: no GX import
  here) run by :mod:`python_jobs.validation.gx_checkpoint` on :func:`gx_frame` frames.

``tests/python/ingest/test_spec_agreement.py`` fails if the two disagree on a corruption class.
This module never imports great_expectations (it is on the ingest hot path).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
import yaml

from python_jobs.validation.reference import load_teams
from python_jobs.validation.staging import FieldSpec

TYPES = ("text", "int", "number", "int_or_string", "date", "timestamp", "minutes")
NUMERIC_TYPES = ("int", "number")   # staged as numbers: a JSON string there is a wrong type
DEFAULT_TYPE_CODE = {"int": "wrong_type", "number": "wrong_type", "int_or_string": "wrong_type",
                     "date": "invalid_date", "timestamp": "invalid_timestamp", "minutes": "malformed_minutes"}

# The syntax of each type, on the value as text (a JSON number as written, a string as is). The edge
# types values with DuckDB casts (faster than regular expressions); GX matches these. Both must agree.
INT_PATTERN = r"-?[0-9]+(\.0+)?"
NUM_PATTERN = r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?"
TS_PATTERN = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
              r"(Z|[+-][0-9]{2}:?[0-9]{2})?")
MINUTES_NUMBER = r"[0-9]+(\.[0-9]+)?"
MINUTES_CLOCK = r"[0-9]{1,3}:[0-5][0-9](\.[0-9]+)?"
TYPE_PATTERN = {"int": INT_PATTERN, "int_or_string": INT_PATTERN, "number": NUM_PATTERN, "date": DATE_PATTERN,
                "timestamp": TS_PATTERN, "minutes": f"{MINUTES_NUMBER}|{MINUTES_CLOCK}"}


def spec_dir(home: Path) -> Path:
    return Path(home) / "config" / "validation"


@dataclass(frozen=True)
class Check:
    """One edge check: rows where ``condition`` holds are quarantined with ``code``."""

    code: str
    condition: str  # SQL over the typed columns (``<name>`` text, ``<name>_v`` typed)
    reason: str  # SQL string expression


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    sql: str    # SQL condition over the staged text column ``<name>`` and the typed ``<name>_v``


@dataclass(frozen=True)
class Field:
    name: str
    header: str
    type: str
    required: bool
    max_length: int
    type_code: str
    regex: str | None
    regex_code: str | None
    min: float | None
    max: float | None
    min_code: str | None
    max_code: str | None
    exclude_between: tuple[int, int] | None
    allowed: tuple[Any, ...] | None
    allowed_code: str | None

    @property
    def stage(self) -> FieldSpec:
        return FieldSpec(self.name, self.header, numeric=self.type in NUMERIC_TYPES, required=self.required)

    @property
    def is_text(self) -> bool:
        return self.type == "text"


def _sql_literal(v: Any) -> str:
    return "'" + v.replace("'", "''") + "'" if isinstance(v, str) else repr(v)


def _names_when(pairs: list[tuple[str, str]]) -> str:
    """SQL listing the labels whose condition holds: concat_ws(', ', case when cond then 'label' end, ...)."""
    return "concat_ws(', ', " + ", ".join(f"case when {cond} then {_sql_literal(label)} end"
                                          for label, cond in pairs) + ")"


def _typed_sql(f: Field) -> str | None:
    c = f.name
    d = f"try_cast({c} as double)"
    if f.type in ("int", "int_or_string"):
        # try_cast to double is much faster than a regular expression; the stage writes string values of
        # numeric fields quoted ("12"), so they never cast; try_cast(.. as bigint) would round 12.5
        return f"(case when isfinite({d}) and {d} = trunc({d}) and abs({d}) < 9e18 then cast({d} as bigint) end)"
    if f.type == "number":
        return f"(case when isfinite({d}) then {d} end)"
    if f.type == "date":
        return f"(case when regexp_full_match({c}, '{DATE_PATTERN}') then try_cast(left({c}, 10) as date) end)"
    if f.type == "timestamp":
        return f"(case when regexp_full_match({c}, '{TS_PATTERN}') then try_cast({c} as timestamptz) end)"
    if f.type == "minutes":
        return (f"(case when regexp_full_match({c}, '{MINUTES_NUMBER}') then cast({c} as double) "
                f"when regexp_full_match({c}, '{MINUTES_CLOCK}') then cast(split_part({c}, ':', 1) as integer) "
                f"+ cast(split_part({c}, ':', 2) as double) / 60 end)")
    return None


@dataclass(frozen=True)
class KindSpec:
    kind: str
    fields: tuple[Field, ...]
    bad_characters: tuple[tuple[int, int], ...]

    # ------------------------------------------------------------------ edge (SQL)
    @property
    def stage_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f.stage for f in self.fields)

    def typed(self) -> tuple[str, ...]:
        """``expr as <name>_v`` select items for every typed field."""
        return tuple(f"{sql} as {f.name}_v" for f in self.fields if (sql := _typed_sql(f)) is not None)

    def bad_characters_re2(self) -> str:
        def cp(n: int) -> str:
            return r"\x00" if n == 0 else f"\\x{{{n:04X}}}"
        return "[" + "".join(cp(a) if a == b else f"{cp(a)}-{cp(b)}" for a, b in self.bad_characters) + "]"

    def bad_characters_python(self) -> str:
        def cp(n: int) -> str:
            return f"\\u{n:04x}"
        return "[" + "".join(cp(a) if a == b else f"{cp(a)}-{cp(b)}" for a, b in self.bad_characters) + "]"

    def rules(self) -> list[Rule]:
        """Every field rule as SQL, in field order (the edge groups them by code)."""
        out: list[Rule] = []
        for f in self.fields:
            c, v = f.name, f"{f.name}_v"
            out.append(Rule("field_too_long", f"{f.header} (max {f.max_length})", f"length({c}) > {f.max_length}"))
            if f.required:
                out.append(Rule("missing_field", f.header, f"nullif(trim({c}), '') is null"))
            if f.type != "text":
                out.append(Rule(f.type_code, f.header, f"({c} is not null and {v} is null)"))
            if f.regex is not None:
                out.append(Rule(f.regex_code or "invalid_value", f.header,
                                f"not regexp_full_match({c}, {_sql_literal(f.regex)})"))
            x = c if f.is_text else v
            if f.min is not None:
                out.append(Rule(f.min_code or "invalid_value", f"{f.header} < {f.min:g}", f"{x} < {f.min!r}"))
            if f.max is not None:
                out.append(Rule(f.max_code or "invalid_value", f"{f.header} > {f.max:g}", f"{x} > {f.max!r}"))
            if f.exclude_between is not None:
                a, b = f.exclude_between
                out.append(Rule(f.min_code or "invalid_value", f"{f.header} in [{a}, {b}]", f"{x} between {a} and {b}"))
            if f.allowed is not None:
                out.append(Rule(f.allowed_code or "invalid_value", f"{f.header} not allowed",
                                f"{x} not in ({', '.join(_sql_literal(a) for a in f.allowed)})"))
        return out

    def check(self, code: str, extra: Iterable[tuple[str, str]] = (), reason: str | None = None) -> Check:
        """The edge ``Check`` of ``code``: any field rule of that code, or a hand-written cross-field
        condition of ``extra`` ((label, SQL) pairs)."""
        pairs = [(r.label, r.sql) for r in self.rules() if r.code == code] + list(extra)
        if not pairs:
            raise ValueError(f"{self.kind}: no rule has the code {code!r}")
        cond = " or ".join(f"({sql})" for _, sql in pairs)
        return Check(code, cond, reason or f"'{code.replace('_', ' ')}: ' || {_names_when(pairs)}")

    def text_guards(self) -> tuple[Check, Check]:
        """``field_too_long`` (every field) and ``invalid_characters`` (text fields)."""
        bad = self.bad_characters_re2()
        text = [f for f in self.fields if f.is_text]
        pairs = [(f.header, f"regexp_matches({f.name}, '{bad}')") for f in text]
        return (
            self.check("field_too_long", reason=None),
            Check("invalid_characters",
                  f"regexp_matches(concat_ws(' ', {', '.join(f.name for f in text)}), '{bad}')",
                  "'NUL or bidirectional control character in: ' || " + _names_when(pairs)),
        )

    # ------------------------------------------------------------------ Great Expectations
    def expectations(self) -> list[dict[str, Any]]:
        """The GX expectations (``{"type": <snake_case expectation>, "kwargs": {...}, "code": ...}``)
        over a :func:`gx_frame` of this kind. Same rules as :meth:`rules`."""
        out: list[dict[str, Any]] = []

        def add(kind: str, code: str, **kwargs: Any) -> None:
            out.append({"type": kind, "code": code, "kwargs": kwargs})

        bad = self.bad_characters_python()
        for f in self.fields:
            t = f"{f.name}__text"   # the value as text (JSON text of non-strings): what the edge stages
            add("expect_column_value_lengths_to_be_between", "field_too_long", column=t, max_value=f.max_length)
            if f.required:
                add("expect_column_values_to_not_be_null", "missing_field", column=t)
                add("expect_column_values_to_not_match_regex", "missing_field", column=t, regex=r"^ *\Z")
            if f.is_text:
                add("expect_column_values_to_not_match_regex", "invalid_characters", column=t, regex=bad)
            else:
                add("expect_column_values_to_match_regex", f.type_code, column=t,
                    regex=rf"^(?:{TYPE_PATTERN[f.type]})\Z")
                if f.type in ("date", "timestamp"):   # the pattern admits 2024-13-45: a real calendar date
                    add("expect_column_values_to_be_dateutil_parseable", f.type_code, column=t)
            if f.regex is not None:
                add("expect_column_values_to_match_regex", f.regex_code or "invalid_value", column=t,
                    regex=rf"^(?:{f.regex})\Z")
            x = t if f.is_text else f.name
            if f.min is not None or f.max is not None:
                add("expect_column_values_to_be_between", f.min_code or f.max_code or "invalid_value", column=x,
                    min_value=f.min, max_value=f.max)
            if f.exclude_between is not None:
                a, b = f.exclude_between
                add("expect_column_values_to_not_be_in_set", f.min_code or "invalid_value", column=x,
                    value_set=list(range(a, b + 1)))
            if f.allowed is not None:
                add("expect_column_values_to_be_in_set", f.allowed_code or "invalid_value", column=x,
                    value_set=list(f.allowed))
        return out


def _text_of(value: Any, numeric: bool) -> str | None:
    """A value as the edge stages it: strings as they are (quoted in numeric fields), anything else
    as JSON text; dates and timestamps read back from the warehouse in ISO 8601."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return orjson.dumps(value).decode() if numeric else value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (list, dict)):   # numpy scalars
        return _text_of(value.item(), numeric)
    return orjson.dumps(value).decode()


def _value_of(f: Field, value: Any) -> Any:
    """The typed value used by range and set rules (None when the value is not of its type: the type
    rule reports it)."""
    if value is None or isinstance(value, bool):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if f.type == "minutes":
        text = value if isinstance(value, str) else _text_of(value, False)
        if ":" in text:
            mm, _, ss = text.partition(":")
            try:
                return int(mm) + float(ss) / 60
            except ValueError:
                return None
        value = text
    if f.type in ("int_or_string", "minutes") and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def gx_frame(spec: KindSpec, rows: Iterable[Mapping[str, Any]]):  # -> pandas.DataFrame
    """A frame GX validates: per field ``<name>__text`` (the value as text, as the edge stages it)
    and, for non-text fields, ``<name>`` (the typed value for range/set rules). ``rows`` map field
    names to values: parsed records, or rows of the raw tables read through the Warehouse."""
    import pandas as pd

    data: dict[str, list[Any]] = {}
    rows = list(rows)
    for f in spec.fields:
        values = [r.get(f.name) for r in rows]
        data[f"{f.name}__text"] = [_text_of(v, f.type in NUMERIC_TYPES) for v in values]
        if not f.is_text:
            data[f.name] = [_value_of(f, v) for v in values]
    return pd.DataFrame(data, dtype=object)


# ---------------------------------------------------------------------------------------- loading
def _reference(home: Path, name: str) -> tuple[Any, ...]:
    teams = load_teams(home).teams
    refs = {"team_ids": tuple(t.team_id for t in teams), "team_tricodes": tuple(t.tricode for t in teams),
            "team_names": tuple(t.odds_api_name for t in teams)}
    if name not in refs:
        raise ValueError(f"unknown allowed_ref {name!r} (known: {', '.join(refs)})")
    return refs[name]


def _field(raw: dict[str, Any], defaults: dict[str, Any], home: Path, where: str) -> Field:
    known = {"name", "header", "type", "type_code", "required", "max_length", "regex", "regex_code", "min", "max",
             "range_code", "min_code", "max_code", "exclude_between", "allowed", "allowed_ref", "allowed_code"}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    typ = raw.get("type", "text")
    if typ not in TYPES:
        raise ValueError(f"{where}: type {typ!r} is not one of {TYPES}")
    allowed = raw.get("allowed")
    if raw.get("allowed_ref"):
        allowed = tuple(allowed or ()) + _reference(home, raw["allowed_ref"])
    eb = raw.get("exclude_between")
    return Field(
        name=raw["name"], header=raw.get("header", raw["name"]), type=typ, required=bool(raw.get("required")),
        max_length=int(raw.get("max_length", defaults["max_length"])),
        type_code=raw.get("type_code", DEFAULT_TYPE_CODE.get(typ, "wrong_type")),
        regex=raw.get("regex"), regex_code=raw.get("regex_code"),
        min=raw.get("min"), max=raw.get("max"),
        min_code=raw.get("min_code", raw.get("range_code")), max_code=raw.get("max_code", raw.get("range_code")),
        exclude_between=tuple(eb) if eb else None,   # type: ignore[arg-type]
        allowed=tuple(allowed) if allowed is not None else None, allowed_code=raw.get("allowed_code"),
    )


@lru_cache(maxsize=16)
def load_spec(home: Path, kind: str) -> KindSpec:
    folder = spec_dir(home)
    defaults = yaml.safe_load((folder / "_defaults.yml").read_text())
    path = folder / f"{kind}.yml"
    doc = yaml.safe_load(path.read_text())
    if doc.get("kind") != kind:
        raise ValueError(f"{path}: kind {doc.get('kind')!r} does not match the file name")
    fields = tuple(_field(raw, defaults, Path(home), f"{path} field {i}") for i, raw in enumerate(doc["fields"]))
    return KindSpec(kind, fields, tuple(tuple(p) for p in defaults["bad_characters"]))  # type: ignore[misc]


def kinds(home: Path) -> list[str]:
    return sorted(p.stem for p in spec_dir(home).glob("*.yml") if not p.stem.startswith("_"))
