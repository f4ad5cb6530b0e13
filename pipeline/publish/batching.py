"""Split ASFF findings into BatchImportFindings requests within Security Hub's limits.

Security Hub takes at most 100 findings and 6 MB per request, and each finding must be at
most 240 KB. A request is measured as botocore puts it on the wire (`json.dumps` with its
default separators and ASCII escaping, so "é" costs 6 bytes) and in decimal megabytes, the
stricter reading: a batch that fits here fits in the request. A finding is measured as the
emitter and the validator measure it (compact UTF-8 JSON, 240 KiB), so the three agree on
which findings are too large; how Security Hub counts is not documented, and a finding it
still refuses comes back in FailedFindings and is reported.
Batches are filled greedily in order, so N small findings take exactly ceil(N/100) calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

MAX_FINDINGS_PER_BATCH = 100
MAX_BATCH_BYTES = 6_000_000
MAX_FINDING_BYTES = 240 * 1024
_ENVELOPE_BYTES = len(json.dumps({"Findings": []}))
_SEPARATOR_BYTES = len(", ")

AsffFinding = Mapping[str, Any]


@dataclass(frozen=True)
class Oversized:
    """A finding too large to import at all; it is reported, never silently dropped."""

    id: str
    size: int


@dataclass(frozen=True)
class BatchPlan:
    batches: tuple[tuple[AsffFinding, ...], ...]
    oversized: tuple[Oversized, ...] = ()


@dataclass(frozen=True)
class BatchLimits:
    max_findings: int = MAX_FINDINGS_PER_BATCH
    max_batch_bytes: int = MAX_BATCH_BYTES
    max_finding_bytes: int = MAX_FINDING_BYTES


SECURITY_HUB_LIMITS = BatchLimits()


def wire_size(finding: AsffFinding) -> int:
    """Bytes in the request body; json.dumps escapes to ASCII, so characters are bytes."""
    return len(json.dumps(finding))


def finding_size(finding: AsffFinding) -> int:
    return len(orjson.dumps(finding))


def plan_batches(findings: Iterable[AsffFinding], limits: BatchLimits = SECURITY_HUB_LIMITS) -> BatchPlan:
    batches: list[tuple[AsffFinding, ...]] = []
    oversized: list[Oversized] = []
    current: list[AsffFinding] = []
    current_bytes = _ENVELOPE_BYTES
    for finding in findings:
        size = finding_size(finding)
        if size > limits.max_finding_bytes:
            oversized.append(Oversized(id=str(finding.get("Id", "")), size=size))
            continue
        added = wire_size(finding) + (_SEPARATOR_BYTES if current else 0)
        if current and (len(current) >= limits.max_findings or current_bytes + added > limits.max_batch_bytes):
            batches.append(tuple(current))
            current, current_bytes, added = [], _ENVELOPE_BYTES, added - _SEPARATOR_BYTES
        current.append(finding)
        current_bytes += added
    if current:
        batches.append(tuple(current))
    return BatchPlan(batches=tuple(batches), oversized=tuple(oversized))
