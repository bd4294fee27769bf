"""Registry of prediction systems: every module in this package that defines ``SYSTEM``.

Adding a system = adding ``python_jobs/ml/systems/<system_id>.py`` with a ``System`` subclass
instance named ``SYSTEM`` whose ``system_id`` equals the module name.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from python_jobs.ml.systems.base import FitContext, Model, System

__all__ = ["FitContext", "Model", "System", "all_systems", "get_system", "resolve_order"]

_NOT_SYSTEMS = {"base"}


@lru_cache(maxsize=1)
def all_systems() -> dict[str, System]:
    found: dict[str, System] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_SYSTEMS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        system = getattr(module, "SYSTEM", None)
        if not isinstance(system, System):
            raise TypeError(f"{module.__name__} must define SYSTEM = <System instance>")
        if system.system_id != info.name:
            raise ValueError(f"{module.__name__}: system_id {system.system_id!r} != module name")
        found[system.system_id] = system
    return dict(sorted(found.items()))


def get_system(system_id: str) -> System:
    systems = all_systems()
    if system_id not in systems:
        raise KeyError(f"unknown system {system_id!r}; known: {', '.join(systems)}")
    return systems[system_id]


def resolve_order(system_ids: list[str] | None = None) -> list[str]:
    """The requested systems plus their dependencies, dependencies first (deterministic)."""
    systems = all_systems()
    wanted = list(system_ids) if system_ids else list(systems)
    order: list[str] = []

    def visit(sid: str, stack: tuple[str, ...]) -> None:
        if sid in stack:
            raise ValueError(f"system dependency cycle: {' -> '.join((*stack, sid))}")
        if sid in order:
            return
        for dep in get_system(sid).depends_on:
            visit(dep, (*stack, sid))
        order.append(sid)

    for sid in wanted:
        visit(sid, ())
    return order
