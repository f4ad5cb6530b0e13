"""Wapiti's JSON and XML reports (3.0.x from Debian, 3.2.x from PyPI).

Both formats hold the same data: `infos` (target, version), `classifications` (description,
solution and references per category), and three sections (vulnerabilities, anomalies,
additionals) that map a category name to its entries (method, path, info, level,
parameter, http_request, curl_command, and from 3.2 on wstg, module, referer). Category
names changed between 3.0 and 3.2 ("Cross Site Scripting" became "Reflected Cross Site
Scripting"); the category is the rule id as the report writes it.

Severity from `level`: Wapiti 3.0.4 and later write 4 CRITICAL, 3 HIGH, 2 MEDIUM, 1 LOW,
0 INFO (wapitiCore/language/vulnerability.py). Earlier releases counted the other way,
1 HIGH, 2 MEDIUM, 3 LOW, so the report's version picks the scale.

Checks that attack no parameter (missing headers, cookie flags, CSP) tell their entries apart
only by `info` ("X-Frame-Options is not set", "... in the cookie : session"), so `info` stands
in as the location's parameter, the way ZAP names the header or cookie in `param`; otherwise
four missing headers on one page would share one identity.

CWE comes from the classification's own references ("CWE-79: …"); categories whose
references name none fall back to `_CATEGORY_CWE`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Category, Finding, Remediation, Severity, Skipped, Tool, UrlLocation
from normalizers.numbers import small_int
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.raw_report import Report, local_name
from normalizers.tool_id import ToolId

TOOL_NAME = "Wapiti"
_SECTIONS = {"vulnerabilities": "vulnerability", "anomalies": "anomaly", "additionals": "additional"}
_LEVELS = {4: Severity.CRITICAL, 3: Severity.HIGH, 2: Severity.MEDIUM, 1: Severity.LOW, 0: Severity.INFO}
_LEGACY_LEVELS = {1: Severity.HIGH, 2: Severity.MEDIUM, 3: Severity.LOW}
_FIRST_DESCENDING_SCALE = (3, 0, 4)
_VERSION = re.compile(r"(?<!\d)(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?!\d)")  # bounded: int() of any width
_CWE_TITLE = re.compile(r"CWE-(\d+)")
# Categories (3.0 and 3.2 names) whose classification cites no CWE.
_CATEGORY_CWE: dict[str, tuple[int, ...]] = {
    "Content Security Policy Configuration": (693,),
    "HTTP Secure Headers": (693,),
    "Clickjacking Protection": (1021,),
    "MIME Type Confusion": (693,),
    "HTTP Strict Transport Security (HSTS)": (319,),
    "HttpOnly Flag cookie": (1004,),
    "Secure Flag cookie": (614,),
}


@dataclass(frozen=True)
class _Classification:
    description: str
    solution: str
    references: dict[str, str]  # title -> url, as Wapiti writes them


def _text(value: Any) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def _version(infos: dict[str, Any]) -> tuple[int, int, int] | None:
    match = _VERSION.search(str(infos.get("version") or ""))
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _cwe(category: str, classification: _Classification) -> tuple[int, ...]:
    cited = tuple(sorted({n for title in classification.references
                         if (m := _CWE_TITLE.match(title)) and (n := small_int(m[1])) is not None}))
    return cited or _CATEGORY_CWE.get(category, ())


def _severity(level: Any, legacy_scale: bool) -> Severity | None:
    try:
        number = int(level)
    except (TypeError, ValueError, OverflowError):
        return None
    return (_LEGACY_LEVELS if legacy_scale else _LEVELS).get(number)


def _joined(value: Any) -> str | None:
    """WSTG codes: a list in JSON, text in XML."""
    return _text(",".join(map(str, value)) if isinstance(value, list) else value)


def _attack(entry: dict[str, Any]) -> str | None:
    """The injected request line (`GET /item?id=<payload> HTTP/1.1`), when a parameter was attacked."""
    request = _text(entry.get("http_request"))
    return request.splitlines()[0] if request and _text(entry.get("parameter")) else None


@dataclass(frozen=True)
class _Scan:
    """A whole report in one shape, whichever format it came in."""

    infos: dict[str, Any]
    classifications: dict[str, _Classification]
    sections: dict[str, dict[str, list[Any]]]  # section -> category -> entries

    def findings(self) -> Iterator[Finding | Skipped]:
        version = _version(self.infos)
        legacy_scale = version is not None and version < _FIRST_DESCENDING_SCALE
        tool = Tool(name=TOOL_NAME, category=Category.DAST, version=".".join(map(str, version)) if version else None)
        for section, categories in self.sections.items():
            for category, entries in categories.items():
                for index, entry in enumerate(entries):
                    record = f"{section}[{category!r}][{index}]"
                    yield self._finding(tool, section, category, entry, legacy_scale=legacy_scale, record=record)

    def _finding(
        self, tool: Tool, section: str, category: str, entry: Any, *, legacy_scale: bool, record: str
    ) -> Finding | Skipped:
        severity = _severity(entry.get("level"), legacy_scale) if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or severity is None:
            return Skipped(tool=TOOL_NAME, reason="the entry is not an object with a known `level`", record=record)
        classification = self.classifications.get(category, _Classification("", "", {}))
        info = _text(entry.get("info")) or category
        return Finding(
            tool=tool,
            rule_id=category,
            title=category,
            severity=severity,
            original_severity=f"level {entry.get('level')}",
            location=UrlLocation(
                url=urljoin(str(self.infos.get("target") or ""), str(entry.get("path") or "/")),
                method=_text(entry.get("method")),
                parameter=_text(entry.get("parameter")) or info,
                attack=_attack(entry),
            ),
            description=f"{info}\n\n{classification.description}".strip(),
            cwe=_cwe(category, classification),
            remediation=Remediation(text=classification.solution) if classification.solution else None,
            references=tuple(classification.references.values()),
            properties=tuple(
                (key, value)
                for key, value in (
                    ("wapiti.section", _SECTIONS[section]),
                    ("wapiti.module", _text(entry.get("module"))),
                    ("wapiti.wstg", _joined(entry.get("wstg"))),
                    ("wapiti.curl_command", _text(entry.get("curl_command"))),
                )
                if value
            ),
        )


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _scan_from_json(document: dict[str, Any], source: str) -> _Scan:
    raw_classifications = document.get("classifications") or {}
    sections = {name: document.get(name) or {} for name in _SECTIONS}
    if not isinstance(raw_classifications, dict) or not all(
        isinstance(categories, dict) and all(isinstance(entries, list) for entries in categories.values())
        for categories in sections.values()
    ):
        raise MalformedReportError(f"{source}: Wapiti JSON sections are not category -> entry lists")
    classifications = {
        name: _Classification(
            description=str(value.get("desc") or ""),
            solution=str(value.get("sol") or ""),
            references={str(k): str(v) for k, v in _dict(value.get("ref")).items()},
        )
        for name, value in raw_classifications.items()
        if isinstance(value, dict)
    }
    return _Scan(infos=document["infos"], classifications=classifications, sections=sections)


def _xml_children(element: Element, name: str) -> list[Element]:
    return [child for child in element if local_name(child.tag) == name]


def _xml_text(element: Element, name: str) -> str:
    found = _xml_children(element, name)
    return (found[0].text or "").strip() if found else ""


def _xml_classification(flaw: Element) -> _Classification:
    references = {
        _xml_text(ref, "title"): _xml_text(ref, "url") for refs in _xml_children(flaw, "references") for ref in refs
    }
    return _Classification(_xml_text(flaw, "description"), _xml_text(flaw, "solution"), references)


def _scan_from_xml(root: Element) -> _Scan:
    infos_element = _xml_children(root, "report_infos")
    infos: dict[str, Any] = {info.get("name", ""): (info.text or "").strip() for e in infos_element for info in e}
    infos["version"] = infos.get("generatorVersion", "")
    classifications: dict[str, _Classification] = {}
    sections: dict[str, dict[str, list[Any]]] = {}
    for section in _SECTIONS:
        sections[section] = {}
        for container in _xml_children(root, section):
            for flaw in container:
                name = flaw.get("name") or ""
                classifications[name] = _xml_classification(flaw)
                sections[section][name] = [
                    {local_name(field.tag): field.text for field in entry}
                    for entries in _xml_children(flaw, "entries")
                    for entry in entries
                ]
    return _Scan(infos=infos, classifications=classifications, sections=sections)


def _is_wapiti_json(document: Any) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(document, dict)
        and isinstance(document.get("infos"), dict)
        and isinstance(document.get("vulnerabilities"), dict)
        and "classifications" in document
    )


def _is_wapiti_xml(root: Element | None) -> bool:
    if root is None or local_name(root.tag) != "report":
        return False
    infos = (info for e in _xml_children(root, "report_infos") for info in e)
    return any(info.get("name") == "generatorName" and (info.text or "").strip() == "wapiti" for info in infos)


class WapitiParser(Parser):
    tool_id = ToolId.WAPITI

    def sniff(self, report: Report) -> bool:
        return _is_wapiti_json(report.json_or_none()) or _is_wapiti_xml(report.xml_or_none())

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if report.looks_like_xml:
            root = report.xml  # truncated XML: MalformedReportError
            if not _is_wapiti_xml(root):
                raise UnsupportedReportError(f"{report.source}: not a Wapiti XML report")
            yield from _scan_from_xml(root).findings()
            return
        document = report.json if report.looks_like_json else None
        if not _is_wapiti_json(document):
            raise UnsupportedReportError(f"{report.source}: not a Wapiti JSON or XML report")
        yield from _scan_from_json(document, report.source).findings()


PARSER = WapitiParser()
