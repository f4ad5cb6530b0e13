"""Oracle: Trivy's alpine-310 scan as Trivy itself rendered it in JSON, SARIF and ASFF.

All three inputs must give the same findings (same fingerprints), and Tollgate's own SARIF and
ASFF must agree with Trivy's renderings on rule ids, counts and severities. Intended differences:
- Trivy's ASFF Id is `<target>/<CVE>`, so CVE-2019-1549 in libssl1.1 and in libcrypto1.1 share
  one Id (and one overwrites the other in Security Hub); Tollgate's Ids are unique per package.
- Trivy's SARIF points every result at the image tarball; Tollgate points it at the Dockerfile
  (GitHub rejects locations outside the repository) and keeps the image in the message.
"""

from __future__ import annotations

import json
from collections import Counter

from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.emit.sarif import emit_sarif
from normalizers.model import Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES

JSON = FIXTURES / "trivy" / "alpine-310.json.golden"
SARIF = FIXTURES / "sarif" / "alpine-310.sarif.golden"
ASFF = FIXTURES / "asff" / "alpine-310.asff.golden"
SCOPE = Scope("acme/images")


def parsed(path, tool_id):  # type: ignore[no-untyped-def]
    return parse_report(Report.from_path(str(path)), ParseOptions(), tool_id).findings


def triples(findings):  # type: ignore[no-untyped-def]
    return sorted((f.rule_id, f.location.package.name, f.severity.value) for f in findings)


def test_three_renderings_of_one_scan_give_the_same_findings() -> None:
    from_json, from_sarif = parsed(JSON, ToolId.TRIVY), parsed(SARIF, ToolId.SARIF)
    from_asff = parsed(ASFF, ToolId.ASFF)
    assert len(from_json) == len(from_sarif) == len(from_asff) == 4
    assert triples(from_json) == triples(from_sarif) == triples(from_asff)
    fingerprints = {f.fingerprint for f in from_json}
    assert fingerprints == {f.fingerprint for f in from_sarif} == {f.fingerprint for f in from_asff}
    assert len(fingerprints) == 4


def test_our_sarif_agrees_with_trivys_on_rules_counts_and_levels() -> None:
    trivy = json.loads(SARIF.read_text())["runs"][0]
    ours = emit_sarif(parsed(JSON, ToolId.TRIVY)).documents[0]["runs"][0]
    assert {r["id"] for r in ours["tool"]["driver"]["rules"]} == {r["id"] for r in trivy["tool"]["driver"]["rules"]}
    assert Counter((r["ruleId"], r["level"]) for r in ours["results"]) == Counter(
        (r["ruleId"], r["level"]) for r in trivy["results"]
    )
    for result in ours["results"]:
        assert not result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".tar.gz")


def test_our_asff_agrees_on_severities_and_fixes_trivys_colliding_ids() -> None:
    trivy = json.loads(ASFF.read_text())["Findings"]
    ours = emit_asff(parsed(JSON, ToolId.TRIVY), AsffContext("123456789012", "us-east-1", SCOPE)).findings
    assert sorted(f["Severity"]["Label"] for f in ours) == sorted(f["Severity"]["Label"] for f in trivy)
    assert len({f["Id"] for f in trivy}) == 2  # Trivy: two CVEs x two packages, but only two Ids
    assert len({f["Id"] for f in ours}) == 4
    assert all(f["Vulnerabilities"][0]["Id"].startswith("CVE-2019-15") for f in ours)
