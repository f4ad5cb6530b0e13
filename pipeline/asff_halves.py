"""An ASFF file made by two processes at once: a forked child makes the first findings' documents and writes the
file, while this process writes the run's other outputs and then makes the last findings' documents, which it
hands to the child through a pipe to be written after its own. One process writes the file, in order, so its
bytes are those one process would write; the plan (normalizers.emit.asff.AsffPlan) is made before the fork.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import BinaryIO

from normalizers.emit.asff import AsffPlan, asff_documents, framed
from pipeline import forked
from pipeline.atomic import write_atomic


@contextmanager
def written_in_two(path: str, plan: AsffPlan, own_share: float) -> Iterator[Callable[[], list[str]]]:
    """Starts the child at once; the function given makes this process's share (the last `own_share` of the plan's
    entries), hands it over, and returns the warnings of both shares, in the order of their findings."""
    entries = len(plan.entries)
    split = entries - int(entries * own_share)
    incoming, outgoing = os.pipe()
    with os.fdopen(incoming, "rb") as reader, os.fdopen(outgoing, "wb") as writer:
        def first_share() -> list[str]:  # pragma: no cover - runs in the child
            writer.close()  # the parent's end: closed here too, so the parent's closing it is the end of the stream
            warnings: list[str] = []
            write_atomic(path, framed(chain(asff_documents(plan, 0, split, warnings), _received(reader))))
            return warnings

        with forked.in_child(first_share) as first:
            reader.close()

            def both() -> list[str]:
                warnings: list[str] = []
                documents = list(asff_documents(plan, split, entries, warnings))
                try:
                    with writer:
                        pickle.dump(documents, writer, protocol=pickle.HIGHEST_PROTOCOL)
                except BrokenPipeError:
                    pass  # the child stopped reading: its answer says why
                return first() + warnings

            yield both


def _received(reader: BinaryIO) -> Iterator[bytes]:  # pragma: no cover - runs in the child
    """The documents the parent made, once it has sent them all: a cut-off stream fails to unpickle, and the file
    is not written."""
    documents: list[bytes] = pickle.load(reader)  # noqa: S301 - our own parent's bytes, through our own pipe
    yield from documents
