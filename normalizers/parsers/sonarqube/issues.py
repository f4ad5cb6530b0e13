"""SonarQube `api/issues/search` responses (pre-10.2 `severity` and 10.2+ `impacts`).

Severity (docs/design.md): `impacts` take precedence; the most severe impact wins, since that is
the one SonarQube itself shows first. Impact severities BLOCKER→CRITICAL, HIGH, MEDIUM, LOW,
INFO map to themselves; the older `severity` maps BLOCKER→CRITICAL, CRITICAL→HIGH,
MAJOR→MEDIUM, MINOR→LOW, INFO→INFO.

Status: an issue SonarQube reports as RESOLVED or CLOSED (resolution FIXED, FALSE-POSITIVE,
WONTFIX, REMOVED) or, from 10.4 on, with `issueStatus` ACCEPTED, FIXED or FALSE_POSITIVE is
kept with `active=False` and the reason.

Identity: the API returns no source text, only `hash`, SonarQube's digest of the flagged line.
It becomes the location's identity anchor (`sonar-line-hash:<hash>`), so an issue keeps its
identity when lines above it move, as a real snippet would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from normalizers.errors import UnsupportedReportError
from normalizers.model import Finding, Severity, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.sonarqube import responses as sonar
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

_REQUIRED = frozenset({"rule", "component"})
_IMPACT_SEVERITY = {
    "BLOCKER": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFO": Severity.INFO,
}
_LEGACY_SEVERITY = {
    "BLOCKER": Severity.CRITICAL,
    "CRITICAL": Severity.HIGH,
    "MAJOR": Severity.MEDIUM,
    "MINOR": Severity.LOW,
    "INFO": Severity.INFO,
}
_CLOSED_STATUSES = frozenset({"RESOLVED", "CLOSED"})
_CLOSED_ISSUE_STATUSES = frozenset({"ACCEPTED", "FIXED", "FALSE_POSITIVE"})  # `issueStatus`, 10.4+


def _impacts(issue: dict[str, Any]) -> list[tuple[str, str]]:
    """(softwareQuality, severity) pairs whose severity is known."""
    impacts = issue.get("impacts")
    pairs = (
        (sonar.text(i.get("softwareQuality")) or "", sonar.text(i.get("severity")) or "")
        for i in (impacts if isinstance(impacts, list) else ())
        if isinstance(i, dict)
    )
    return [(quality, severity) for quality, severity in pairs if severity in _IMPACT_SEVERITY]


def _severity(issue: dict[str, Any]) -> tuple[Severity, str] | None:
    impacts = _impacts(issue)
    if impacts:
        worst = max((_IMPACT_SEVERITY[severity] for _, severity in impacts), key=lambda s: s.rank)
        return worst, ",".join(f"{quality}:{severity}" for quality, severity in impacts)
    legacy = sonar.text(issue.get("severity")) or ""
    return (_LEGACY_SEVERITY[legacy], legacy) if legacy in _LEGACY_SEVERITY else None


def _suppression(issue: dict[str, Any]) -> str | None:
    status, issue_status = sonar.text(issue.get("status")), sonar.text(issue.get("issueStatus"))
    if status not in _CLOSED_STATUSES and issue_status not in _CLOSED_ISSUE_STATUSES:
        return None
    details = (("status", status), ("resolution", sonar.text(issue.get("resolution"))), ("issueStatus", issue_status))
    return "SonarQube: " + ", ".join(f"{name} {value}" for name, value in details if value)


def _finding(issue: dict[str, Any], paths: dict[str, str], rule_names: dict[str, str]) -> Finding | str:
    severity = _severity(issue)
    if severity is None:
        return f"no known severity or impacts (severity {issue.get('severity')!r})"
    rule = str(issue["rule"])
    message = sonar.text(issue.get("message")) or rule_names.get(rule) or rule
    line_hash = sonar.text(issue.get("hash"))
    anchor = f"sonar-line-hash:{line_hash}" if line_hash else None
    suppression = _suppression(issue)
    return Finding(
        tool=sonar.TOOL,
        rule_id=rule,
        title=message,
        severity=severity[0],
        original_severity=severity[1],
        location=sonar.code_location(issue, sonar.component_path(issue, paths), anchor),
        description=f"{rule_names[rule]}: {message}" if rule in rule_names else message,
        message=message,  # two issues of one rule at one place (the project) differ by it
        cwe=sonar.cwe_from_tags(issue.get("tags")),
        active=suppression is None,
        suppression_reason=suppression,
        properties=sonar.properties(
            (
                ("sonar.key", issue.get("key")),
                ("sonar.type", issue.get("type")),
                ("sonar.cleanCodeAttribute", issue.get("cleanCodeAttribute")),
                ("sonar.cleanCodeAttributeCategory", issue.get("cleanCodeAttributeCategory")),
                ("sonar.effort", issue.get("effort")),
                ("sonar.tags", issue.get("tags")),
            )
        ),
    )


def _rule_names(report: Report) -> dict[str, str]:
    """Rule titles from the response's `rules` (present with `additionalFields=rules`)."""
    document = report.json
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list):
        return {}
    pairs = ((r.get("key"), r.get("name")) for r in rules if isinstance(r, dict))
    return {key: name for key, name in pairs if isinstance(key, str) and isinstance(name, str)}


class SonarQubeIssuesParser(Parser):
    tool_id = ToolId.SONARQUBE_ISSUES

    def sniff(self, report: Report) -> bool:
        return sonar.looks_like_response(report.json_or_none(), "issues", _REQUIRED) or sonar.is_third_party_export(
            report
        )

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if sonar.is_third_party_export(report):
            raise sonar.third_party_export_error(report)
        if not sonar.looks_like_response(sonar.json_document(report), "issues", _REQUIRED):
            raise UnsupportedReportError(f"{report.source}: not a SonarQube api/issues/search response")
        issues, paths = sonar.records_and_paths(report, "issues")
        rule_names = _rule_names(report)
        for index, issue in enumerate(issues):
            if not isinstance(issue, dict) or not issue.keys() >= _REQUIRED:
                result: Finding | str = "the issue is not an object with `rule` and `component`"
            else:
                result = _finding(issue, paths, rule_names)
            if isinstance(result, str):
                yield Skipped(tool=sonar.TOOL.name, reason=result, record=f"issues[{index}]")
            else:
                yield result


PARSER = SonarQubeIssuesParser()
