"""Render a stubbed macro call as a SQL function call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _arg(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_arg(v) for v in value)
    return str(value)


def call(name: str) -> Callable[..., str]:
    """A function that renders ``name(arg, ...)`` (lists are flattened into arguments)."""

    def render(*args: Any, **kwargs: Any) -> str:
        parts = [_arg(a) for a in args] + [_arg(v) for v in kwargs.values()]
        return f"{name}({', '.join(p for p in parts if p)})"

    return render
