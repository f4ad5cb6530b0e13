"""Where rendered reports go: a file (atomically), stdout, or the job summary (appended).

`$GITHUB_STEP_SUMMARY` is one file that every step of a job appends to, so it is never
replaced (an atomic rename would drop what earlier steps wrote). It is opened with
O_APPEND and written in one `write` call, which the kernel places at the end of the file
as a unit: a summary is never interleaved with another step's, nor half-written by a
crash in the middle of rendering (rendering finishes before the file is opened).
GitHub drops a step summary over 1 MiB; the summary's tables are bounded well below that
(top findings only, every cell shortened), which tests/pipeline/report/test_markdown.py checks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pipeline.atomic import STDOUT, write_atomic


def append_text(path: str | os.PathLike[str], text: str) -> None:
    payload = text.encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(descriptor, payload)
        while written < len(payload):  # only on exotic file systems; the rest still appends
            written += os.write(descriptor, payload[written:])
    finally:
        os.close(descriptor)


def write_text(destination: str, text: str) -> None:
    """`-` is stdout, a device or FIFO is written in place, a file is replaced atomically."""
    write_atomic(destination, text)


def publish_step_summary(markdown: str, environ: Mapping[str, str] = os.environ) -> str:
    """Append to `$GITHUB_STEP_SUMMARY` when set (in Actions), else print; returns where it went."""
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        write_text(STDOUT, markdown)
        return "stdout"
    append_text(path, markdown if markdown.endswith("\n") else markdown + "\n")
    return path
