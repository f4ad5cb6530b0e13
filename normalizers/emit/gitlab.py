"""GitLab security report JSON (schema 15.x), so findings show in GitLab's merge-request security widget.

One report per GitLab report type, by Tollgate category:
- `gl-sast-report.json`: SAST and IaC findings at a repository file (GitLab files IaC scans as SAST);
- `gl-dependency-scanning-report.json`: SCA and supply-chain findings on a package with its manifest;
- `gl-dast-report.json`: DAST findings on a URL;
- `gl-secret-detection-report.json`: secrets at a file (the location carries the scanned commit).

Only active problems are written (GitLab shows every entry as a new vulnerability; a passed
compliance check is none). A finding
whose location does not fit its report (an image, a host, a package without its manifest file) is
left out and counted in a warning. `id` is a UUID derived from the scoped identity, so a finding
keeps its id from pipeline to pipeline; `identifiers` lead with the tool's rule, then CVEs and CWEs.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from normalizers.model import (
    Category,
    CodeLocation,
    Finding,
    PackageLocation,
    Scope,
    UrlLocation,
)

SCHEMA_VERSION = "15.0.7"
SEVERITIES = {"CRITICAL": "Critical", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low", "INFO": "Info"}
REPORT_TYPES = {  # category -> (report type, file name)
    Category.SAST: ("sast", "gl-sast-report.json"),
    Category.IAC: ("sast", "gl-sast-report.json"),
    Category.SCA: ("dependency_scanning", "gl-dependency-scanning-report.json"),
    Category.SUPPLY_CHAIN: ("dependency_scanning", "gl-dependency-scanning-report.json"),
    Category.DAST: ("dast", "gl-dast-report.json"),
    Category.SECRETS: ("secret_detection", "gl-secret-detection-report.json"),
}
ANALYZER = {"id": "tollgate", "name": "Tollgate", "vendor": {"name": "Tollgate"}, "version": "1"}
_NAMESPACE = uuid.UUID("5b0f6f33-4d1a-4f0e-9a53-7a3c0c2b9e11")  # Tollgate's GitLab ids; never change it


@dataclass(frozen=True)
class GitLabOutput:
    reports: dict[str, dict[str, Any]]  # file name -> report
    warnings: tuple[str, ...] = ()


def emit_gitlab(findings: tuple[Finding, ...], scope: Scope, now: datetime | None = None) -> GitLabOutput:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S")
    entries: dict[str, list[dict[str, Any]]] = {name: [] for _, name in REPORT_TYPES.values()}
    tools: dict[str, set[str]] = {name: set() for name in entries}
    left_out: Counter[str] = Counter()
    for finding in findings:
        if not (finding.active and finding.is_problem):
            continue
        kind, name = REPORT_TYPES.get(finding.category, ("", ""))
        location = _location(kind, finding, scope) if kind else None
        if location is None:
            left_out[f"{finding.category.value} ({finding.location.kind})"] += 1
            continue
        entries[name].append(_vulnerability(finding, scope, location))
        tools[name].add(finding.tool.name)
    reports = {name: _report(kind, entries[name], sorted(tools[name]), stamp)
               for kind, name in dict.fromkeys(REPORT_TYPES.values())}
    warnings = tuple(f"gitlab: {count} active {what} findings fit no GitLab report type and were left out"
                     for what, count in sorted(left_out.items()))
    return GitLabOutput(reports, warnings)


def _report(kind: str, vulnerabilities: list[dict[str, Any]], tools: list[str], stamp: str) -> dict[str, Any]:
    scanner = {"id": "tollgate", "name": "Tollgate" + (f" ({', '.join(tools)})" if tools else ""),
               "vendor": {"name": "Tollgate"}, "version": "1"}
    report: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "scan": {"analyzer": ANALYZER, "scanner": scanner, "type": kind, "start_time": stamp, "end_time": stamp,
                 "status": "success"},
        "vulnerabilities": vulnerabilities,
    }
    if kind == "dependency_scanning":
        report["dependency_files"] = []  # required up to schema 15.0.6; an empty list is always valid
    return report


def _vulnerability(finding: Finding, scope: Scope, location: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": str(uuid.uuid5(_NAMESPACE, f"{scope.repository}\n{finding.fingerprint}")),
        "name": finding.title[:255] or finding.rule_id,
        "description": (finding.description or finding.message or finding.title)[:1048576],
        "severity": SEVERITIES[finding.severity.value],
        "identifiers": _identifiers(finding),
        "location": location,
    }
    if finding.remediation and finding.remediation.text:
        entry["solution"] = finding.remediation.text[:7000]
    links = [{"url": url} for url in (*finding.references, *([finding.remediation.url] if finding.remediation
                                                                and finding.remediation.url else []))
             if url.startswith(("http://", "https://"))]
    if links:
        entry["links"] = links
    return entry


def _identifiers(finding: Finding) -> list[dict[str, str]]:
    found = [{"type": f"tollgate_{finding.tool.name}".replace(" ", "_").lower()[:100],
              "name": f"{finding.tool.name} {finding.rule_id}"[:255], "value": finding.rule_id[:255]}]
    for vulnerability_id in finding.vulnerability_ids:
        kind = vulnerability_id.split("-", 1)[0].lower()
        entry = {"type": kind, "name": vulnerability_id, "value": vulnerability_id}
        if kind == "cve":
            entry["url"] = f"https://nvd.nist.gov/vuln/detail/{vulnerability_id}"
        found.append(entry)
    found += [{"type": "cwe", "name": f"CWE-{cwe}", "value": str(cwe),
               "url": f"https://cwe.mitre.org/data/definitions/{cwe}.html"} for cwe in finding.cwe]
    return found


def _location(kind: str, finding: Finding, scope: Scope) -> dict[str, Any] | None:
    place = finding.location
    if kind in ("sast", "secret_detection") and isinstance(place, CodeLocation):
        location: dict[str, Any] = {"file": place.path}
        if place.start_line:
            location["start_line"] = place.start_line
            location["end_line"] = max(place.end_line or place.start_line, place.start_line)
        if kind == "secret_detection":
            location["commit"] = {"sha": scope.commit or "0000000"}
        return location
    if kind == "dependency_scanning" and isinstance(place, PackageLocation) and place.manifest_path:
        return {"file": place.manifest_path,
                "dependency": {"package": {"name": place.name}, "version": place.version or "unknown"}}
    if kind == "dast" and isinstance(place, UrlLocation):
        parts = urlsplit(place.url)
        return {"hostname": f"{parts.scheme}://{parts.netloc}", "path": parts.path or "/",
                "method": place.method or "GET", "param": place.parameter or ""}
    return None
