"""``dbt.*`` cross-database macros rendered as DuckDB-looking SQL (lint only)."""

from __future__ import annotations

from typing import Any

from ._render import call


def type_string() -> str:
    return "varchar"


def type_int() -> str:
    return "integer"


def type_bigint() -> str:
    return "bigint"


def type_float() -> str:
    return "double"


def type_numeric() -> str:
    return "numeric"


def type_boolean() -> str:
    return "boolean"


def type_timestamp() -> str:
    return "timestamp"


def current_timestamp() -> str:
    return "current_timestamp"


def hash(field: Any) -> str:  # noqa: A001 - mirrors dbt.hash
    return f"md5(cast({field} as varchar))"


def safe_cast(field: Any, type_: Any) -> str:
    return f"try_cast({field} as {type_})"


def cast(field: Any, type_: Any) -> str:
    return f"cast({field} as {type_})"


def __getattr__(name: str):
    # any other dbt.<macro>(...) renders as <macro>(...)
    if name.startswith("__"):
        raise AttributeError(name)
    return call(name)


def dateadd(datepart: Any, interval: Any, from_date_or_timestamp: Any) -> str:
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"
