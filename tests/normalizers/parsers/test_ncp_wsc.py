"""The NCP Web Security Checker getReport parser, on fixtures built from the documented fields.

The fixtures (tests/fixtures/ncp_wsc/SOURCES.md) were written from the API documentation, not
recorded: each says so in its `_note`. They go through the SARIF schema and the ASFF validation
here and in tests/normalizers/emit/test_sweep.py, and through golden snapshots.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from normalizers.dedupe import merge_duplicates
from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.emit.sarif import emit_sarif
from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.identity import location_key, url_key
from normalizers.model import Category, Finding, ParseResult, Scope, Severity, Skipped, UrlLocation
from normalizers.parsers.base import ParseOptions
from normalizers.parsers.ncp_wsc import CATEGORY_CWE, PARSER
from normalizers.parsers.zap import mapping as zap_mapping
from normalizers.parsing import detect
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from pipeline.cli import main
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import Records, parse_bytes, parse_fixture, records_fixture
from tests.validation import asff_problems, sarif_problems

WSC = FIXTURES / "ncp_wsc"
FIXTURE_NAMES = sorted(p.name for p in WSC.glob("*.json"))
ENVELOPE = "getreport-envelope.json"


def _url(finding: Finding) -> UrlLocation:
    assert isinstance(finding.location, UrlLocation)
    return finding.location


def _by_rule(result: ParseResult | Records, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


def test_every_fixture_says_it_was_built_from_the_documentation() -> None:
    assert len(FIXTURE_NAMES) == 4
    for name in FIXTURE_NAMES:
        assert "NOT recorded" in json.loads((WSC / name).read_text(encoding="utf-8"))["_note"]
    assert "Built from the documentation, not recorded" in (WSC / "SOURCES.md").read_text(encoding="utf-8")


def test_an_injection_maps_every_field() -> None:
    result = parse_fixture("ncp_wsc", ENVELOPE, ToolId.NCP_WSC)
    xss = _by_rule(result, "XSS")[0]
    assert (xss.tool.name, xss.tool.version, xss.category) == ("NCP Web Security Checker", None, Category.DAST)
    assert (xss.title, xss.severity, xss.original_severity, xss.cwe) == ("XSS", Severity.HIGH, "High", (79,))
    assert _url(xss) == UrlLocation(url="https://shop.example.com/search?q=%3Cscript%3E", method="GET", parameter="q",
                                    attack="<script>alert(1)</script>", evidence="<script>alert(1)</script>")
    assert xss.description == "The value of q is written into the page without encoding."
    assert xss.remediation is not None
    assert xss.remediation.text == "Encode output for its HTML context and validate input."
    assert dict(xss.properties) == {"ncp-wsc.domain": "shop.example.com"}


def test_identity_follows_the_url_rules_of_zap() -> None:
    """Scheme, host, path, method and parameter: query values never split one problem in two."""
    records = records_fixture("ncp_wsc", ENVELOPE, ToolId.NCP_WSC)
    first, second = _by_rule(records, "XSS")
    assert url_key(_url(first)) == url_key(_url(second)) == "https|shop.example.com|/search|GET|q"
    result = parse_fixture("ncp_wsc", ENVELOPE, ToolId.NCP_WSC)  # the two are one finding, counted as merged
    assert len(result.findings) == len(records.findings) - 1 == len(merge_duplicates(result.findings))
    assert result.reconciliation is not None and result.reconciliation.merged == 1
    assert len({f.fingerprint for f in result.findings}) == 8


def test_relative_urls_methods_and_missing_parameters() -> None:
    result = records_fixture("ncp_wsc", ENVELOPE, ToolId.NCP_WSC)
    (sql,) = _by_rule(result, "SQL Injection")
    assert (_url(sql).url, _url(sql).method, _url(sql).parameter) == ("https://shop.example.com/item", "POST", "id")
    (listing,) = _by_rule(result, "Directory Listing")
    assert (_url(listing).parameter, listing.severity, listing.cwe) == (None, Severity.MEDIUM, (548,))
    (tls,) = _by_rule(result, "Insecure SSL/TLS")
    assert (_url(tls).method, tls.severity, tls.cwe) == (None, Severity.LOW, (326,))
    (specific,) = _by_rule(result, "Specific Vulnerability")
    assert specific.cwe == ()
    assert [f.severity for f in result.findings].count(Severity.HIGH) == 3
    assert result.skipped == ()


def test_korean_impact_levels_and_a_bare_report() -> None:
    result = parse_fixture("ncp_wsc", "getreport-bare-korean-levels.json", ToolId.NCP_WSC)
    shape = [(f.rule_id, f.severity, f.original_severity, f.cwe, _url(f).url) for f in result.findings]
    assert shape == [
        ("Command Injection", Severity.HIGH, "상", (78,), "http://intranet.example.com:8080/app/ping?host=127.0.0.1"),
        ("Personal Information Exposure", Severity.MEDIUM, "중", (359,), "http://intranet.example.com:8080/app/members"),
        ("Mixed Content", Severity.LOW, "하", (319,), "http://intranet.example.com:8080/app/"),
    ]


def test_counted_but_unlisted_vulnerabilities_are_skipped_never_dropped() -> None:
    result = parse_fixture("ncp_wsc", "getreport-summary-only.json", ToolId.NCP_WSC)
    assert result.findings == ()
    assert result.skipped == (Skipped(
        tool="NCP Web Security Checker", record="Classify_byRisk_Level",
        reason="Classify_byRisk_Level.Total counts 4 vulnerabilities but `Vulnerability_List` lists 0: "
               "4 without details"),)
    empty = parse_fixture("ncp_wsc", "getreport-no-findings.json", ToolId.NCP_WSC)
    assert (empty.findings, empty.skipped) == ((), ())


def test_bad_records_are_skipped_with_their_reason() -> None:
    records = [{"Category": "XSS", "Url": "https://a.example/", "Risk_Level": "Critical"},
               {"Category": "XSS", "Risk_Level": "High"}, "not an object",
               {"Category": "LFI", "Url": "https://a.example/?f=x", "Parameter": "f", "Risk_Level": "medium"}]
    document = {"Target_Info": "https://a.example/", "Classify_byRisk_Level": {"Total": 4},
                "Vulnerability_List": records}
    result = parse_bytes("wsc.json", json.dumps(document).encode(), ToolId.NCP_WSC)
    assert [(f.rule_id, f.severity, f.cwe) for f in result.findings] == [("LFI", Severity.MEDIUM, (98,))]
    assert [(s.record, s.reason) for s in result.skipped] == [
        ("Vulnerability_List[0]", "unknown Risk_Level 'Critical'"),
        ("Vulnerability_List[1]", "the vulnerability has no Url"),
        ("Vulnerability_List[2]", "the vulnerability is not an object"),
    ]


def test_the_category_cwe_table() -> None:
    assert {name: cwe[0] for name, cwe in CATEGORY_CWE.items() if cwe} == {
        "XSS": 79, "SQL Injection": 89, "SSRF": 918, "XXE": 611, "Command Injection": 78, "File Upload": 434,
        "File Download": 22, "LFI": 98, "RFI": 98, "Directory Listing": 548, "Source Code Disclosure": 540,
        "Information Disclosure": 200, "URL Redirection": 601, "Insecure SSL/TLS": 326, "Mixed Content": 319,
        "HTTP Request Smuggling": 444, "Personal Information Exposure": 359, "SSI Injection": 97,
        "Insufficient Authorization": 285,
    }
    assert [name for name, cwe in CATEGORY_CWE.items() if not cwe] == ["Specific Vulnerability", "File Management"]


def test_scan_level_facts_are_kept_as_metrics() -> None:
    result = parse_fixture("ncp_wsc", ENVELOPE, ToolId.NCP_WSC)
    target = "ncp-wsc/https://shop.example.com/"
    assert dict(result.metrics) == {
        f"{target}/total": "9", f"{target}/high": "3", f"{target}/medium": "3", f"{target}/low": "3",
        f"{target}/scan_time": "2026/11/20 12:42:10~2026/11/20 14:02:11",
    }


def test_two_targets_keep_their_own_counts() -> None:
    """Metrics are keyed by target, so merging two reports' metrics loses neither."""
    body = json.loads((WSC / ENVELOPE).read_bytes())
    first = parse_fixture("ncp_wsc", ENVELOPE, ToolId.NCP_WSC).metrics
    body["resources"]["Target_Info"] = "https://admin.example.com/"
    second = parse_bytes("admin.json", json.dumps(body).encode(), ToolId.NCP_WSC).metrics
    merged = dict((*first, *second))
    assert merged["ncp-wsc/https://shop.example.com//high"] == merged["ncp-wsc/https://admin.example.com//high"] == "3"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_sarif_and_asff_of_every_fixture_validate(name: str) -> None:
    findings = merge_duplicates(parse_fixture("ncp_wsc", name, ToolId.NCP_WSC).findings)
    for document in emit_sarif(findings).documents:
        assert sarif_problems(document) == []
    asff = emit_asff(findings, AsffContext("123456789012", "eu-west-1", Scope("acme/shop"))).findings
    assert asff_problems(asff) == [] and len(asff) == len(findings)


