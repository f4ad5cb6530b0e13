"""GitHub annotations for code findings, as `::error file=…,line=…::message` workflow commands.

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (and 50 per
job; actions/toolkit docs/problem-matchers.md); the rest are dropped without a word. So the
most important findings go first (failing, then new, then most severe), each level stops at
its limit, and how many were left out is said in plain log text, which costs no annotation.
Values are escaped as @actions/core does, so a newline in scanner text cannot start a
command of its own (`::add-mask::`, `::stop-commands::`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from normalizers.model import CodeLocation, Finding, Severity
from normalizers.text import truncate
from pipeline.gate import GateVerdict
from pipeline.report.escape import command_data, command_property

PER_LEVEL_LIMIT = 10
MESSAGE_LIMIT = 1000
LEVELS = {  # the same mapping as SARIF's `level` (docs/design.md)
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


@dataclass(frozen=True)
class Annotations:
    lines: tuple[str, ...]
    left_out: tuple[tuple[str, int], ...]  # (level, count) beyond GitHub's per-step limit

    def left_out_note(self) -> str | None:
        if not self.left_out:
            return None
        counts = ", ".join(f"{count} {level}" for level, count in self.left_out)
        return (f"tollgate: {counts} annotations left out: GitHub shows at most {PER_LEVEL_LIMIT} of each "
                "level per step; the job summary and the reports list every finding")


def annotations_for(verdict: GateVerdict) -> Annotations:
    """Open code findings; with a baseline, only the new ones (unchanged ones are old news)."""
    new = {id(f) for f in verdict.new}
    failing = {id(f) for f in verdict.failing}
    candidates = sorted(
        ((f, location) for f in verdict.open if id(f) in new and (location := _code_location(f))),
        key=lambda pair: (id(pair[0]) not in failing, -pair[0].severity.rank),
    )
    used: Counter[str] = Counter()
    lines = []
    for finding, location in candidates:
        level = LEVELS[finding.severity]
        used[level] += 1
        if used[level] <= PER_LEVEL_LIMIT:
            lines.append(workflow_command(level, finding, location))
    left_out = tuple((level, used[level] - PER_LEVEL_LIMIT) for level in ("error", "warning", "notice")
                     if used[level] > PER_LEVEL_LIMIT)
    return Annotations(tuple(lines), left_out)


def _code_location(finding: Finding) -> CodeLocation | None:
    return finding.location if isinstance(finding.location, CodeLocation) else None


def workflow_command(level: str, finding: Finding, location: CodeLocation) -> str:
    properties = {
        "file": location.path.removeprefix("./"),
        "line": location.start_line or 1,
        "endLine": location.end_line,
        "col": location.start_column,
        "endColumn": location.end_column,
        "title": f"{finding.severity.value} {finding.tool.name}: {finding.rule_id}",
    }
    rendered = ",".join(f"{key}={command_property(value)}" for key, value in properties.items() if value is not None)
    message = truncate(f"{finding.title}\n{finding.description}".strip(), MESSAGE_LIMIT)
    return f"::{level} {rendered}::{command_data(message)}"
