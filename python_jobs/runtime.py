"""Process-level settings of the batch processes (the CLI, the daily run in a flow).

Two costs measured in a daily run (docs/performance.md "Garbage collector and process exit"):

- **The cyclic garbage collector's passes.** A run allocates millions of objects that live for the
  whole run (dbt's parsed manifest, the copies dbt makes of each node, the imported modules), and
  with Python's default thresholds (700, 10, 10) the collector walked them again and again: about
  1 s of a daily run. ``batch_gc()`` raises the thresholds for the duration of a run (the
  collector still runs, ~70 times less often) and restores them after.
- **Interpreter teardown.** After the command returned, Python spent 1.1-1.4 s freeing those
  objects one by one before the process ended. ``exit_now()`` ends the CLI process once its
  exit handlers have run (logs flushed, files closed): the operating system frees the memory.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator

# young generation every 50,000 net allocations (default 700); the older ones 50 and 100 young /
# middle passes apart (default 10, 10). Peak memory of a daily run: +3 % (docs/performance.md)
BATCH_GC_THRESHOLDS = (50_000, 50, 100)


@contextlib.contextmanager
def batch_gc() -> Iterator[None]:
    """The collector's thresholds of a batch run, for the duration of the block."""
    previous = gc.get_threshold()
    gc.set_threshold(*BATCH_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _exit_code(code: object) -> int:
    """The process exit status ``sys.exit(code)`` would give."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(code: object) -> None:
    """End the process with ``code`` (as ``sys.exit`` would), skipping the interpreter's teardown.

    As at a normal exit, the threads that are not daemons are waited for, the exit handlers run
    (``logging.shutdown`` among them: every log record written and every log file flushed) and the
    standard streams are flushed; the objects still alive are not freed one by one: the process
    ends (``os._exit``). Only for a process of ours (``run_batch_process``): code that imports the
    library (flows, tests) ends as usual."""
    status = _exit_code(code)
    # what the interpreter does first at exit: wait for the threads that are not daemons
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def run_batch_process(main: Callable[[], object]) -> None:
    """Run ``main`` as the whole life of this process: inside ``batch_gc``, then ``exit_now`` with
    the status ``main`` asked for (``sys.exit`` inside it) or 0. The CLI's console script and the
    bench's fresh-process worker (which stands for a user's command) end this way."""
    code: object = 0
    try:
        with batch_gc():
            main()
    except SystemExit as exc:
        code = exc.code
    exit_now(code)
