"""ZAP's traditional JSON report: 2.8 (no `@programName`), 2.11+ and the reports add-on templates.

All generations share `site[]` → `alerts[]` → `instances[]`; reports older than 2.8 wrote a
single site as an object instead of a list, which is read the same way. The mapping to
Findings lives in `zap.mapping`, shared with the XML reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Finding, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.zap.mapping import TOOL_NAME, site_findings, text_or_none, zap_tool
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId


def _is_zap_json(document: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(document, dict) and "site" in document and ("@version" in document or "@generated" in document)


class ZapJsonParser(Parser):
    tool_id = ToolId.ZAP_JSON

    def sniff(self, report: Report) -> bool:
        return _is_zap_json(report.json_or_none())

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        document = report.json if report.looks_like_json else None  # truncated JSON: MalformedReportError
        if not _is_zap_json(document):
            raise UnsupportedReportError(f"{report.source}: not a ZAP traditional JSON report")
        sites = document["site"]
        if isinstance(sites, dict):
            sites = [sites]
        if not isinstance(sites, list):
            raise MalformedReportError(f"{report.source}: ZAP JSON `site` is neither a list nor an object")
        tool = zap_tool(document.get("@version"))
        for index, site in enumerate(sites):
            record = f"site[{index}]"
            alerts = site.get("alerts") if isinstance(site, dict) else None
            if not isinstance(alerts, list):
                yield Skipped(tool=TOOL_NAME, reason="the site has no `alerts` list", record=record)
                continue
            yield from site_findings(text_or_none(site.get("@name")) or "", alerts, tool, record)


PARSER = ZapJsonParser()
