"""OWASP dependency-check JSON reports (`reportSchema` 1.x, `-f JSON`).

This module only reads the JSON shape into the records of `dependency_check.mapping`, which
holds every mapping decision shared with the XML and SARIF readers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Finding, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.dependency_check import mapping as dc
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

_VULNERABILITY_LISTS = (("vulnerabilities", False), ("suppressedVulnerabilities", True))


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _ids(entries: Any) -> tuple[str, ...]:
    return tuple(_text(e.get("id")) for e in _dicts(entries) if _text(e.get("id")))


def _identity(raw: dict[str, Any], package_key: str) -> dc.Identity:
    packages = _dicts(raw.get(package_key))
    cpes = _dicts(raw.get("vulnerabilityIds"))
    confidence = next((e.get("confidence") for e in (*cpes, *packages) if e.get("confidence")), None)
    return dc.Identity(
        file_path=_text(raw.get("filePath")),
        file_name=_text(raw.get("fileName")),
        purls=_ids(packages),
        cpes=_ids(cpes),
        confidence=confidence if isinstance(confidence, str) else None,
    )


def _software(entry: dict[str, Any]) -> dc.Software | None:
    software = entry.get("software")
    if not isinstance(software, dict) or not _text(software.get("id")):
        return None
    return dc.Software(
        cpe=_text(software["id"]),
        matched=str(software.get("vulnerabilityIdMatched")).lower() == "true",
        start_including=_text(software.get("versionStartIncluding")) or None,
        start_excluding=_text(software.get("versionStartExcluding")) or None,
        end_including=_text(software.get("versionEndIncluding")) or None,
        end_excluding=_text(software.get("versionEndExcluding")) or None,
        vulnerable=str(software.get("vulnerable", "true")).lower() != "false",
    )


def _cvss_fields(raw: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = raw.get(key)
    return value if isinstance(value, dict) else None


def _vulnerability(raw: Any, suppressed: bool) -> dc.Vulnerability:
    if not isinstance(raw, dict) or not _text(raw.get("name")):
        raise dc.RecordError("vulnerability without a name")
    source = _text(raw.get("source")) or None
    cwes = raw.get("cwes")
    return dc.Vulnerability(
        name=_text(raw["name"]),
        source=source,
        severity=_text(raw.get("severity")) or None,
        cvss=dc.cvss_all(
            _cvss_fields(raw, "cvssv2"), _cvss_fields(raw, "cvssv3"), _cvss_fields(raw, "cvssv4"),
            source.lower() if source else None,
        ),
        cwes=dc.cwe_ids(c for c in cwes if isinstance(c, str)) if isinstance(cwes, list) else (),
        description=_text(raw.get("description")),
        notes=_text(raw.get("notes")),
        references=tuple(_text(r.get("url")) for r in _dicts(raw.get("references")) if _text(r.get("url"))),
        software=tuple(s for s in map(_software, _dicts(raw.get("vulnerableSoftware"))) if s),
        suppressed=suppressed,
        known_exploited=isinstance(raw.get("knownExploitedVulnerability"), dict),
    )


class DependencyCheckJsonParser(Parser):
    tool_id = ToolId.DEPENDENCY_CHECK_JSON

    def sniff(self, report: Report) -> bool:
        document = report.json_or_none()
        return isinstance(document, dict) and "reportSchema" in document and "dependencies" in document

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if not report.is_empty and not report.looks_like_json:
            raise UnsupportedReportError(f"{report.source}: not JSON, so not a dependency-check JSON report")
        document = report.json  # MalformedReportError when empty or truncated
        if not self.sniff(report):
            raise UnsupportedReportError(f"{report.source}: not a dependency-check JSON report")
        dependencies = document["dependencies"]
        if not isinstance(dependencies, list):
            raise MalformedReportError(f"{report.source}: dependency-check JSON whose 'dependencies' is not a list")
        scan_info = document.get("scanInfo")
        version = scan_info.get("engineVersion") if isinstance(scan_info, dict) else None
        tool = dc.tool(version if isinstance(version, str) else None)
        for index, raw in enumerate(dependencies):
            yield from self._dependency(raw, f"dependencies[{index}]", tool, options)

    def _dependency(self, raw: Any, record: str, tool: Any, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if not isinstance(raw, dict):
            yield Skipped(dc.TOOL_NAME, "dependency is not an object", record)
            return
        vulnerabilities = []
        for key, suppressed in _VULNERABILITY_LISTS:
            entries = raw.get(key)
            for index, entry in enumerate(entries if isinstance(entries, list) else ()):
                try:
                    vulnerabilities.append(_vulnerability(entry, suppressed))
                except dc.RecordError as exc:
                    yield Skipped(dc.TOOL_NAME, str(exc), f"{record}.{key}[{index}]")
        if vulnerabilities:
            related = tuple(_identity(r, "packageIds") for r in _dicts(raw.get("relatedDependencies")))
            dependency = dc.Dependency(_identity(raw, "packages"), tuple(vulnerabilities), related)
            yield from dc.findings_for(dependency, tool, options)


PARSER = DependencyCheckJsonParser()
