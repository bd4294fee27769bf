"""Start and stop the local BigQuery emulator (``bqemulator``, installed by ``.ci/bq-emulator.sh``).

``running_emulator()`` starts ``bqemulator start --ephemeral`` on free loopback ports as a
subprocess, waits for ``/healthz``, yields the REST endpoint and kills the process at the end.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from python_jobs.ops.local_services import free_port, stop_process_group

PROJECT = "test-project"
START_TIMEOUT_S = 60.0
INSTALL_HINT = "install it with: bash .ci/bq-emulator.sh"


class EmulatorUnavailable(RuntimeError):
    """The emulator is not installed or did not become healthy."""


def emulator_dir() -> Path:
    return Path(os.environ.get("NBA_PROPS_BQEMU_DIR") or Path.home() / ".cache" / "nba-props" / "bqemu")


def emulator_binary() -> Path:
    binary = emulator_dir() / "venv" / "bin" / "bqemulator"
    if not binary.is_file():
        raise EmulatorUnavailable(f"BigQuery emulator not installed at {binary}; {INSTALL_HINT}")
    return binary


def _start_once(binary: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    rest, grpc = free_port(), free_port()
    command = [str(binary), "start", "--rest-host", "127.0.0.1", "--rest-port", str(rest),
               "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc), "--project", PROJECT,
               "--ephemeral", "--log-level", "warning"]
    # HOME: where .ci/bq-emulator.sh put DuckDB's spatial extension (no download at start)
    env = {**os.environ, "HOME": str(emulator_dir())}
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{rest}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorUnavailable(f"BigQuery emulator exited with code {proc.returncode} at start; "
                                      f"log: {log_path}: {_tail(log_path)}")
        try:
            if httpx.get(f"{endpoint}/healthz", timeout=1.0).status_code == 200:
                return proc, endpoint
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_process_group(proc, timeout_s=10)
    raise EmulatorUnavailable(f"BigQuery emulator not healthy after {START_TIMEOUT_S:.0f} s; log: {log_path}")


def _tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(text[-lines:])


@contextmanager
def running_emulator() -> Iterator[str]:
    """A fresh, empty emulator for the duration of the block; yields its REST endpoint."""
    binary = emulator_binary()
    log_path = Path(tempfile.mkstemp(prefix="bqemulator-", suffix=".log")[1])
    last: EmulatorUnavailable | None = None
    for _ in range(3):  # a free port can be taken between choosing it and binding it
        try:
            proc, endpoint = _start_once(binary, log_path)
            break
        except EmulatorUnavailable as exc:
            last = exc
    else:
        assert last is not None
        raise last
    try:
        yield endpoint
    finally:
        stop_process_group(proc, timeout_s=10)


@contextmanager
def emulator_for_tests() -> Iterator[str]:
    """``running_emulator()`` for a pytest fixture: in CI (``CI=true``) a missing or broken emulator
    fails the test; elsewhere it is skipped with the reason (``bash .ci/bq-emulator.sh``)."""
    import pytest

    try:
        context = running_emulator()
        endpoint = context.__enter__()
    except EmulatorUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs the BigQuery emulator: {exc}", pytrace=False)
        pytest.skip(f"no BigQuery emulator here: {exc}")
    try:
        yield endpoint
    finally:
        context.__exit__(None, None, None)
