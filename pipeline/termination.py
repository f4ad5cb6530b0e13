"""Catchable termination: SIGTERM and SIGINT end a run the way an exception does.

While `handled()` is active (the CLI and the action harness, in the main thread), either signal
1. sets STOPPING, so the API scanners' poll loops (`pause`) stop waiting,
2. kills the process group of every scanner subprocess still running (`child`), so the worker
   threads come back at once instead of at their timeouts,
3. raises `Terminated` in the main thread: every `finally` runs on the way out (write_atomic's temp
   file, credential files, the scan's raw folder), and no outputs.json is written for the run.
SIGKILL cannot be caught; a run killed that way leaves no outputs.json either, because the stale one
is removed before the run writes anything (pipeline/run_manifest.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from types import FrameType

from pipeline.errors import ScannerError

SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOPPING = threading.Event()
_children: set[subprocess.Popen[bytes]] = set()
_lock = threading.Lock()


class Terminated(KeyboardInterrupt):
    """A caught SIGTERM or SIGINT; a KeyboardInterrupt, so `except Exception` never swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Install the handlers for the duration (the main thread only; elsewhere a no-op) and restore them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    STOPPING.clear()
    previous = {signum: signal.signal(signum, _terminate) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _terminate(signum: int, frame: FrameType | None) -> None:
    STOPPING.set()
    kill_children()
    raise Terminated(signum)


@contextlib.contextmanager
def child(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """A scanner subprocess (started in its own session) that a termination must take down with it."""
    with _lock:
        _children.add(process)
    try:
        yield
    finally:
        with _lock:
            _children.discard(process)


def kill_children() -> None:
    with _lock:
        processes = tuple(_children)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def pause(seconds: float, what: str) -> None:
    """Sleep between polls; a ScannerError at once when the run is being terminated."""
    if STOPPING.wait(seconds):
        raise ScannerError(f"{what}: stopped, Tollgate is being terminated")
