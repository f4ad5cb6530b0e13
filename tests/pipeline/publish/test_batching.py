"""Batches hold ≤100 findings and ≤6 MB as botocore serializes them; oversized findings are reported."""

from __future__ import annotations

import json
import math

from normalizers import asff_validator
from normalizers.emit import asff
from pipeline.publish.batching import (
    MAX_BATCH_BYTES,
    MAX_FINDING_BYTES,
    MAX_FINDINGS_PER_BATCH,
    BatchLimits,
    finding_size,
    plan_batches,
    wire_size,
)


def finding(index: int, description_bytes: int = 10) -> dict[str, object]:
    return {"Id": f"tollgate/o/r/sca/{index:05d}", "Description": "x" * description_bytes}


def request_bytes(batch: tuple[object, ...]) -> int:
    """The body botocore sends (rest-json: json.dumps with its default separators)."""
    return len(json.dumps({"Findings": list(batch)}).encode("utf-8"))


def test_security_hub_limits() -> None:
    assert (MAX_FINDINGS_PER_BATCH, MAX_BATCH_BYTES, MAX_FINDING_BYTES) == (100, 6_000_000, 240 * 1024)


def test_the_finding_limit_agrees_with_the_emitter_and_the_validator() -> None:
    assert MAX_FINDING_BYTES == asff.MAX_FINDING_BYTES == asff_validator.MAX_FINDING_BYTES


def test_small_findings_take_exactly_ceil_n_over_100_batches_in_order() -> None:
    findings = [finding(i) for i in range(1001)]
    plan = plan_batches(findings)
    assert len(plan.batches) == math.ceil(1001 / 100)
    assert [len(b) for b in plan.batches] == [100] * 10 + [1]
    assert [f for batch in plan.batches for f in batch] == findings
    assert plan.oversized == ()


def test_large_findings_split_batches_at_six_megabytes() -> None:
    findings = [finding(i, description_bytes=200_000) for i in range(100)]
    plan = plan_batches(findings)
    assert all(request_bytes(batch) <= MAX_BATCH_BYTES for batch in plan.batches)
    assert [len(b) for b in plan.batches] == [29, 29, 29, 13]  # 29 x ~200 kB fits 6 MB, 30 does not
    assert sum(len(b) for b in plan.batches) == 100


def test_the_byte_limit_is_exact_at_the_boundary() -> None:
    limits = BatchLimits(max_findings=100, max_batch_bytes=request_bytes((finding(0), finding(1))))
    plan = plan_batches([finding(0), finding(1), finding(2)], limits)
    assert [len(b) for b in plan.batches] == [2, 1]
    assert all(request_bytes(batch) <= limits.max_batch_bytes for batch in plan.batches)


def test_a_finding_over_240_kib_is_reported_not_sent() -> None:
    huge = finding(1, description_bytes=MAX_FINDING_BYTES)
    plan = plan_batches([finding(0), huge, finding(2)])
    assert [[f["Id"] for f in batch] for batch in plan.batches] == [[finding(0)["Id"], finding(2)["Id"]]]
    assert [(o.id, o.size) for o in plan.oversized] == [(huge["Id"], finding_size(huge))]


def test_non_ascii_text_counts_as_utf8_per_finding_and_escaped_per_request() -> None:
    accented = {"Id": "a", "Description": "é" * 50_000}  # 100 kB of UTF-8, 300 kB escaped on the wire
    assert finding_size(accented) < MAX_FINDING_BYTES < wire_size(accented)
    plan = plan_batches([accented] * 40)
    assert plan.oversized == ()
    assert all(request_bytes(batch) <= MAX_BATCH_BYTES for batch in plan.batches)
    assert [len(b) for b in plan.batches] == [19, 19, 2]  # 20 x 300 kB escaped would pass 6 MB


def test_no_findings_no_batches() -> None:
    assert plan_batches([]).batches == ()
