"""NAVER Cloud Web Security Checker (WSC): the getReport response, as `pipeline.ncp_wsc` saves it.

What the NAVER Cloud API documentation gives (page `security-websecuritychecker-getreport` on
api.ncloud-docs.com and its gov variant) for `GET /api/v1/jobs/{instanceId}/report`: the summary
fields `report_date`, `Target_Info`, `Crawl_Time`, `Scan_Time`, `Excluded_Url`, `Login_Info`,
`Vulnerability_Category`, `User_Agent`, `Memo`, `Scanned_Domain_List`, `Not_Scanned_Domain_List`,
`Classify_byRisk_Level` (`Total`, `High`, `Medium`, `Low`: impact 상/중/하) and
`Classify_byRisk_Domain` (counts per domain and impact). The service's other answers wrap their
data in `{"returnCode": "0", "returnDesc", "returnMessage", "resources": ...}`; both the bare
report and that envelope are read.

What is inferred, because the published field table we could read stops before the
per-vulnerability detail: the findings are listed under `Vulnerability_List`, one object per
vulnerability with `Category` (a createJob VulnItems name), `Url`, `Method`, `Parameter`,
`Risk_Level` (High/Medium/Low, or 상/중/하), and optionally `Domain`, `Description`,
`Solution`, `Payload` and `Evidence`. Nothing can vanish because of that guess: when the
documented `Classify_byRisk_Level.Total` counts more vulnerabilities than the list holds, the
difference is reported as a Skipped record naming both numbers.

Decisions:
- Detection by content: a JSON object (or envelope `resources`) holding `Classify_byRisk_Level`
  as an object and at least one of `Target_Info`, `Vulnerability_Category`, `report_date`.
- Severity from the risk level: High → HIGH, Medium → MEDIUM, Low → LOW (the service has no
  critical or informational level). The original level is kept.
- One Finding per listed vulnerability at its URL, method and parameter (UrlLocation), so identity
  follows the same rules as ZAP's (scheme, host, path, method, parameter; normalizers.identity).
  A relative `Url` is resolved against `Target_Info`. A vulnerability whose URL is still not an
  absolute http(s) URL, or whose fields are objects or lists where text belongs, is a counted
  Skipped with the reason: a finding without a place cannot have an identity.
- The rule id is the category name; CWE comes from `CATEGORY_CWE` (the category implies the
  weakness; "Specific Vulnerability" and "File Management" imply none).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Category, Finding, Remediation, Severity, Skipped, Tool, UrlLocation
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

TOOL_NAME = "NCP Web Security Checker"
DETAILS_KEY = "Vulnerability_List"
SUMMARY_KEY = "Classify_byRisk_Level"
_SUMMARY_MARKERS = ("Target_Info", "Vulnerability_Category", "report_date")
_TEXT_FIELDS = ("Category", "Url", "Method", "Parameter", "Risk_Level", "Domain", "Description", "Solution",
                "Payload", "Evidence")

# Every createJob VulnItems name (besides "ALL") and the CWE its category implies.
CATEGORY_CWE: dict[str, tuple[int, ...]] = {
    "XSS": (79,),
    "SQL Injection": (89,),
    "SSRF": (918,),
    "XXE": (611,),
    "Command Injection": (78,),
    "File Upload": (434,),
    "File Download": (22,),  # arbitrary file download is a path traversal
    "LFI": (98,),
    "RFI": (98,),
    "Directory Listing": (548,),
    "Source Code Disclosure": (540,),
    "Information Disclosure": (200,),
    "URL Redirection": (601,),
    "Insecure SSL/TLS": (326,),
    "Mixed Content": (319,),
    "HTTP Request Smuggling": (444,),
    "Personal Information Exposure": (359,),
    "SSI Injection": (97,),
    "Insufficient Authorization": (285,),
    "Specific Vulnerability": (),
    "File Management": (),
}
_RISK: dict[str, Severity] = {
    "high": Severity.HIGH, "상": Severity.HIGH,
    "medium": Severity.MEDIUM, "중": Severity.MEDIUM,
    "low": Severity.LOW, "하": Severity.LOW,
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def report_body(document: Any) -> dict[str, Any] | None:
    """The report object, bare or inside the service's `resources` envelope; None if this is not one."""
    if isinstance(document, dict) and isinstance(document.get("resources"), dict) and "returnCode" in document:
        document = document["resources"]
    if not isinstance(document, dict) or not isinstance(document.get(SUMMARY_KEY), dict):
        return None
    return document if any(marker in document for marker in _SUMMARY_MARKERS) else None


