from __future__ import annotations

import dataclasses
import operator

from normalizers.dedupe import merge_duplicates
from normalizers.identity import with_fingerprints
from normalizers.model import Category, Finding, PackageLocation, Severity, Tool

LOCATION = PackageLocation("lodash", "4.17.15", "pkg:npm/lodash@4.17.15", manifest_path="package-lock.json")


def finding(tool: str, severity: Severity, active: bool = True) -> Finding:
    return Finding(Tool(tool, Category.SCA), "CVE-2020-8203", "prototype pollution", severity, LOCATION,
                   vulnerability_ids=("CVE-2020-8203",), active=active)


def test_same_cve_same_package_from_two_tools_is_one_finding_naming_both() -> None:
    merged = merge_duplicates(with_fingerprints([finding("dependency-check", Severity.HIGH),
                                                 finding("trivy", Severity.HIGH)]))
    assert len(merged) == 1
    assert merged[0].tool.name == "dependency-check"
    assert merged[0].confirmed_by == ("trivy",)


def test_the_most_severe_record_is_kept() -> None:
    merged = merge_duplicates(with_fingerprints([finding("dependency-check", Severity.MEDIUM),
                                                 finding("trivy", Severity.CRITICAL)]))
    assert merged[0].severity is Severity.CRITICAL and merged[0].confirmed_by == ("dependency-check",)


def test_an_inactive_duplicate_never_hides_an_active_one() -> None:
    merged = merge_duplicates(with_fingerprints([finding("dependency-check", Severity.CRITICAL, active=False),
                                                 finding("trivy", Severity.LOW)]))
    assert merged[0].active and merged[0].tool.name == "trivy"


def test_merging_merged_findings_changes_nothing() -> None:
    """The normalize flow merges a lone report's findings once, as it parses them, and not again."""
    merged = merge_duplicates(with_fingerprints([finding("dependency-check", Severity.MEDIUM),
                                                 finding("trivy", Severity.CRITICAL),
                                                 finding("grype", Severity.LOW, active=False)]))
    assert merged[0].confirmed_by == ("dependency-check", "grype")
    assert merge_duplicates(merged) == merged


def test_findings_without_duplicates_come_back_as_they_are() -> None:
    findings = with_fingerprints([dataclasses.replace(finding("trivy", Severity.LOW), location=PackageLocation(name))
                                  for name in ("a", "b", "c")])
    merged = merge_duplicates(iter(findings))
    assert len(merged) == 3 and all(map(operator.is_, merged, findings))


def test_a_lone_finding_naming_its_own_tool_as_confirming_is_still_cleaned() -> None:
    lone = with_fingerprints([dataclasses.replace(finding("trivy", Severity.LOW), confirmed_by=("trivy", "grype"))])
    assert merge_duplicates(lone)[0].confirmed_by == ("grype",)
