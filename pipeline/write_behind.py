"""Writing a big output while it is still being made: the parts go to the file from a second thread.

A file's write() and a hash's update() release the GIL, so copying a chunk into the page cache (and hashing
it) runs on another core while the caller's generator serializes the next findings: a quarter of the time
it takes to write a 240 MB ASFF file. The parts are gathered into chunks of about a megabyte first, so a
file of 50,000 parts is a few hundred writes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

CHUNK_BYTES = 1024 * 1024
_QUEUED_CHUNKS = 4  # what may wait for the writer: a bound on the memory it takes


def chunks(parts: Iterable[bytes]) -> Iterator[bytes]:
    """The parts, concatenated into chunks of at least CHUNK_BYTES (the last one excepted), empty parts dropped."""
    pending: list[bytes] = []
    size = 0
    for part in parts:
        pending.append(part)
        size += len(part)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if size:
        yield b"".join(pending)


def write_behind(parts: Iterable[bytes], sinks: Iterable[Callable[[bytes], object]]) -> int:
    """Every chunk of `parts` to each sink in turn (a file's write, a hash's update), on a writer thread;
    returns the bytes written. An error on either side stops both and is raised here, the caller's first."""
    ready: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED_CHUNKS)  # None: the last chunk was sent
    failed: list[BaseException] = []
    sinks = tuple(sinks)

    def drain() -> None:
        while (chunk := ready.get()) is not None:
            if failed:
                continue  # after a failure, only empty the queue, so the producer never blocks on it
            try:
                for sink in sinks:
                    sink(chunk)
            except BaseException as exc:  # handed to the caller's thread, which raises it
                failed.append(exc)

    writer = threading.Thread(target=drain, name="tollgate-write-behind", daemon=True)
    writer.start()
    size = 0
    try:
        for chunk in chunks(parts):
            if failed:
                break
            ready.put(chunk)
            size += len(chunk)
    finally:
        ready.put(None)
        writer.join()
    if failed:
        raise failed[0]
    return size
