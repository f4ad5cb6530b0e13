"""ZAP's traditional XML report (`OWASPZAPReport`), including the reports add-on templates.

Each `alertitem` is turned into the same dict shape the JSON report has (element names are
ZAP's JSON keys), so `zap.mapping` maps both formats with one piece of code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from normalizers.errors import UnsupportedReportError
from normalizers.model import Finding, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.zap.mapping import site_findings, zap_tool
from normalizers.raw_report import Report, local_name
from normalizers.tool_id import ToolId

_ROOT = "OWASPZAPReport"
_SKIPPED_CHILDREN = frozenset({"instances", "tags"})


def _children(element: Element, name: str) -> Iterator[Element]:
    return (child for child in element if local_name(child.tag) == name)


def _fields(element: Element) -> dict[str, str]:
    return {local_name(child.tag): child.text or "" for child in element}


def _alert(item: Element) -> dict[str, Any]:
    alert: dict[str, Any] = {
        local_name(child.tag): child.text or "" for child in item if local_name(child.tag) not in _SKIPPED_CHILDREN
    }
    for instances in _children(item, "instances"):
        alert["instances"] = [_fields(instance) for instance in _children(instances, "instance")]
    return alert


class ZapXmlParser(Parser):
    tool_id = ToolId.ZAP_XML

    def sniff(self, report: Report) -> bool:
        root = report.xml_or_none()
        return root is not None and local_name(root.tag) == _ROOT

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        root = report.xml if report.looks_like_xml else None  # truncated XML: MalformedReportError
        if root is None or local_name(root.tag) != _ROOT:
            raise UnsupportedReportError(f"{report.source}: not a ZAP traditional XML report (OWASPZAPReport)")
        tool = zap_tool(root.get("version"))
        for index, site in enumerate(_children(root, "site")):
            items = (item for alerts in _children(site, "alerts") for item in _children(alerts, "alertitem"))
            alerts = [_alert(item) for item in items]
            yield from site_findings(site.get("name") or "", alerts, tool, f"site[{index}]")


PARSER = ZapXmlParser()
