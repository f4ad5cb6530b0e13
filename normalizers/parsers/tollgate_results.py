"""Tollgate's own results file (`tollgate-results/1`), read back unchanged.

This lets an earlier `tollgate normalize` run be gated, merged or re-published later. Findings keep the
fingerprints they were written with (the registry only fills in empty ones), so their identity survives even
if the identity algorithm changes between the run that wrote the file and the run that reads it.
Skipped records and scan metrics in the file are passed on as they are. The file's scope is not a property of
a Finding; `pipeline` reads it with `normalizers.results.results_from_dict` where it needs it.
"""

from __future__ import annotations

from collections.abc import Iterator

from normalizers.errors import UnsupportedReportError
from normalizers.model import Finding, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.raw_report import Report
from normalizers.results import RESULTS_SCHEMA, is_results_document, results_from_dict
from normalizers.tool_id import ToolId


class TollgateResultsParser(Parser):
    tool_id = ToolId.TOLLGATE_RESULTS

    def sniff(self, report: Report) -> bool:
        return is_results_document(report.json_or_none())

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        document = report.json
        if not is_results_document(document):
            raise UnsupportedReportError(f"{report.source}: not a Tollgate results file (schema {RESULTS_SCHEMA})")
        results = results_from_dict(document, report.source)
        yield from results.findings
        yield from results.skipped

    def metrics(self, report: Report) -> dict[str, str]:
        document = report.json_or_none()
        metrics = document.get("metrics") if is_results_document(document) else None
        return {str(key): str(value) for key, value in metrics.items()} if isinstance(metrics, dict) else {}


PARSER = TollgateResultsParser()
