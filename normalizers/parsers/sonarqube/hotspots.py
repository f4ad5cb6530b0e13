"""SonarQube `api/hotspots/search` responses.

Severity is the hotspot's `vulnerabilityProbability` (HIGH, MEDIUM, LOW; docs/design.md).
A hotspot is code to review, not a confirmed flaw, so confidence is LOW until a reviewer
marks it ACKNOWLEDGED (a real risk: HIGH). REVIEWED hotspots resolved SAFE or FIXED are kept
with `active=False`. The rule is `ruleKey` (SonarQube 9+); older responses name only the
security category, which then stands in as `hotspot:<securityCategory>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from normalizers.errors import UnsupportedReportError
from normalizers.model import Confidence, Finding, Severity, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.sonarqube import responses as sonar
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

_REQUIRED = frozenset({"component", "vulnerabilityProbability"})
_PROBABILITY = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW}
_CLOSED_RESOLUTIONS = frozenset({"SAFE", "FIXED"})
_CONFIRMED_RESOLUTION = "ACKNOWLEDGED"


def _finding(hotspot: dict[str, Any], paths: dict[str, str]) -> Finding | str:
    probability = sonar.text(hotspot.get("vulnerabilityProbability"))
    if probability not in _PROBABILITY:
        return f"unknown vulnerabilityProbability {probability!r}"
    category = sonar.text(hotspot.get("securityCategory"))
    rule = sonar.text(hotspot.get("ruleKey")) or f"hotspot:{category or 'unknown'}"
    status, resolution = sonar.text(hotspot.get("status")), sonar.text(hotspot.get("resolution"))
    closed = status == "REVIEWED" and resolution in _CLOSED_RESOLUTIONS
    message = sonar.text(hotspot.get("message")) or rule
    return Finding(
        tool=sonar.TOOL,
        rule_id=rule,
        title=message,
        severity=_PROBABILITY[probability],
        original_severity=probability,
        confidence=Confidence.HIGH if resolution == _CONFIRMED_RESOLUTION else Confidence.LOW,
        location=sonar.code_location(hotspot, sonar.component_path(hotspot, paths)),
        description=f"Security hotspot ({category}): {message}" if category else message,
        message=message,  # two issues of one rule at one place (the project) differ by it
        active=not closed,
        suppression_reason=f"SonarQube: hotspot reviewed as {resolution}" if closed else None,
        properties=sonar.properties(
            (
                ("sonar.key", hotspot.get("key")),
                ("sonar.securityCategory", category),
                ("sonar.status", status),
                ("sonar.resolution", resolution),
            )
        ),
    )


class SonarQubeHotspotsParser(Parser):
    tool_id = ToolId.SONARQUBE_HOTSPOTS

    def sniff(self, report: Report) -> bool:
        return sonar.looks_like_response(report.json_or_none(), "hotspots", _REQUIRED)

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if sonar.is_third_party_export(report):
            raise sonar.third_party_export_error(report)
        if not sonar.looks_like_response(sonar.json_document(report), "hotspots", _REQUIRED):
            raise UnsupportedReportError(f"{report.source}: not a SonarQube api/hotspots/search response")
        hotspots, paths = sonar.records_and_paths(report, "hotspots")
        for index, hotspot in enumerate(hotspots):
            result = _finding(hotspot, paths) if isinstance(hotspot, dict) else "the hotspot is not an object"
            if isinstance(result, str):
                yield Skipped(tool=sonar.TOOL.name, reason=result, record=f"hotspots[{index}]")
            else:
                yield result


PARSER = SonarQubeHotspotsParser()
