"""What SonarQube's issue and hotspot search responses share: records, paths, text ranges.

Tollgate reads the Web API's own JSON (`api/issues/search`, `api/hotspots/search`), either a
whole response page (an object with `paging` and the record list) or the bare record list
that a collector concatenates across pages. The HTML and JSON written by the third-party
`sonar-report` exporter are not API responses: the issues parser claims them when sniffing
(only it, so detection stays unambiguous) and both parsers refuse them with a clear
UnsupportedReportError saying what to export instead.
"""

from __future__ import annotations

import re
from typing import Any

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Category, CodeLocation, Tool
from normalizers.numbers import small_int
from normalizers.raw_report import Report

TOOL = Tool(name="SonarQube", category=Category.SAST)
_EXPORTER_HTML_TITLE = b"<title>SonarQube Vulnerability Report</title>"
_EXPORTER_JSON_KEYS = frozenset({"sonarBaseURL", "sonarComponent"})
_SNIFF_SAMPLE = 5  # records looked at when sniffing; a page holds up to 500
_NUMERIC_CWE_TAG = re.compile(r"cwe-(\d+)")


def is_third_party_export(report: Report) -> bool:
    if report.looks_like_xml:
        return _EXPORTER_HTML_TITLE in report.head[:4096]
    document = report.json_or_none()
    return isinstance(document, dict) and document.keys() >= _EXPORTER_JSON_KEYS


def third_party_export_error(report: Report) -> UnsupportedReportError:
    return UnsupportedReportError(
        f"{report.source}: written by the third-party 'sonar-report' exporter, not a SonarQube Web API "
        "response; give Tollgate the JSON of api/issues/search and api/hotspots/search instead"
    )


def json_document(report: Report) -> Any:
    """The parsed JSON; None for content that is not JSON at all (e.g. a zip), so that it is
    refused as unsupported, while truncated JSON still raises MalformedReportError."""
    return report.json if report.looks_like_json else None


def looks_like_response(document: Any, list_key: str, required: frozenset[str]) -> bool:
    """A response page (`{list_key: [...], "paging": ...}`) or a bare, non-empty record list."""
    if isinstance(document, dict):
        records = document.get(list_key)
        if not isinstance(records, list) or not ("paging" in document or "total" in document):
            return False
    elif isinstance(document, list) and document:
        records = document
    else:
        return False
    return all(isinstance(r, dict) and r.keys() >= required for r in records[:_SNIFF_SAMPLE])


def records_and_paths(report: Report, list_key: str) -> tuple[list[Any], dict[str, str]]:
    """The records, and component key → repository path from the response's `components`."""
    document = report.json
    if isinstance(document, list):
        return document, {}
    records = document.get(list_key)
    components = document.get("components") or []
    if not isinstance(records, list) or not isinstance(components, list):
        raise MalformedReportError(f"{report.source}: `{list_key}` or `components` is not a list")
    paths = {
        c["key"]: c["path"]
        for c in components
        if isinstance(c, dict) and isinstance(c.get("key"), str) and isinstance(c.get("path"), str)
    }
    return records, paths


def component_path(record: dict[str, Any], paths: dict[str, str]) -> str:
    """`project:src/a.py` → `src/a.py`; "" for a project-level record that names no file."""
    component = str(record.get("component") or "")
    if component in paths:
        return paths[component]
    project = str(record.get("project") or "")
    if project and component.startswith(f"{project}:"):
        return component[len(project) + 1 :]
    return "" if component == project else component


def code_location(record: dict[str, Any], path: str, anchor: str | None = None) -> CodeLocation:
    """SonarQube's offsets are 0-based with an exclusive end; columns here are 1-based like SARIF."""
    text_range = record.get("textRange")
    if not isinstance(text_range, dict):
        text_range = {}
    start_line = _int(text_range.get("startLine")) or _int(record.get("line"))
    start_offset = _int(text_range.get("startOffset"))
    end_offset = _int(text_range.get("endOffset"))
    return CodeLocation(
        path=path,
        start_line=start_line,
        end_line=_int(text_range.get("endLine")) or start_line,
        start_column=None if start_offset is None else start_offset + 1,
        end_column=None if end_offset is None else end_offset + 1,
        anchor=anchor,
    )


def cwe_from_tags(tags: Any) -> tuple[int, ...]:
    """Only numeric tags such as `cwe-937`; the bare `cwe` tag SonarSource rules carry names none."""
    if not isinstance(tags, list):
        return ()
    matches = (_NUMERIC_CWE_TAG.fullmatch(str(tag)) for tag in tags)
    return tuple(sorted({n for m in matches if m and (n := small_int(m.group(1))) is not None}))


def text(value: Any) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def properties(pairs: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, str], ...]:
    """Tool extras as strings; lists are comma-joined and empty values dropped."""
    rendered = ((key, ",".join(map(str, value)) if isinstance(value, list) else text(value)) for key, value in pairs)
    return tuple((key, value) for key, value in rendered if value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
