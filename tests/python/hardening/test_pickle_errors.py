"""Every exception class of python_jobs survives pickle (a pool child's error must reach the parent).

``multiprocessing`` sends a child's exception to the parent pickled; an exception whose
``__init__`` needs more than its message cannot be unpickled, and the pool then hangs forever
(issue #11: ``DbtError`` hung ``test_concurrent_scoring`` for 15 minutes). The classes are found
by importing every module of the package, so a new exception class is covered automatically.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from datetime import UTC, date, datetime, timedelta

import pytest

import python_jobs

MESSAGE = "something went wrong: 42"


def _exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for mod in pkgutil.walk_packages(python_jobs.__path__, "python_jobs."):
        if mod.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def _samples() -> dict[str, BaseException]:
    """Instances of the classes whose constructor takes more than a message."""
    from python_jobs.dbt_runner import DbtError
    from python_jobs.ops.locks import LockHeld, LockInfo
    from python_jobs.pipeline import PipelineFailed, RunResult

    t = datetime(2025, 3, 20, 14, 0, tzinfo=UTC)
    info_fields = {f: None for f in inspect.signature(LockInfo).parameters}
    info_fields.update(lock_key="daily:2025-03-20", holder_id="h1", acquired_at=t, expires_at=t + timedelta(hours=6))
    run_fields = {f: None for f in inspect.signature(RunResult).parameters}
    run_fields.update(run_id="r1", game_date=date(2025, 3, 20))

    class Unpicklable(Exception):
        def __reduce__(self):
            raise TypeError("cannot pickle")

    return {
        "DbtError": DbtError(["build", "--selector", "phase2"], ["model.x: error: boom"], Unpicklable("inner")),
        "LockHeld": LockHeld(LockInfo(**info_fields), timedelta(seconds=3)),
        "PipelineFailed": PipelineFailed(RunResult(**run_fields), "phase2", ValueError("bad")),
    }


CLASSES = _exception_classes()


def test_the_walk_finds_the_known_exception_classes():
    names = {c.__name__ for c in CLASSES}
    assert {"DbtError", "LockHeld", "PipelineFailed", "PayloadError", "WarehouseBusy", "TransientError"} <= names
    assert len(CLASSES) >= 30


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_exception_round_trips_through_pickle(cls):
    samples = _samples()
    if cls.__name__ in samples:
        exc = samples[cls.__name__]
    else:
        try:
            exc = cls(MESSAGE)
        except TypeError as err:
            pytest.fail(f"{cls.__qualname__} needs more than a message ({err}): add a sample instance here")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls
    assert str(back) == str(exc)
    plain = {k: v for k, v in vars(exc).items() if isinstance(v, str | int | float | list | tuple | type(None))}
    assert {k: vars(back)[k] for k in plain} == plain
