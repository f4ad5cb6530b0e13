"""Atomic output: write to a temp file beside the target, fsync, then rename over it.

Only a regular file or a new path is replaced that way. Anything else the user names is written
in place: `-` is stdout, and a character device (`/dev/null`, a tty), a FIFO or a socket
(`>(…)`, `/dev/fd/N`) is opened and written, never renamed over: as root, a rename over
`/dev/null` would replace the system's device with a regular file. The target is checked again
right before the rename, so a device that appears meanwhile is written to, not replaced.

The temp file is removed on every exit that unwinds, an exception or a caught signal
(pipeline/termination.py turns SIGTERM and SIGINT into one). Inside `recording()`, each file
replaced is noted with its SHA-256 and size: what a run's outputs.json names (pipeline/run_manifest.py).
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from pipeline import secret_mask
from pipeline.write_behind import write_behind

STDOUT = "-"


@dataclass(frozen=True)
class Written:
    path: Path  # absolute
    sha256: str
    size: int


# The files written so far by each enclosing recording(), innermost last; keyed by path, the last write wins.
_RECORDINGS: ContextVar[tuple[dict[Path, Written], ...]] = ContextVar("tollgate_recordings", default=())


@contextmanager
def recording() -> Iterator[dict[Path, Written]]:
    """Note every regular file write_atomic replaces in this context (this thread's, not scanner threads')."""
    written: dict[Path, Written] = {}
    token = _RECORDINGS.set((*_RECORDINGS.get(), written))
    try:
        yield written
    finally:
        _RECORDINGS.reset(token)


def recording_active() -> bool:
    return bool(_RECORDINGS.get())


def _record(target: Path, sha256: str, size: int) -> None:
    path = target.absolute()
    for written in _RECORDINGS.get():
        written[path] = Written(path, sha256, size)


def write_atomic(path: str | os.PathLike[str], data: bytes | str | Iterable[bytes]) -> None:
    """A failed run leaves either the old file or none, never a half-written one. `data` may come in parts,
    written as they come, so a big output is never held whole in memory."""
    # Every output passes here: a configured credential that a tool echoed is masked on its way out.
    if isinstance(data, str):
        data = data.encode("utf-8")
    parts = map(secret_mask.mask_bytes, (data,) if isinstance(data, bytes) else data)
    if os.fspath(path) == STDOUT:
        write_stdout(parts)
        return
    target = Path(path)
    if not replaceable(target):
        write_in_place(target, parts)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o644)  # reports are meant to be read; mkstemp's 0600 would hide them
        # The hash is read by recording() alone: without one, hashing a 240 MB ASFF file would cost a quarter second.
        digest = hashlib.sha256() if recording_active() else None
        with os.fdopen(fd, "wb") as handle:
            size = write_behind(parts, (handle.write, digest.update) if digest else (handle.write,))
            handle.flush()
            os.fsync(handle.fileno())
        if not replaceable(target):  # it became a device or a FIFO while we wrote
            with open(temp_name, "rb") as written:
                write_in_place(target, iter(lambda: written.read(1024 * 1024), b""))
        else:
            os.replace(temp_name, target)
            if digest is not None:
                _record(target, digest.hexdigest(), size)
    finally:
        Path(temp_name).unlink(missing_ok=True)


def write_stdout(parts: Iterable[bytes]) -> None:
    sys.stdout.flush()  # what was printed before comes first
    binary = getattr(sys.stdout, "buffer", None)  # absent when a caller swapped in a StringIO
    if binary is None:
        sys.stdout.write(b"".join(parts).decode("utf-8"))
        sys.stdout.flush()
        return
    binary.writelines(parts)
    binary.flush()


def replaceable(target: Path) -> bool:
    """A new path, or a regular file (through its symlinks): the only things a rename may replace."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return True
    return stat.S_ISREG(mode)


def write_in_place(target: Path, parts: Iterable[bytes]) -> None:
    """Open the existing device, FIFO or socket and write to it; nothing is created or renamed."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CLOEXEC)
    try:
        for part in parts:
            view = memoryview(part)
            while view:
                view = view[os.write(descriptor, view):]
    finally:
        os.close(descriptor)


def note_written(written: Written) -> None:
    """Record a file another process (pipeline/forked.py) replaced for this one, as if it were written here."""
    _record(written.path, written.sha256, written.size)
