"""One piece of work done in a forked child while the parent goes on: a run's second core, on POSIX.

The child starts with a copy of the parent's memory (copy-on-write), so the work reads the parent's data
as it is, without pickling it. What it returns, or the exception it raised (with the child's traceback as
a note where Python has notes), comes back through a pipe and is returned or raised by `result()`, as if
the work had run in the parent. Files the child writes with write_atomic are recorded in the parent's
`recording()` too. The child answers SIGTERM by unwinding, so its write_atomic removes its temp file;
the parent sends it when it leaves early (its own error, or a signal), and waits for it.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import TypeVar, cast

from pipeline import atomic

T = TypeVar("T")


def available() -> bool:
    """fork is POSIX only, and forking a process with other threads running can copy a lock they hold."""
    return hasattr(os, "fork") and threading.active_count() == 1


class ChildFailed(Exception):
    """The child ended without an answer (killed, for one), or with an exception that cannot be pickled."""


@contextmanager
def in_child(work: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """Run `work` in a forked child; the context gives the function that waits for its result. A child whose
    result was not taken when the context ends (the parent is leaving early) is stopped and reaped."""
    answers, answer = os.pipe()
    sys.stdout.flush()  # what the parent buffered is written once, by the parent
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: its coverage is not collected
        os.close(answers)
        _answer(answer, work)
    os.close(answer)
    taken = False

    def result() -> T:
        nonlocal taken
        taken = True
        return cast(T, _result(pid, answers))

    try:
        yield result
    finally:
        if not taken:
            os.close(answers)  # first: a child blocked writing its answer gets EPIPE instead
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)


def _result(pid: int, answers: int) -> object:
    with os.fdopen(answers, "rb") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not answer:
        raise ChildFailed(f"the forked writer ended without an answer ({_ending(status)})")
    ok, value, written = pickle.loads(answer)  # noqa: S301 - our own child's bytes, through our own pipe
    for entry in written:
        atomic.note_written(entry)
    if ok:
        return value
    raise value


def _answer(answer: int, work: Callable[[], object]) -> None:  # pragma: no cover - runs in the child
    signal.signal(signal.SIGTERM, _unwind)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops the child
    try:
        # The parent's recordings were copied with its memory: the child records its files only for one of them.
        recorder: AbstractContextManager[dict[Path, atomic.Written]] = (
            atomic.recording() if atomic.recording_active() else nullcontext({}))
        with recorder as written:
            ok, value = _outcome(work)
        data = _pickled((ok, value, tuple(written.values())))
        with os.fdopen(answer, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)


def _outcome(work: Callable[[], object]) -> tuple[bool, object]:  # pragma: no cover - runs in the child
    try:
        return True, work()
    except BaseException as exc:  # every failure, a signal's unwinding too, goes back to the parent
        return False, _with_traceback(exc)


def _pickled(payload: tuple[bool, object, tuple[atomic.Written, ...]]) -> bytes:  # pragma: no cover - child
    try:
        data = pickle.dumps(payload)
        pickle.loads(data)  # noqa: S301 - an exception whose __init__ its args do not fit fails here, not there
    except Exception as exc:  # an answer that does not pickle still fails loudly
        value = payload[1]
        problem = f"{type(value).__name__}: {value}" if not payload[0] else f"an unpicklable result ({exc})"
        return pickle.dumps((False, ChildFailed(f"the forked writer failed: {problem}"), payload[2]))
    return data


def _with_traceback(exc: BaseException) -> BaseException:  # pragma: no cover - runs in the child
    note = getattr(exc, "add_note", None)  # Python 3.11+: shown with the parent's traceback under --debug
    if note is not None:
        note("in the forked writer:\n" + "".join(traceback.format_exception(exc)).rstrip())
    return exc


def _unwind(signum: int, frame: FrameType | None) -> None:  # pragma: no cover - runs in the child
    raise SystemExit(128 + signum)


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
