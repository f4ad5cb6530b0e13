"""Writing behind the producer: every byte in order, and an error on either side stops both and is raised."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pipeline.write_behind import CHUNK_BYTES, chunks, write_behind


def test_parts_become_chunks_of_a_megabyte_in_order() -> None:
    parts = [bytes([n % 256]) * 1000 for n in range(3000)]
    made = list(chunks(parts))
    assert b"".join(made) == b"".join(parts)
    assert all(len(chunk) >= CHUNK_BYTES for chunk in made[:-1]) and len(made) == 3


def test_every_sink_gets_every_byte_in_order_from_another_thread() -> None:
    written: list[bytes] = []
    hashed: list[bytes] = []
    threads: set[str] = set()

    def write(chunk: bytes) -> None:
        threads.add(threading.current_thread().name)
        written.append(chunk)

    parts = [str(n).encode() for n in range(200_000)]
    assert write_behind(parts, (write, hashed.append)) == len(b"".join(parts))
    assert b"".join(written) == b"".join(hashed) == b"".join(parts)
    assert threads == {"tollgate-write-behind"}


def test_a_failing_sink_stops_the_producer_and_is_raised() -> None:
    made = 0

    def parts() -> Iterator[bytes]:
        nonlocal made
        for _ in range(10_000):
            made += 1
            yield b"x" * CHUNK_BYTES

    def full(chunk: bytes) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_behind(parts(), (full,))
    assert made < 100  # stopped within a few queued chunks, not after all of them


def test_a_failing_producer_is_raised_and_the_writer_ends() -> None:
    def parts() -> Iterator[bytes]:
        yield b"x" * CHUNK_BYTES
        raise ValueError("the emitter failed")

    written: list[bytes] = []
    with pytest.raises(ValueError, match="the emitter failed"):
        write_behind(parts(), (written.append,))
    assert written == [b"x" * CHUNK_BYTES]
    assert not any(t.name == "tollgate-write-behind" for t in threading.enumerate())
