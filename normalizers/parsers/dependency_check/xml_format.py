"""OWASP dependency-check XML reports, every schema from 1.3 to 4.1.

The schemas differ only in namespace (`…/dependency-check.<version>.xsd`) and in a few element
names, so elements are matched by local name:
- 1.x: `identifiers/identifier[@type=maven|cpe]/name`, flat `cvssScore`/`cvssAccessVector`/…,
  one `cwe`; related dependencies hold `identifier` directly.
- 2.0+: `identifiers/package/id` and `identifiers/vulnerabilityIds/id`, `cvssV2`/`cvssV3`
  containers, `cwes/cwe`, `vulnerableSoftware/software` with version-range attributes.
- 2.3+: `severity/@unscored`; 3.0+: `knownExploitedVulnerability`; 4.1: `cvssV4/vectorString`.
Every mapping decision lives in `dependency_check.mapping`, shared with the JSON and SARIF readers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import Element

from normalizers.errors import UnsupportedReportError
from normalizers.model import Finding, Skipped, Tool
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.dependency_check import mapping as dc
from normalizers.raw_report import Report, local_name
from normalizers.tool_id import ToolId

_VULNERABILITY_TAGS = {"vulnerability": False, "suppressedVulnerability": True}
_V1_CVSS_PREFIX = "cvss"  # schema 1.x: cvssScore, cvssAccessVector, … directly in <vulnerability>


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if local_name(child.tag) == name)


def _child(element: Element, name: str) -> Element | None:
    return next(_children(element, name), None)


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _child_text(element: Element, name: str) -> str:
    return _text(_child(element, name))


def _fields(element: Element | None) -> dict[str, str] | None:
    return {local_name(c.tag): _text(c) for c in element} if element is not None else None


def _v1_cvss(vulnerability: Element) -> dict[str, str] | None:
    """`cvssAccessVector` -> `accessVector`, the 2.0+ name of the same CVSS v2 field."""
    fields = {}
    for child in vulnerability:
        name = local_name(child.tag)
        if name.startswith(_V1_CVSS_PREFIX) and len(name) > len(_V1_CVSS_PREFIX):
            rest = name[len(_V1_CVSS_PREFIX):]
            fields[rest[0].lower() + rest[1:]] = _text(child)
    return fields or None


def _identifier(candidate: Element) -> tuple[str, str] | None:
    """("purl" | "cpe", value) of one identifier element of any schema version, else None."""
    kind = local_name(candidate.tag)
    if kind == "package":
        return "purl", _child_text(candidate, "id")
    if kind == "vulnerabilityIds":
        return "cpe", _child_text(candidate, "id")
    if kind == "identifier" and candidate.get("type") == "maven":
        return "purl", dc.maven_purl(_child_text(candidate, "name")) or ""
    if kind == "identifier" and candidate.get("type") == "cpe":
        return "cpe", _child_text(candidate, "name")
    return None


def _identity(element: Element) -> dc.Identity:
    identifiers = _child(element, "identifiers")
    # 1.x related dependencies hold <identifier> directly; DefectDojo's samples nest <identifiers>.
    candidates: Iterable[Element] = identifiers.iter() if identifiers is not None else iter(element)
    found: dict[str, list[tuple[str, str]]] = {"purl": [], "cpe": []}
    for candidate in candidates:
        identifier = _identifier(candidate)
        if identifier and identifier[1]:
            found[identifier[0]].append((identifier[1], candidate.get("confidence") or ""))
    ranked = found["cpe"] + found["purl"]  # the CPE's confidence is the one that decides a match
    return dc.Identity(
        file_path=_child_text(element, "filePath"),
        file_name=_child_text(element, "fileName"),
        purls=tuple(value for value, _ in found["purl"]),
        cpes=tuple(value for value, _ in found["cpe"]),
        confidence=next((c for _, c in ranked if c), None),
    )


def _software(element: Element) -> dc.Software | None:
    cpe = _text(element)
    if not cpe:
        return None
    return dc.Software(
        cpe=cpe,
        matched=(element.get("vulnerabilityIdMatched") or element.get("matched") or "").lower() == "true",
        start_including=element.get("versionStartIncluding"),
        start_excluding=element.get("versionStartExcluding"),
        end_including=element.get("versionEndIncluding"),
        end_excluding=element.get("versionEndExcluding"),
        vulnerable=(element.get("vulnerable") or "true").lower() != "false",
    )


def _cwes(element: Element) -> tuple[int, ...]:
    listed = [_text(c) for c in _children(element, "cwe")]
    for container in _children(element, "cwes"):
        listed += [_text(c) for c in _children(container, "cwe")]
    return dc.cwe_ids(listed)


def _vulnerability(element: Element, suppressed: bool) -> dc.Vulnerability:
    name = _child_text(element, "name")
    if not name:
        raise dc.RecordError("vulnerability without a name")
    source = element.get("source")
    references = (_child_text(r, "url") for c in _children(element, "references") for r in _children(c, "reference"))
    software = (_software(s) for c in _children(element, "vulnerableSoftware") for s in _children(c, "software"))
    return dc.Vulnerability(
        name=name,
        source=source,
        severity=_child_text(element, "severity") or None,
        cvss=dc.cvss_all(
            _fields(_child(element, "cvssV2")) or _v1_cvss(element),
            _fields(_child(element, "cvssV3")),
            _fields(_child(element, "cvssV4")),
            source.lower() if source else None,
        ),
        cwes=_cwes(element),
        description=_child_text(element, "description"),
        notes=_child_text(element, "notes"),
        references=tuple(url for url in references if url),
        software=tuple(s for s in software if s),
        suppressed=suppressed,
        known_exploited=_child(element, "knownExploitedVulnerability") is not None,
    )


class DependencyCheckXmlParser(Parser):
    tool_id = ToolId.DEPENDENCY_CHECK_XML

    def sniff(self, report: Report) -> bool:
        root = report.xml_or_none()
        if root is None or local_name(root.tag) != "analysis":
            return False
        namespace = root.tag[1:].split("}", 1)[0].lower() if root.tag.startswith("{") else ""
        return "dependencycheck" in namespace or _child(root, "dependencies") is not None

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if not report.is_empty and not report.looks_like_xml:
            raise UnsupportedReportError(f"{report.source}: not XML, so not a dependency-check XML report")
        root = report.xml  # MalformedReportError when empty or truncated
        if not self.sniff(report):
            raise UnsupportedReportError(f"{report.source}: not a dependency-check XML report")
        scan_info = _child(root, "scanInfo")
        tool = dc.tool(_child_text(scan_info, "engineVersion") if scan_info is not None else None)
        dependencies = _child(root, "dependencies")
        for index, element in enumerate(_children(dependencies, "dependency") if dependencies is not None else ()):
            yield from self._dependency(element, f"dependencies/dependency[{index + 1}]", tool, options)

    def _dependency(
        self, element: Element, record: str, tool: Tool, options: ParseOptions
    ) -> Iterator[Finding | Skipped]:
        vulnerabilities = []
        for container in _children(element, "vulnerabilities"):
            for index, entry in enumerate(c for c in container if local_name(c.tag) in _VULNERABILITY_TAGS):
                try:
                    vulnerabilities.append(_vulnerability(entry, _VULNERABILITY_TAGS[local_name(entry.tag)]))
                except dc.RecordError as exc:
                    yield Skipped(dc.TOOL_NAME, str(exc), f"{record}/vulnerabilities/*[{index + 1}]")
        if vulnerabilities:
            related = tuple(_identity(r) for c in _children(element, "relatedDependencies") for r in c)
            dependency = dc.Dependency(_identity(element), tuple(vulnerabilities), related)
            yield from dc.findings_for(dependency, tool, options)


PARSER = DependencyCheckXmlParser()
