"""The reports' remediation section: each proposed Dockerfile's diff, from the results' metrics.

`tollgate scan` writes a proposal to `remediation/<path>` in the output folder and its unified diff
to the metric `remediation/<path>` (pipeline.remediation.propose); this lays the diffs out as
lines marked added, removed or context. Scanner text never enters a diff (only Tollgate's own
comments and the repository's Dockerfile), and the renderers escape it all the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.report.escape import cell_text

PREFIX = "remediation/"
RESCAN_PREFIX = "remediation-rescan/"  # `<path>/before|after|image` counts (pipeline.remediation.rebuild)
LINE_LIMIT = 400  # per diff; a longer one is cut with a count


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "hunk", "context"
    text: str


@dataclass(frozen=True)
class RemediationRow:
    path: str  # the Dockerfile; its proposal is remediation/<path> in the output folder
    added: int
    removed: int
    lines: tuple[DiffLine, ...]
    left_out: int
    rescan: str = ""  # with --remediate-build: the findings before and after, and the rebuilt image's


def remediation_rows(metrics: Iterable[tuple[str, str]]) -> tuple[RemediationRow, ...]:
    listed = sorted(metrics)
    counts = {key.removeprefix(RESCAN_PREFIX): value for key, value in listed if key.startswith(RESCAN_PREFIX)}
    return tuple(_row(key.removeprefix(PREFIX), diff, counts) for key, diff in listed if key.startswith(PREFIX))


def _row(path: str, diff: str, counts: dict[str, str]) -> RemediationRow:
    lines = [line for line in diff.splitlines() if not line.startswith(("--- ", "+++ "))]
    marked = tuple(DiffLine(_kind(line), cell_text(line, 500)) for line in lines[:LINE_LIMIT])
    return RemediationRow(cell_text(path), sum(1 for line in lines if line.startswith("+")),
                          sum(1 for line in lines if line.startswith("-")), marked, max(0, len(lines) - LINE_LIMIT),
                          cell_text(_rescan_text(path, counts)))


def _rescan_text(path: str, counts: dict[str, str]) -> str:
    before, after, image = (counts.get(f"{path}/{name}") for name in ("before", "after", "image"))
    if before is None or after is None:
        return ""
    built = f"; the rebuilt image: {image} findings" if image is not None else "; the image was not rebuilt"
    return f"rebuilt and rescanned: {before} findings before, {after} after{built}"


def _kind(line: str) -> str:
    return {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "context")
