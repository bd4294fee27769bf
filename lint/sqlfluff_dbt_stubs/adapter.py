"""``adapter.*`` (lint only): ``dispatch`` renders the dispatched macro as a function call."""

from __future__ import annotations

from typing import Any

from ._render import call


def dispatch(macro_name: str, macro_namespace: str | None = None, **_: Any):
    return call(macro_name)


def get_relation(*_: Any, **__: Any) -> None:
    return None


def quote(identifier: Any) -> str:
    return f'"{identifier}"'
