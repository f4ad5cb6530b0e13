"""Cross-format oracle: one dependency-check 12.1.0 scan written as JSON, XML and SARIF.

The three files in tests/fixtures/dependency_check/VulnerableJavaWebApplication_* are dependency-check's
own renderings of the same scan, so Tollgate must find the same problems, with the same identities,
whichever it is given. Every field where the formats legitimately differ is named below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from normalizers.model import ParseResult, Severity
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import finding_dicts, manifest_expected, parse_fixture

SCAN = "VulnerableJavaWebApplication_dependency-check-report"
ROOT = "C:\\Users\\user\\Documents\\Training\\VulnerableJavaWebApplication"
FORMATS = {"json": ToolId.DEPENDENCY_CHECK_JSON, "xml": ToolId.DEPENDENCY_CHECK_XML, "sarif": ToolId.SARIF}

# What dependency-check's SARIF does not carry, so the SARIF findings lack or word it differently:
INTENDED_SARIF_DIFFERENCES = {
    "title": "SARIF's rule shortDescription ('medium severity - CVE-… vulnerability in pkg:…') is the title",
    "description": "SARIF's message is '<name> - <description>'",
    "original_severity": "SARIF spells the severity string in lower case in the rule shortDescription",
    "confidence": "SARIF carries no identifier confidence",
    "cwe": "SARIF names the CWE only by its title inside the shortDescription",
    "references": "SARIF rules hold one NVD link in help markdown, no reference list",
    "remediation": "SARIF has no vulnerable-software ranges, so no fixed version and no upgrade advice",
    "properties": "SARIF has no vulnerability source or CISA KEV flag",
    "message": "SARIF results carry a message text; the JSON has no per-result text beside the description",
}
INTENDED_SARIF_LOCATION_DIFFERENCES = {"fixed_versions"}  # the same reason as "remediation"
# CVSS is not among them: the SARIF rule properties (cvssv2_*, cvssv3_*) rebuild the same vectors and scores.
# Not visible in this scan (it has neither), but by dependency-check's template the SARIF also omits
# suppressed vulnerabilities and related dependencies; the JSON and XML findings for them have no SARIF twin.


def _parse(extension: str, source_root: str | None = ROOT) -> ParseResult:
    return parse_fixture("dependency_check", f"{SCAN}.{extension}", FORMATS[extension], source_root)


def _oracle_key(result: ParseResult) -> set[tuple[str, str | None, Severity]]:
    return {(f.rule_id, getattr(f.location, "purl", None), f.severity) for f in result.findings}


@pytest.mark.parametrize("source_root", [ROOT, None])
def test_json_xml_and_sarif_find_the_same_problems_with_the_same_identities(source_root: str | None) -> None:
    results = {ext: _parse(ext, source_root) for ext in FORMATS}
    assert {ext: len(r.findings) for ext, r in results.items()} == {"json": 11, "xml": 11, "sarif": 11}
    assert _oracle_key(results["json"]) == _oracle_key(results["xml"]) == _oracle_key(results["sarif"])
    fingerprints = {ext: sorted(f.fingerprint for f in r.findings) for ext, r in results.items()}
    assert fingerprints["json"] == fingerprints["xml"] == fingerprints["sarif"]
    assert len(set(fingerprints["json"])) == 11
    assert all(r.skipped == () for r in results.values())


def test_json_and_xml_agree_on_every_field() -> None:
    assert finding_dicts(_parse("json")) == finding_dicts(_parse("xml"))


def test_sarif_differs_from_json_only_where_dependency_check_writes_less() -> None:
    by_fingerprint = {f["fingerprint"]: f for f in finding_dicts(_parse("json"))}
    differing: set[str] = set()
    location_differing: set[str] = set()
    for sarif in finding_dicts(_parse("sarif")):
        rich = by_fingerprint[sarif["fingerprint"]]
        differing |= {key for key in rich if rich[key] != sarif[key] and key != "location"}
        location_differing |= {k for k in rich["location"] if rich["location"][k] != sarif["location"][k]}
        assert sarif["tool"] == rich["tool"] == {"name": "dependency-check", "version": "12.1.0", "category": "sca"}
        assert (sarif["severity"], sarif["cvss"], sarif["active"]) == (rich["severity"], rich["cvss"], rich["active"])
    assert differing == INTENDED_SARIF_DIFFERENCES.keys()  # every named difference is real, and no other exists
    assert location_differing == INTENDED_SARIF_LOCATION_DIFFERENCES


def _dependency_check_sarif() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "dependency_check" / f"{SCAN}.sarif").read_bytes())
    return loaded


def test_the_json_findings_match_dependency_checks_own_sarif_rules_counts_and_severities() -> None:
    run = _dependency_check_sarif()["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    findings = _parse("json").findings
    assert {f.rule_id for f in findings} == set(rules)
    assert len(findings) == len(run["results"])
    assert sorted((r["ruleId"], r["logicalLocations"][0]["fullyQualifiedName"])
                  for r in (dict(res, **res["locations"][0]) for res in run["results"])) == sorted(
        (f.rule_id, getattr(f.location, "purl", None)) for f in findings)
    for finding in findings:
        rule = rules[finding.rule_id]
        score = rule["properties"].get("security-severity")
        if score is not None:  # scored: dependency-check's SARIF gives the CVSS v3 base score
            assert finding.severity is Severity.from_cvss(float(score)), finding.rule_id
        else:  # unscored: its shortDescription starts with the severity string
            label = rule["shortDescription"]["text"].split(" severity - ", 1)[0]
            assert finding.severity.value == label.upper(), finding.rule_id


def test_dependency_check_xml_counts_against_defectdojo() -> None:
    """DefectDojo's counts (MANIFEST expected_findings), and why Tollgate's differ, one line each."""
    defectdojo = {"PR6439.xml": 34, "multiple_vulnerabilities_has_multiple_findings.xml": 9, "single_vuln.xml": 1}
    why = {
        "PR6439.xml": "+4: one finding per related dependency (the library at another path); DefectDojo folds them",
        "multiple_vulnerabilities_has_multiple_findings.xml": "+8: the same, for its dependencies with related ones",
        "single_vuln.xml": "",
    }
    ours = {name: len(parse_fixture("dependency_check", name, ToolId.DEPENDENCY_CHECK_XML).findings)
            for name in defectdojo}
    assert ours == {"PR6439.xml": 38, "multiple_vulnerabilities_has_multiple_findings.xml": 17, "single_vuln.xml": 1}
    for name, count in ours.items():
        assert (count == defectdojo[name]) == (why[name] == ""), name
        if why[name]:
            assert count - defectdojo[name] == int(why[name].split(":", 1)[0]), name


def test_the_defectdojo_counts_above_are_the_manifest_ones(corpus: Path) -> None:
    expected = manifest_expected(corpus, "dependency_check")
    assert {name: expected[name] for name in ("PR6439.xml", "multiple_vulnerabilities_has_multiple_findings.xml",
                                              "single_vuln.xml")} == {
        "PR6439.xml": "34", "multiple_vulnerabilities_has_multiple_findings.xml": "9", "single_vuln.xml": "1"}
    assert expected[f"{SCAN}.json"] == expected[f"{SCAN}.sarif"] == ""  # DefectDojo asserts no count for this scan
