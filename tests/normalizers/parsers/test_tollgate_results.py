"""Tollgate's own results file is read back unchanged: same findings, same fingerprints, same skips."""

from __future__ import annotations

import orjson
import pytest

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Scope, Skipped
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report, parser_for
from normalizers.raw_report import Report
from normalizers.results import Results, results_from_dict, results_to_dict
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES

RESULTS_FILES = ["trivy-fs.results.json", "image-and-guardduty.results.json"]
PARSER = parser_for(ToolId.TOLLGATE_RESULTS)


def read(name: str) -> Report:
    return Report.from_path(str(FIXTURES / "tollgate_results" / name))


@pytest.mark.parametrize("name", RESULTS_FILES)
def test_findings_come_back_unchanged_with_their_fingerprints(name: str) -> None:
    report = read(name)
    written = results_from_dict(orjson.loads(report.raw), name)

    result = parse_report(report, ParseOptions("/elsewhere"), tool_id=ToolId.TOLLGATE_RESULTS)

    assert result.findings == written.findings  # every field, including fingerprint, active and reason
    assert all(f.fingerprint for f in result.findings)
    assert result.tool_id == "tollgate-results"


def test_specific_findings_keep_their_tools_categories_and_states() -> None:
    result = parse_report(read("trivy-fs.results.json"), ParseOptions(), tool_id=ToolId.TOLLGATE_RESULTS)
    ignored = [f for f in result.findings if f.rule_id == "AWS-0089"]

    assert len(ignored) == 1
    assert (ignored[0].active, ignored[0].suppression_reason) == (False, "ignored by src/.trivyignore")
    assert ignored[0].tool.version == "0.76.0"
    mixed = parse_report(read("image-and-guardduty.results.json"), ParseOptions(), tool_id=ToolId.TOLLGATE_RESULTS)
    assert {(f.tool.name, f.category.value) for f in mixed.findings} == {("trivy", "image"), ("guardduty", "host")}


def test_a_fingerprint_from_an_older_identity_algorithm_is_kept_not_recomputed() -> None:
    document = orjson.loads(read("trivy-fs.results.json").raw)  # Tollgate's file; one fingerprint altered here
    document["findings"][0]["fingerprint"] = "v0-fingerprint-written-by-an-older-tollgate"
    result = parse_report(Report("old.json", orjson.dumps(document)), ParseOptions(),
                          tool_id=ToolId.TOLLGATE_RESULTS)
    assert result.findings[0].fingerprint == "v0-fingerprint-written-by-an-older-tollgate"


def test_a_parse_written_and_read_back_is_identical_including_skips_and_metrics() -> None:
    trivy = parse_report(Report.from_path(str(FIXTURES / "trivy" / "all_statuses.json")), ParseOptions(),
                         tool_id=ToolId.TRIVY)
    skipped = (Skipped("lynis", "no test id", "warning[3]"),)
    results = Results(Scope("acme/web"), trivy.findings, skipped, (trivy.source,), (("hardening_index", "64"),))
    report = Report("round-trip.json", orjson.dumps(results_to_dict(results)))

    again = parse_report(report, ParseOptions(), tool_id=ToolId.TOLLGATE_RESULTS)

    assert again.findings == trivy.findings
    assert again.skipped == skipped
    assert again.metrics == (("hardening_index", "64"),)


def test_only_results_files_are_sniffed() -> None:
    assert PARSER.sniff(read("trivy-fs.results.json"))
    for other in ("trivy/alpine-310.json.golden", "asff/guardduty.json", "trivy/legacy_no_vuln.json"):
        assert not PARSER.sniff(Report.from_path(str(FIXTURES / other))), other
    for tool in (ToolId.TRIVY, ToolId.ASFF):
        assert not parser_for(tool).sniff(read("trivy-fs.results.json")), tool


def test_another_format_is_refused_and_a_bad_file_is_malformed() -> None:
    with pytest.raises(UnsupportedReportError, match=r"guardduty\.json: not a Tollgate results file"):
        list(PARSER.parse(Report.from_path(str(FIXTURES / "asff" / "guardduty.json")), ParseOptions()))
    document = orjson.loads(read("trivy-fs.results.json").raw)
    document["findings"][1]["severity"] = "SEVERE"
    with pytest.raises(MalformedReportError, match=r"^bad\.json: a Tollgate results file with a bad record"):
        list(PARSER.parse(Report("bad.json", orjson.dumps(document)), ParseOptions()))

