"""Work in a forked child comes back as if it had run in the parent: its result, its exception, its files."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from pipeline import atomic, forked
from pipeline.atomic import write_atomic
from pipeline.errors import ConfigError

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")


def test_the_result_and_the_files_written_come_back_to_the_parent(tmp_path: Path) -> None:
    target = tmp_path / "out.json"

    def work() -> list[str]:
        write_atomic(target, b'{"written": "by the child"}')
        return ["a warning", str(os.getpid())]

    with atomic.recording() as written, forked.in_child(work) as result:
        warning, child_pid = result()
    assert warning == "a warning"
    assert int(child_pid) != os.getpid()
    assert target.read_bytes() == b'{"written": "by the child"}'
    assert written[target.absolute()].size == len(target.read_bytes())


def test_the_childs_exception_is_raised_in_the_parent_with_its_tip() -> None:
    def work() -> None:
        raise ConfigError("bad input", "a tip")

    with forked.in_child(work) as result, pytest.raises(ConfigError, match="bad input") as raised:
        result()
    assert raised.value.tip == "a tip"


def test_an_os_error_is_the_one_the_parent_would_have_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    def work() -> None:
        write_atomic(blocker / "out.json", b"{}")

    with pytest.raises(OSError) as here:
        work()
    with forked.in_child(work) as result, pytest.raises(OSError) as there:
        result()
    assert (type(there.value), there.value.errno, there.value.filename) == (
        type(here.value), here.value.errno, here.value.filename)


def test_an_exception_that_cannot_come_back_still_fails_loudly() -> None:
    class Local(Exception):  # a class defined in a function does not pickle
        pass

    def work() -> None:
        raise Local("lost in transit")

    with forked.in_child(work) as result, pytest.raises(forked.ChildFailed, match="Local: lost in transit"):
        result()


def test_a_child_killed_without_an_answer_is_a_failure_not_a_silent_loss() -> None:
    def work() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with forked.in_child(work) as result, pytest.raises(forked.ChildFailed, match="killed by SIGKILL"):
        result()


def test_a_parent_that_leaves_early_stops_the_child_and_its_temp_file_goes(tmp_path: Path) -> None:
    started = tmp_path / "started"

    def parts() -> object:
        started.touch()
        while True:
            yield b"x" * 1024

    def work() -> None:
        write_atomic(tmp_path / "never.json", parts())

    with pytest.raises(RuntimeError, match="the parent failed"), forked.in_child(work):
        while not started.exists():
            threading.Event().wait(0.01)
        raise RuntimeError("the parent failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["started"]


def test_fork_is_not_offered_while_other_threads_run() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forked.available()
    finally:
        stop.set()
        other.join()
    assert forked.available()
