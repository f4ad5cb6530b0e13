"""Every parser, keyed by ToolId; detection by content, in ToolId order (generic SARIF last)."""

from __future__ import annotations

import importlib
from collections import Counter

from normalizers.dedupe import merge_duplicates
from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.identity import with_fingerprints
from normalizers.model import Finding, ParseResult, Reconciliation, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.raw_report import Report
from normalizers.redact import redact_findings
from normalizers.source_tree import SourceTree
from normalizers.tool_id import ToolId

# Module per tool; each module exposes `PARSER`. A test checks this covers every ToolId.
PARSER_MODULES: dict[ToolId, str] = {
    ToolId.DEPENDENCY_CHECK_JSON: "normalizers.parsers.dependency_check.json_format",
    ToolId.DEPENDENCY_CHECK_XML: "normalizers.parsers.dependency_check.xml_format",
    ToolId.TRIVY: "normalizers.parsers.trivy",
    ToolId.ZAP_JSON: "normalizers.parsers.zap.json_format",
    ToolId.ZAP_XML: "normalizers.parsers.zap.xml_format",
    ToolId.SONARQUBE_ISSUES: "normalizers.parsers.sonarqube.issues",
    ToolId.SONARQUBE_HOTSPOTS: "normalizers.parsers.sonarqube.hotspots",
    ToolId.WAPITI: "normalizers.parsers.wapiti",
    ToolId.DETECT_SECRETS: "normalizers.parsers.detect_secrets",
    ToolId.LYNIS: "normalizers.parsers.lynis",
    ToolId.NCP_WSC: "normalizers.parsers.ncp_wsc",
    ToolId.SUPPLY_CHAIN: "normalizers.parsers.supply_chain",
    ToolId.ASFF: "normalizers.parsers.asff",
    ToolId.TOLLGATE_RESULTS: "normalizers.parsers.tollgate_results",
    ToolId.SARIF: "normalizers.parsers.sarif",
}


def parser_for(tool_id: ToolId) -> Parser:
    parser: Parser = importlib.import_module(PARSER_MODULES[tool_id]).PARSER
    return parser


def detect(report: Report) -> Parser:
    """The parser whose sniff accepts the content. File names are never consulted.

    A parser may claim content that does not parse (e.g. an HTML export it can name), so the
    parse error of truncated JSON or XML is raised only when no parser claims the file.
    """
    if report.is_empty:
        raise MalformedReportError(f"{report.source}: the report is empty")
    for tool_id in ToolId:
        parser = parser_for(tool_id)
        if parser.sniff(report):
            return parser
    if report.looks_like_json:
        report.json  # noqa: B018 - raises MalformedReportError naming what is wrong
    elif report.looks_like_xml:
        report.xml  # noqa: B018 - same for XML
    raise UnsupportedReportError(
        f"{report.source}: not a report format Tollgate reads "
        f"(known: {', '.join(t.value for t in ToolId)})"
    )


def parse_report(report: Report, options: ParseOptions, tool_id: ToolId | None = None) -> ParseResult:
    """Parse one report; with `tool_id`, refuse content that is not that tool's format."""
    parser = parser_for(tool_id) if tool_id else detect(report)
    if tool_id and not parser.sniff(report):
        detect(report)  # a truncated file gets MalformedReportError rather than "wrong tool"
        raise UnsupportedReportError(f"{report.source}: not a {tool_id.value} report")
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    for item in parser.parse(report, options):
        if isinstance(item, Finding):
            findings.append(item)
        else:
            skipped.append(item)
    # Redacted before anything else reads them: no secret reaches an identity, an emitter or a log.
    identified = with_fingerprints(redact_findings(findings), SourceTree(options.source_root))
    kept = merge_duplicates(identified)  # exact duplicates only: one identity is one tool, rule, place, message
    return ParseResult(
        tool_id=parser.tool_id.value,
        source=report.source,
        findings=tuple(kept),
        skipped=tuple(skipped),
        metrics=tuple(sorted(parser.metrics(report).items())),
        reconciliation=reconcile(parser.tool_id.value, report.source, identified, kept, skipped),
    )


def reconcile(tool_id: str, source: str, identified: list[Finding], kept: list[Finding],
              skipped: list[Skipped]) -> Reconciliation:
    """Every record the parser read is a kept finding, a merged duplicate or a skip with its reason."""
    tools = sorted({f.tool.name for f in identified} | {s.tool for s in skipped})
    reasons = Counter(s.reason for s in skipped)
    return Reconciliation(
        tool=", ".join(tools) or tool_id,
        source=source,
        raw=len(identified) + len(skipped),
        kept=len(kept),
        merged=len(identified) - len(kept),
        suppressed=sum(1 for f in kept if not f.active),
        skipped=len(skipped),
        skipped_reasons=tuple(sorted(reasons.items())),
    )
