"""SonarQube Web API responses: api/issues/search (old severities and 10.2+ impacts) and hotspots."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from normalizers.errors import NormalizerError, UnsupportedReportError
from normalizers.model import CodeLocation, Confidence, Severity
from normalizers.parsers.base import ParseOptions
from normalizers.parsers.sonarqube import hotspots as sonarqube_hotspots
from normalizers.parsers.sonarqube import issues as sonarqube_issues
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import (
    manifest_expected,
    parse_bytes,
    parse_fixture,
    parse_path,
    records_bytes,
)

SONAR = FIXTURES / "sonarqube"
EXPORTER_ERROR = "written by the third-party 'sonar-report' exporter, not a SonarQube Web API response"


def _code(location: object) -> CodeLocation:
    assert isinstance(location, CodeLocation)
    return location


def test_issue_with_legacy_severity_and_text_range() -> None:
    result = parse_fixture("sonarqube", "findings_over_api.json", ToolId.SONARQUBE_ISSUES)
    table = result.findings[1]
    assert (table.rule_id, table.title, table.category.value) == (
        "Web:TableWithoutCaptionCheck",
        "Add a description to this table.",
        "sast",
    )
    assert (table.severity, table.original_severity) == (Severity.LOW, "MINOR")
    assert _code(table.location) == CodeLocation(
        path="src/app/pages/fjiowefjewio/fjwieof/fjiwoe/details.html",
        start_line=59,
        end_line=59,
        start_column=7,  # SonarQube's 0-based startOffset 6
        end_column=114,
        anchor="sonar-line-hash:1de6211e802eff1bb25bff705a0a4cf5",
    )
    assert dict(table.properties) == {
        "sonar.key": "asdfwfewfwefewf",
        "sonar.type": "BUG",
        "sonar.effort": "5min",
        "sonar.tags": "accessibility,wcag2-a",
    }


def test_project_level_issue_has_no_file_and_numeric_cwe_tags_only() -> None:
    result = parse_fixture("sonarqube", "findings_over_api.json", ToolId.SONARQUBE_ISSUES)
    dependency = result.findings[0]
    assert _code(dependency.location).path == ""  # component == project: no file to point at
    assert dependency.cwe == (937,)  # from `cwe-937`; the bare `cwe` tag names no number
    assert [f.severity for f in result.findings] == [
        Severity.MEDIUM,
        Severity.LOW,
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,  # CRITICAL -> HIGH
    ]


def test_impacts_take_precedence_and_resolved_issue_is_inactive() -> None:
    (issue,) = parse_fixture("sonarqube", "sonarqube-ws_issues-search-example.json", ToolId.SONARQUBE_ISSUES).findings
    assert (issue.severity, issue.original_severity) == (Severity.HIGH, "SECURITY:HIGH")  # legacy said MAJOR
    rule_name, message = 'Unused "private" methods should be removed', 'Remove this unused private "getKee" method.'
    assert issue.description == f"{rule_name}: {message}"
    assert (issue.active, issue.suppression_reason) == (False, "SonarQube: status RESOLVED, resolution WONTFIX")
    assert dict(issue.properties)["sonar.cleanCodeAttribute"] == "CLEAR"
    assert dict(issue.properties)["sonar.cleanCodeAttributeCategory"] == "INTENTIONAL"


def test_the_most_severe_impact_wins() -> None:
    page = json.loads((SONAR / "sonarqube-ws_issues-search-example.json").read_bytes())
    page["issues"][0]["impacts"] = [
        {"softwareQuality": "MAINTAINABILITY", "severity": "LOW"},
        {"softwareQuality": "SECURITY", "severity": "BLOCKER"},
    ]
    (issue,) = parse_bytes("impacts.json", json.dumps(page).encode(), ToolId.SONARQUBE_ISSUES).findings
    assert (issue.severity, issue.original_severity) == (Severity.CRITICAL, "MAINTAINABILITY:LOW,SECURITY:BLOCKER")


def test_bare_issue_array_and_false_positive() -> None:
    result = parse_fixture("sonarqube", "api_sonarqube_issues.json", ToolId.SONARQUBE_ISSUES)
    assert [(f.active, f.severity) for f in result.findings] == [
        (True, Severity.MEDIUM),
        (False, Severity.MEDIUM),
        (True, Severity.HIGH),
    ]
    assert result.findings[1].suppression_reason == "SonarQube: status RESOLVED, resolution FALSE-POSITIVE"
    assert _code(result.findings[0].location).path == "src/main/javascript/TranslateDirective.ts"


def test_moved_issue_keeps_its_identity() -> None:
    """The line hash anchors identity, so an issue pushed down by new lines is the same issue."""
    page = json.loads((SONAR / "findings_over_api.json").read_bytes())
    before = parse_bytes("before.json", json.dumps(page).encode(), ToolId.SONARQUBE_ISSUES)
    page["issues"][1]["line"] = page["issues"][1]["textRange"]["startLine"] = 80
    page["issues"][1]["textRange"]["endLine"] = 80
    after = parse_bytes("after.json", json.dumps(page).encode(), ToolId.SONARQUBE_ISSUES)
    assert after.findings[1].fingerprint == before.findings[1].fingerprint


def test_hotspots_response() -> None:
    result = parse_fixture("sonarqube", "sonarqube-ws_hotspots-search-example.json", ToolId.SONARQUBE_HOTSPOTS)
    assert [_code(f.location).start_line for f in result.findings] == [10, 11, 12]
    first = result.findings[0]
    assert (first.rule_id, first.title, first.severity, first.confidence) == (
        "hotspot:others",
        "message-0",
        Severity.LOW,
        Confidence.LOW,
    )
    assert _code(first.location).path == "src/main/java/com/sonarsource/FourthClass.java"
    assert dict(first.properties) == {
        "sonar.key": "hotspot-0",
        "sonar.securityCategory": "others",
        "sonar.status": "TO_REVIEW",
    }


def test_reviewed_safe_hotspot_is_inactive_and_acknowledged_is_confirmed() -> None:
    hotspots = json.loads((SONAR / "api_sonarqube_hotspots_one_vuln.json").read_bytes())
    hotspots += [
        {**hotspots[0], "key": "safe", "status": "REVIEWED", "resolution": "SAFE"},
        {**hotspots[0], "key": "ack", "status": "REVIEWED", "resolution": "ACKNOWLEDGED", "ruleKey": "ruby:S2068"},
    ]
    result = records_bytes("reviewed.json", json.dumps(hotspots).encode(), ToolId.SONARQUBE_HOTSPOTS)
    assert [(f.rule_id, f.severity, f.active, f.confidence) for f in result.findings] == [
        ("hotspot:auth", Severity.HIGH, True, Confidence.LOW),
        ("hotspot:auth", Severity.HIGH, False, Confidence.LOW),
        ("ruby:S2068", Severity.HIGH, True, Confidence.HIGH),
    ]
    assert result.findings[1].suppression_reason == "SonarQube: hotspot reviewed as SAFE"


def test_bad_records_are_skipped() -> None:
    page = json.loads((SONAR / "findings_over_api.json").read_bytes())
    page["issues"].append({"rule": "x:S1", "component": "testapplication:a.py", "severity": "SEVERE"})
    page["issues"].append({"component": "testapplication:b.py"})
    result = parse_bytes("bad.json", json.dumps(page).encode(), ToolId.SONARQUBE_ISSUES)
    assert len(result.findings) == 5
    assert [(s.reason, s.record) for s in result.skipped] == [
        ("no known severity or impacts (severity 'SEVERE')", "issues[5]"),
        ("the issue is not an object with `rule` and `component`", "issues[6]"),
    ]


def test_empty_issue_page_has_no_findings() -> None:
    result = parse_fixture("sonarqube", "findings_over_api_empty.json", ToolId.SONARQUBE_ISSUES)
    assert (result.findings, result.skipped) == ((), ())


@pytest.mark.parametrize("name", ["sonar-6-findings.json", "sonar-rule-undefined.html"])
def test_third_party_exporter_output_is_refused_clearly(name: str) -> None:
    expected = re.escape(f"{name}: {EXPORTER_ERROR}; give Tollgate the JSON")
    with pytest.raises(UnsupportedReportError, match=expected):
        parse_fixture("sonarqube", name, ToolId.SONARQUBE_ISSUES)
    report = Report.from_path(str(SONAR / name))
    assert not sonarqube_hotspots.PARSER.sniff(report)  # one claimant keeps detection unambiguous
    with pytest.raises(UnsupportedReportError, match=re.escape(EXPORTER_ERROR)):
        list(sonarqube_hotspots.PARSER.parse(report, ParseOptions()))


@pytest.mark.parametrize(
    ("parser", "other"),
    [
        (sonarqube_issues.PARSER, SONAR / "sonarqube-ws_hotspots-search-example.json"),
        (sonarqube_issues.PARSER, SONAR / "sonarqube-ws_qualitygates-project_status-example.json"),
        (sonarqube_hotspots.PARSER, SONAR / "findings_over_api.json"),
        (sonarqube_hotspots.PARSER, FIXTURES / "zap" / "basic-traditional-xml.xml"),
    ],
)
def test_other_formats_are_unsupported(
    parser: sonarqube_issues.SonarQubeIssuesParser | sonarqube_hotspots.SonarQubeHotspotsParser, other: Path
) -> None:
    report = Report.from_path(str(other))
    assert not parser.sniff(report)
    with pytest.raises(UnsupportedReportError, match=rf"^{re.escape(str(other))}: not a SonarQube api/"):
        list(parser.parse(report, ParseOptions()))


# DefectDojo's count per file (MANIFEST expected_findings) against Tollgate's, one reason per row.
# None: the file is not an issues or hotspots response, and Tollgate refuses it with a clear error.
SWEEP = {
    "sonarqube/empty_zip.zip": ("0", None, "a zip of API responses; Tollgate reads the JSON itself"),
    "sonarqube/findings_over_api.json": ("5", 5, "same"),
    "sonarqube/findings_over_api.zip": ("6", None, "a zip of API responses; Tollgate reads the JSON itself"),
    "sonarqube/findings_over_api_empty.json": ("0", 0, "same"),
    "sonarqube/findings_over_api_multi_cwe_fabricated.json": ("", 3, "no DefectDojo count; 3 issues"),
    "sonarqube/sonarqube-ws_issues-search-example.json": ("", 1, "no DefectDojo count; 1 issue"),
    "sonarqube/sonarqube-ws_hotspots-search-example.json": ("", 3, "no DefectDojo count; 3 hotspots"),
    "sonarqube/sonarqube-ws_qualitygates-project_status-example.json": ("", None, "a quality gate, no issues"),
    "api_sonarqube/issues.json": ("2", 3, "DefectDojo drops the FALSE-POSITIVE issue; Tollgate keeps it inactive"),
    "api_sonarqube/hotspots/one_vuln.json": ("1", 1, "same"),
    "api_sonarqube/hotspots/no_vuln.json": ("", None, "a bare `[]` names no record type"),
    "api_sonarqube/hotspots/rule.json": ("", None, "an api/rules/show body"),
    "api_sonarqube/hotspots/rule_wo_risk_description.json": ("", None, "an api/rules/show body"),
    "api_sonarqube/product.json": ("", None, "an api/components/show body"),
    "api_sonarqube/rule.json": ("", None, "an api/rules/show body"),
    "api_sonarqube/rule_md_desc_only.json": ("", None, "an api/rules/show body"),
    "api_sonarqube/rule_wo_html_desc.json": ("", None, "an api/rules/show body"),
}


def _sweep_parser(
    report: Report,
) -> sonarqube_issues.SonarQubeIssuesParser | sonarqube_hotspots.SonarQubeHotspotsParser:
    return sonarqube_hotspots.PARSER if sonarqube_hotspots.PARSER.sniff(report) else sonarqube_issues.PARSER


def test_corpus_sweep(corpus: Path) -> None:
    expected = {f"sonarqube/{k}": v for k, v in manifest_expected(corpus, "sonarqube").items()}
    expected |= {f"api_sonarqube/{k}": v for k, v in manifest_expected(corpus, "api_sonarqube").items()}
    exporter_files = {name for name in expected if Path(name).name.startswith(("sonar-", "sonar."))}
    assert set(expected) == set(SWEEP) | exporter_files, "a corpus SonarQube file has no row in SWEEP"
    for name in sorted(exporter_files):  # DefectDojo parses these; they are not API responses
        with pytest.raises(UnsupportedReportError, match=re.escape(EXPORTER_ERROR)):
            parse_path(corpus / name, ToolId.SONARQUBE_ISSUES)
    for name, (dojo_count, our_count, why) in SWEEP.items():
        assert expected[name] == dojo_count, f"{name}: MANIFEST changed"
        report = Report.from_path(str(corpus / name))
        parser = _sweep_parser(report)
        if our_count is None:
            with pytest.raises(NormalizerError, match=rf"^{re.escape(str(corpus / name))}: "):
                list(parser.parse(report, ParseOptions()))
            continue
        findings = list(parser.parse(report, ParseOptions()))
        assert len(findings) == our_count, f"{name}: {why}"
    active = [f for f in parse_path(corpus / "api_sonarqube/issues.json", ToolId.SONARQUBE_ISSUES).findings if f.active]
    assert len(active) == 2  # DefectDojo's count, once the false positive is set aside
