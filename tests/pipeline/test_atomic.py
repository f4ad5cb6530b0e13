"""Outputs: a regular file or a new path is replaced atomically; `-`, a device or a FIFO is written in place.

The device is the real `/dev/null`. Run as root, a rename over it would replace the system's device
with a regular file, so each test checks it is still the same character device afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline import atomic
from pipeline.atomic import write_atomic
from pipeline.cli import main
from tests.conftest import FIXTURES

DEV_NULL = Path("/dev/null")
DC_JSON = FIXTURES / "dependency_check" / "VulnerableJavaWebApplication_dependency-check-report.json"


def device_identity(path: Path) -> tuple[int, int, int]:
    status = os.lstat(path)
    assert stat.S_ISCHR(status.st_mode), f"{path} is not a character device"
    return status.st_ino, status.st_rdev, stat.S_IFMT(status.st_mode)


@contextmanager
def reading(fifo: Path) -> Iterator[list[bytes]]:
    """A reader on the FIFO's other end (a writer's open blocks until there is one); yields what it read."""
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    yield received
    reader.join(timeout=10)
    assert not reader.is_alive(), "the FIFO was never closed"


def test_a_regular_file_is_replaced_whole_and_readable(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "results.json"
    write_atomic(target, "old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]  # no temp file left


def test_normalize_writes_onto_dev_null_and_stdout_and_the_device_stays_a_device(
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    before = device_identity(DEV_NULL)
    argv = ["normalize", str(DC_JSON), "--repo", "acme/web", "--sarif", str(DEV_NULL), "--json", "-"]
    assert main(argv) == 0
    assert device_identity(DEV_NULL) == before
    printed = capsysbinary.readouterr().out
    start = printed.index(b'{"')
    results, _ = json.JSONDecoder().raw_decode(printed[start:].decode())  # the results document, on stdout
    assert results["findings"] and not Path("-").exists()


def test_write_atomic_to_dev_null_never_renames(monkeypatch: pytest.MonkeyPatch) -> None:
    before = device_identity(DEV_NULL)

    def refuse(*_: object) -> None:
        raise AssertionError("os.replace was called for a device")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    write_atomic(DEV_NULL, "x" * 100_000)
    write_atomic(str(DEV_NULL), b"")
    assert device_identity(DEV_NULL) == before


def test_a_fifo_gets_the_bytes_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with reading(fifo) as received:
        write_atomic(fifo, "through the pipe")
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_fifo_that_appears_while_writing_is_written_to_not_replaced(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The second look, right before the rename: what is there then decides."""
    target = tmp_path / "report.sarif"
    real_fsync = os.fsync
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(target.read_bytes()), daemon=True)

    def fsync_then_mkfifo(descriptor: int) -> None:
        real_fsync(descriptor)
        os.mkfifo(target)
        reader.start()

    monkeypatch.setattr(atomic.os, "fsync", fsync_then_mkfifo)
    write_atomic(target, "late")
    reader.join(timeout=10)
    assert received == [b"late"] and stat.S_ISFIFO(os.lstat(target).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]


def test_a_directory_is_an_error_not_replaced(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, "x")
    assert tmp_path.is_dir()


def test_parts_are_written_in_order_masked_each_and_recorded_as_one_file(tmp_path: Path) -> None:
    from pipeline import secret_mask  # noqa: PLC0415 - the registry is process-wide; this test adds one secret

    secret_mask.register("parts-secret-0123456789")
    target = tmp_path / "out.json"
    with atomic.recording() as written:
        write_atomic(target, [b'{"a":[', b'"parts-secret-0123456789"', b",", b"2", b"]}"])
    assert target.read_bytes() == b'{"a":["***",2]}'
    [record] = written.values()
    assert record.size == len(target.read_bytes())
    assert record.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