def _location(record: dict[str, Any], target: str | None) -> UrlLocation | str:
    """The vulnerability's place, or why it has none."""
    url = _text(record.get("Url"))
    if url is None:
        return "the vulnerability has no Url"
    try:
        if not urlsplit(url).scheme and target:
            url = urljoin(target, url)
        parts = urlsplit(url)
        absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        absolute = False
    if not absolute:
        return f"Url {url[:200]!r} is not an absolute http(s) URL (Target_Info: {target!r})"
    return UrlLocation(
        url=url,
        method=(_text(record.get("Method")) or "").upper() or None,
        parameter=_text(record.get("Parameter")),
        attack=_text(record.get("Payload")),
        evidence=_text(record.get("Evidence")),
    )


def _finding(record: Any, tool: Tool, target: str | None, pointer: str) -> Finding | Skipped:
    if not isinstance(record, dict):
        return Skipped(tool=TOOL_NAME, reason="the vulnerability is not an object", record=pointer)
    not_text = [key for key in _TEXT_FIELDS if isinstance(record.get(key), (dict, list, bool))]
    if not_text:
        return Skipped(tool=TOOL_NAME, reason=f"{', '.join(not_text)} should be text", record=pointer)
    category = _text(record.get("Category"))
    risk = _text(record.get("Risk_Level"))
    severity = _RISK.get((risk or "").lower())
    if category is None:
        return Skipped(tool=TOOL_NAME, reason="the vulnerability has no Category", record=pointer)
    location = _location(record, target)
    if isinstance(location, str):
        return Skipped(tool=TOOL_NAME, reason=location, record=pointer)
    if severity is None:
        return Skipped(tool=TOOL_NAME, reason=f"unknown Risk_Level {record.get('Risk_Level')!r}", record=pointer)
    solution = _text(record.get("Solution"))
    domain = _text(record.get("Domain"))
    return Finding(
        tool=tool,
        rule_id=category,
        title=category,
        severity=severity,
        original_severity=risk,
        location=location,
        description=_text(record.get("Description")) or category,
        cwe=CATEGORY_CWE.get(category, ()),
        remediation=Remediation(text=solution) if solution else None,
        properties=(("ncp-wsc.domain", domain),) if domain else (),
    )


def _counted_total(body: dict[str, Any]) -> int:
    total = body[SUMMARY_KEY].get("Total")
    try:
        return 0 if isinstance(total, bool) else int(total or 0)
    except (TypeError, ValueError, OverflowError):  # text, an object, 1e400
        return 0


class NcpWscParser(Parser):
    tool_id = ToolId.NCP_WSC

    def sniff(self, report: Report) -> bool:
        return report_body(report.json_or_none()) is not None

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        body = report_body(report.json if report.looks_like_json else None)  # truncated: MalformedReportError
        if body is None:
            raise UnsupportedReportError(f"{report.source}: not an NCP Web Security Checker getReport response")
        records = body.get(DETAILS_KEY) or []
        if not isinstance(records, list):
            raise MalformedReportError(f"{report.source}: NCP WSC `{DETAILS_KEY}` is not a list")
        tool = Tool(name=TOOL_NAME, category=Category.DAST)
        target = body.get("Target_Info") if isinstance(body.get("Target_Info"), str) else None
        for index, record in enumerate(records):
            yield _finding(record, tool, target, f"{DETAILS_KEY}[{index}]")
        unlisted = _counted_total(body) - len(records)
        if unlisted > 0:
            reason = (f"{SUMMARY_KEY}.Total counts {len(records) + unlisted} vulnerabilities but "
                      f"`{DETAILS_KEY}` lists {len(records)}: {unlisted} without details")
            yield Skipped(tool=TOOL_NAME, reason=reason, record=SUMMARY_KEY)

    def metrics(self, report: Report) -> dict[str, str]:
        """The service's own counts per risk level and the scan time, keyed by target
        (`ncp-wsc/<Target_Info>/high`), so a scan of several targets keeps each one's counts."""
        body = report_body(report.json_or_none()) or {}
        counts = body.get(SUMMARY_KEY) or {}
        prefix = f"ncp-wsc/{_text(body.get('Target_Info')) or 'unknown target'}/"
        facts = {f"{prefix}{key.lower()}": str(counts[key]) for key in ("Total", "High", "Medium", "Low")
                 if key in counts}
        scan_time = _text(body.get("Scan_Time"))
        if scan_time:
            facts[f"{prefix}scan_time"] = scan_time
        return facts

PARSER = NcpWscParser()
