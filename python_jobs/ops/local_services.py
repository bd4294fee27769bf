"""The local services the bench and the tests run as child processes (a Prefect server,
``flows.serve``, the BigQuery emulator): a free loopback port, a wait until one is ready, a stop
that reaches the whole process group, and a Prefect server started and waited for."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (it can be taken before the caller binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, ready: Callable[[], bool], proc: subprocess.Popen, log_path: Path,
               timeout_s: float, interval_s: float = 0.5) -> None:
    """Poll ``ready`` until it holds; RuntimeError with the tail of the process's log when the
    process exits first or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(interval_s)


def stop_process_group(proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """SIGTERM to the process's group (it was started with ``start_new_session``: its children
    too), SIGKILL after ``timeout_s``; nothing when it has already exited."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout_s)


def prefect_bin() -> str:
    """The ``prefect`` command of this environment."""
    return str(Path(sys.executable).with_name("prefect"))


def start_prefect_server(env: dict[str, str], port: int, log_path: Path, timeout_s: float) -> subprocess.Popen:
    """``prefect server start`` on 127.0.0.1:``port`` (output to ``log_path``), returned once its
    ``/api/health`` answers 200; stopped again when it does not within ``timeout_s``."""
    import httpx

    with open(log_path, "wb") as out:
        proc = subprocess.Popen([prefect_bin(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until("prefect server", healthy, proc, log_path, timeout_s)
    except BaseException:
        stop_process_group(proc)
        raise
    return proc