def test_a_list_that_is_not_a_list_is_malformed() -> None:
    document = {"Target_Info": "x", "Classify_byRisk_Level": {}, "Vulnerability_List": {"XSS": []}}
    with pytest.raises(MalformedReportError, match="`Vulnerability_List` is not a list"):
        parse_bytes("wsc.json", json.dumps(document).encode(), ToolId.NCP_WSC)


@pytest.mark.parametrize("other", [
    {"error": {"errorCode": 901, "message": "API Call Fail"}},  # an API error, not a report
    {"returnCode": "0", "resources": {"total_cnt": 1, "record_data": []}},  # a getJobs answer
    {"Classify_byRisk_Level": {"Total": 1}},  # counts alone, without any documented report field
    {"Target_Info": "x", "Classify_byRisk_Level": 3},
])
def test_other_documents_are_not_claimed(other: object) -> None:
    raw = json.dumps(other).encode()
    assert not PARSER.sniff(Report("other.json", raw))
    with pytest.raises(UnsupportedReportError, match=r"other\.json: not an NCP Web Security Checker getReport"):
        list(PARSER.parse(Report("other.json", raw), ParseOptions()))


@pytest.mark.parametrize("other", sorted(p for p in FIXTURES.glob("*/*.json") if p.parent.name != "ncp_wsc"),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_other_fixture_is_claimed(other: Path) -> None:
    assert not PARSER.sniff(Report.from_path(str(other)))


def test_detected_by_content_among_every_parser() -> None:
    for name in FIXTURE_NAMES:
        assert detect(Report.from_path(str(WSC / name))).tool_id is ToolId.NCP_WSC


@pytest.mark.parametrize("record, reason", [
    ({"Category": ["XSS"], "Url": "/x", "Risk_Level": "High"}, "Category should be text"),
    ({"Category": "XSS", "Url": {"path": "/x"}, "Method": 5, "Parameter": {"p": 1}, "Risk_Level": "High"},
     "Url, Parameter should be text"),
    ({"Category": "XSS", "Url": "http://[::1/x", "Risk_Level": "High"},
     "Url 'http://[::1/x' is not an absolute http(s) URL"),
    ({"Category": "XSS", "Url": "javascript:alert(1)", "Risk_Level": "High"}, "Url 'javascript:alert(1)' is not"),
    ({"Risk_Level": "High", "Url": "/x"}, "the vulnerability has no Category"),
])
def test_records_of_the_wrong_type_are_skipped_never_stringified(record: dict[str, object], reason: str) -> None:
    document = {"Target_Info": "https://a.example/", "Classify_byRisk_Level": {"Total": 1},
                "Vulnerability_List": [record]}
    result = parse_bytes("wsc.json", json.dumps(document).encode(), ToolId.NCP_WSC)
    assert result.findings == ()
    (skipped,) = result.skipped
    assert skipped.reason.startswith(reason)


@pytest.mark.parametrize("target", [5, ["https://a.example/"], None])
def test_a_relative_url_without_a_text_target_is_skipped(target: object) -> None:
    document = {"Target_Info": target, "Classify_byRisk_Level": {"Total": 1},
                "Vulnerability_List": [{"Category": "XSS", "Url": "/x", "Risk_Level": "High"}]}
    result = parse_bytes("wsc.json", json.dumps(document).encode(), ToolId.NCP_WSC)
    assert result.findings == () and "is not an absolute http(s) URL" in result.skipped[0].reason


@pytest.mark.parametrize("total", ['"1e400"', "true", '"many"', "{}"])
def test_an_odd_total_is_no_count_rather_than_a_crash(total: str) -> None:
    raw = ('{"Target_Info": "https://a.example/", "Classify_byRisk_Level": {"Total": ' + total + "}}").encode()
    assert parse_bytes("wsc.json", raw, ToolId.NCP_WSC).skipped == ()


def test_a_report_that_is_a_list_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "wsc.json"
    report.write_text(json.dumps([{"Classify_byRisk_Level": {}, "Target_Info": "https://a.example/"}]))
    assert main(["normalize", str(report), "--repo", "acme/shop", "--tool", "ncp-wsc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wsc.json: not a" in err and "Traceback" not in err


def test_the_same_place_has_the_same_location_key_as_zaps() -> None:
    """ZAP and WSC name an XSS at one URL and parameter: their locations are one identity."""
    zap_instance = {"uri": "https://shop.example.com/search?q=<script>", "method": "GET", "param": "q"}
    zap = list(zap_mapping.site_findings("https://shop.example.com", [{
        "pluginid": "40012", "alert": "Cross Site Scripting (Reflected)", "riskcode": "3", "confidence": "2",
        "instances": [zap_instance]}], zap_mapping.zap_tool("2.16.0"), "site[0]"))
    wsc = parse_bytes("wsc.json", json.dumps({"Target_Info": "https://shop.example.com/", "Classify_byRisk_Level": {
        "Total": 1}, "Vulnerability_List": [{"Category": "XSS", "Url": "/search?q=1", "Method": "get",
                                              "Parameter": "q", "Risk_Level": "High"}]}).encode(), ToolId.NCP_WSC)
    assert isinstance(zap[0], Finding)
    assert location_key(zap[0].location) == location_key(wsc.findings[0].location)
