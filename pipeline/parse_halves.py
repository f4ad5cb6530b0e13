"""A big report parsed by two processes at once, each reading half of its records (normalizers.parsing).

The second half is read by a forked child, whose findings come back pickled. Both halves must mask the values
that either half's secret findings point at, so the two processes swap those values before redacting: this one
sends first and then reads, the child reads first and then sends, so neither can wait on the other for ever.
A child that fails before the swap closes its end, and its own error is raised here.
"""

from __future__ import annotations

import pickle
import socket
import struct

from normalizers.parsing import ParsedShare, ShareWork
from pipeline import forked
from pipeline.forked import ChildFailed

_LENGTH = struct.Struct("!Q")


def in_two_processes(work: ShareWork) -> tuple[ParsedShare, ParsedShare] | None:
    """The first share parsed here and the second in a forked child, or None where forking is not safe."""
    if not forked.available():
        return None
    ours, theirs = socket.socketpair()
    with ours, theirs:
        def second_share() -> ParsedShare:  # pragma: no cover - runs in the child
            ours.close()
            return work(False, lambda values: values | _swap_second(theirs, values))

        with forked.in_child(second_share) as second:
            theirs.close()  # the child's end: once the child is gone, reading gives the end of the stream
            try:
                first = work(True, lambda values: values | _swap_first(ours, values))
            except ChildFailed:
                second()  # the child's own error, if it left one
                raise
            return first, second()


def _swap_first(peer: socket.socket, values: set[str]) -> set[str]:
    try:
        _send(peer, values)
        return _received(peer)
    except OSError as exc:  # the child is gone: its answer says why
        raise ChildFailed(f"the second half's process stopped before swapping secrets ({exc})") from None


def _swap_second(peer: socket.socket, values: set[str]) -> set[str]:  # pragma: no cover - runs in the child
    received = _received(peer)
    _send(peer, values)
    return received


def _send(peer: socket.socket, values: set[str]) -> None:
    data = pickle.dumps(values)
    peer.sendall(_LENGTH.pack(len(data)) + data)


def _received(peer: socket.socket) -> set[str]:
    size = _LENGTH.unpack(_exactly(peer, _LENGTH.size))[0]
    values: set[str] = pickle.loads(_exactly(peer, size))  # noqa: S301 - our own fork's bytes, through our own socket
    return values


def _exactly(peer: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = peer.recv(min(size, 1 << 20))
        if not chunk:
            raise ConnectionResetError("the other process closed its end")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
