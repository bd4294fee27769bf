"""python_jobs.ops.local_services: the stop reaches a service's children; a wait names the log."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from python_jobs.ops.local_services import free_port, stop_process_group, wait_until

pytestmark = pytest.mark.timeout(60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_stopping_a_service_stops_the_children_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    proc = subprocess.Popen(["sh", "-c", f"sleep 300 & echo $! > {pid_file}; wait"], start_new_session=True)
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        if time.monotonic() > deadline:
            pytest.fail("the child never wrote its pid")
        time.sleep(0.05)
    child = int(pid_file.read_text())
    stop_process_group(proc, timeout_s=10)
    assert proc.returncode is not None
    deadline = time.monotonic() + 10
    while _alive(child):   # the grandchild is reaped by init: give it a moment
        if time.monotonic() > deadline:
            pytest.fail(f"child {child} of the stopped service still runs")
        time.sleep(0.05)
    stop_process_group(proc)   # already stopped: nothing to do, no error


def test_a_service_that_exits_before_it_is_ready_raises_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["sh", "-c", "echo port already in use; exit 3"], stdout=out,
                                start_new_session=True)
    with pytest.raises(RuntimeError, match="demo service did not come up:\nport already in use"):
        wait_until("demo service", lambda: False, proc, log, timeout_s=30, interval_s=0.05)


def test_a_free_port_can_be_bound() -> None:
    import socket

    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
