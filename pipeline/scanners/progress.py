"""Scan progress on stderr: a live status line on a terminal, plain lines everywhere else.

CI logs get one line per event (started, finished, skipped), which reads well after the fact.
A terminal also gets a status line, redrawn a few times a second, listing what is still running.
"""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from pipeline.scanners.base import ReportFile, SkipKind

SPINNER = "|/-\\"
REFRESH_SECONDS = 0.2


class RunStatus(str, enum.Enum):
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"
    TIMED_OUT = "timed out"


@dataclass(frozen=True)
class ScannerRun:
    """What happened to one scanner in one scan."""

    name: str
    title: str
    status: RunStatus
    seconds: float = 0.0
    reports: tuple[ReportFile, ...] = ()
    findings: int = 0  # problems only; passed compliance checks are `passes`
    passes: int = 0
    detail: str = ""  # why it was skipped (with the install command) or how it failed
    skip: SkipKind | None = None  # why it was skipped, when it was
    notes: tuple[str, ...] = ()
    cpu_seconds: float = 0.0  # its processes' and its worker thread's, user + system

    def line(self) -> str:
        if self.status is RunStatus.COMPLETED:
            passes = f", {self.passes} passed checks" if self.passes else ""
            return f"{self.name}: completed in {self.seconds:.1f}s, {self.findings} findings{passes}"
        if self.status is RunStatus.SKIPPED:
            return f"{self.name}: skipped, {self.detail}"
        return f"{self.name}: {self.status.value} after {self.seconds:.1f}s: {self.detail}"


class Progress:
    def __init__(self, stream: TextIO, live: bool) -> None:
        self.stream = stream
        self.live = live
        self.running: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker: threading.Thread | None = None

    @classmethod
    def for_stream(cls, stream: TextIO) -> Progress:
        return cls(stream, live=stream.isatty())

    def __enter__(self) -> Progress:
        if self.live:
            self.ticker = threading.Thread(target=self._tick, name="tollgate-progress", daemon=True)
            self.ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        if self.ticker:
            self.ticker.join()
        with self.lock:
            self._clear_status()

    def started(self, name: str) -> None:
        with self.lock:
            self.running[name] = time.monotonic()
            if not self.live:
                self._print(f"{name}: started")

    def note(self, text: str) -> None:
        with self.lock:
            self._print(text)

    def finished(self, run: ScannerRun) -> None:
        with self.lock:
            self.running.pop(run.name, None)
            self._print(run.line())
            for note in run.notes:
                self._print(f"{run.name}: {note}")

    def _print(self, text: str) -> None:
        self._clear_status()
        self.stream.write(f"tollgate: {text}\n")
        self.stream.flush()

    def _clear_status(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")

    def _tick(self) -> None:
        frame = 0
        while not self.stopped.wait(REFRESH_SECONDS):
            with self.lock:
                if self.running:
                    now = time.monotonic()
                    names = ", ".join(f"{n} {now - t:.0f}s" for n, t in self.running.items())
                    self.stream.write(f"\r\033[K{SPINNER[frame % len(SPINNER)]} running: {names}")
                    self.stream.flush()
            frame += 1
