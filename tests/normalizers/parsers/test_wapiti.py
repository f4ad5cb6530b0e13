"""Wapiti JSON and XML reports, including a real scan of a local vulnerable app."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Finding, ParseResult, Severity, UrlLocation
from normalizers.parsers import wapiti
from normalizers.parsers.base import ParseOptions
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import (
    parse_bytes,
    parse_fixture,
    parse_path,
    vulnerable_app,
)

WAPITI = FIXTURES / "wapiti"
RECORDED_JSON = "wapiti-3.0.4-dast-target.json"
RECORDED_XML = "wapiti-3.0.4-dast-target.xml"
# Wapiti's offline command: no ssrf (it calls an outside endpoint).
MODULES = "xss,sql,csp,http_headers,cookieflags,exec,file,redirect,permanentxss"


def _url(finding: Finding) -> UrlLocation:
    assert isinstance(finding.location, UrlLocation)
    return finding.location


def _by_rule(result: ParseResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


def _shape(result: ParseResult) -> list[tuple[object, ...]]:
    """What a scan found, without the run-specific port and payload markers."""
    return sorted(
        (f.rule_id, f.severity.value, urlsplit(_url(f).url).path, _url(f).method, _url(f).parameter, f.cwe)
        for f in result.findings
    )


def test_recorded_scan_maps_an_injection() -> None:
    result = parse_fixture("wapiti", RECORDED_JSON, ToolId.WAPITI)
    (sql,) = _by_rule(result, "SQL Injection")
    assert (sql.tool.name, sql.tool.version, sql.category.value) == ("Wapiti", "3.0.4", "dast")
    assert (sql.severity, sql.original_severity, sql.cwe) == (Severity.CRITICAL, "level 4", (89,))
    location = _url(sql)
    assert (location.url, location.method, location.parameter) == ("http://127.0.0.1:42169/item", "GET", "id")
    assert location.attack == "GET /item?id=1%C2%BF%27%22%28 HTTP/1.1"
    assert sql.description.startswith("SQL Injection (DMBS: MySQL) via injection in the parameter id\n\nSQL injection")
    assert sql.remediation is not None and (sql.remediation.text or "").startswith("To protect against SQL injection")
    assert sql.references[-1] == "https://cwe.mitre.org/data/definitions/89.html"
    assert dict(sql.properties) == {
        "wapiti.section": "vulnerability",
        "wapiti.curl_command": 'curl "http://127.0.0.1:42169/item?id=1%C2%BF%27%22%28"',
    }
    assert [(_url(f).parameter, f.severity) for f in _by_rule(result, "Cross Site Scripting")] == [
        ("id", Severity.MEDIUM),
        ("q", Severity.MEDIUM),
    ]


def test_checks_without_a_parameter_keep_separate_identities() -> None:
    result = parse_fixture("wapiti", RECORDED_JSON, ToolId.WAPITI)
    headers = _by_rule(result, "HTTP Secure Headers")
    assert [_url(f).parameter for f in headers] == [
        "X-Frame-Options is not set",
        "X-XSS-Protection is not set",
        "X-Content-Type-Options is not set",
        "Strict-Transport-Security is not set",
    ]
    assert {f.cwe for f in headers} == {(693,)}  # from _CATEGORY_CWE: Wapiti cites no CWE here
    assert _by_rule(result, "HttpOnly Flag cookie")[0].cwe == (1004,)
    assert len({f.fingerprint for f in result.findings}) == len(result.findings) == 10


def test_json_and_xml_of_the_same_scan_agree() -> None:
    from_json = parse_fixture("wapiti", RECORDED_JSON, ToolId.WAPITI)
    from_xml = parse_fixture("wapiti", RECORDED_XML, ToolId.WAPITI)
    assert _shape(from_json) == _shape(from_xml)
    assert [f.description for f in from_json.findings] == [f.description for f in from_xml.findings]


def test_defectdojo_xml_sample() -> None:
    result = parse_fixture("wapiti", "example.xml", ToolId.WAPITI)
    assert [(f.rule_id, f.severity, _url(f).url) for f in result.findings[:2]] == [
        ("Content Security Policy Configuration", Severity.LOW, "https://example.org/"),
        ("HTTP Secure Headers", Severity.LOW, "https://example.org/"),
    ]
    (csrf,) = parse_fixture("wapiti", "cwe.xml", ToolId.WAPITI).findings
    assert (csrf.rule_id, csrf.cwe) == ("Cross Site Request Forgery", (352,))


def test_releases_before_3_0_4_count_levels_downwards() -> None:
    report = json.loads((WAPITI / RECORDED_JSON).read_bytes())
    report["infos"]["version"] = "Wapiti 3.0.3"
    result = parse_bytes("old.json", json.dumps(report).encode(), ToolId.WAPITI)
    assert {f.severity for f in _by_rule(result, "HTTP Secure Headers")} == {Severity.HIGH}  # level 1
    assert {f.severity for f in _by_rule(result, "Cross Site Scripting")} == {Severity.MEDIUM}  # level 2
    assert [(s.reason, s.record) for s in result.skipped] == [  # no level 4 on the old scale
        ("the entry is not an object with a known `level`", "vulnerabilities['SQL Injection'][0]")
    ]


def test_broken_sections_are_malformed() -> None:
    report = json.loads((WAPITI / RECORDED_JSON).read_bytes())
    report["vulnerabilities"]["SQL Injection"] = "not a list"
    with pytest.raises(MalformedReportError, match=r"^broken\.json: Wapiti JSON sections"):
        parse_bytes("broken.json", json.dumps(report).encode(), ToolId.WAPITI)


@pytest.mark.parametrize(
    "other", [FIXTURES / "zap" / "basic-traditional-xml.xml", FIXTURES / "detect_secrets" / "many_findings.json"]
)
def test_other_formats_are_unsupported(other: Path) -> None:
    report = Report.from_path(str(other))
    assert not wapiti.PARSER.sniff(report)
    with pytest.raises(UnsupportedReportError, match=rf"^{re.escape(str(other))}: not a Wapiti"):
        list(wapiti.PARSER.parse(report, ParseOptions()))


@pytest.mark.slow
def test_live_wapiti_scan_of_a_local_vulnerable_app(tmp_path: Path) -> None:
    if shutil.which("wapiti") is None:
        pytest.skip("wapiti is not installed; run: apt-get install -y --no-install-recommends wapiti")
    report_path = tmp_path / "report.json"
    with vulnerable_app() as base_url:
        command = [
            "wapiti", "-u", base_url, "--scope", "folder", "-d", "2", "--max-scan-time", "120",
            "--flush-session", "--no-bugreport", "-m", MODULES, "-f", "json", "-o", str(report_path),
        ]  # fmt: skip
        run = subprocess.run(
            command, env={**os.environ, "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=300, check=False
        )
    assert run.returncode == 0, run.stderr[-2000:]
    result = parse_path(report_path, ToolId.WAPITI)
    assert not result.skipped
    (xss,) = [f for f in _by_rule(result, "Cross Site Scripting") if _url(f).parameter == "q"]
    assert _url(xss).url == f"{base_url}search" and xss.cwe == (79,)
    (sql,) = _by_rule(result, "SQL Injection")
    assert (_url(sql).url, _url(sql).parameter, sql.severity) == (f"{base_url}item", "id", Severity.CRITICAL)
    # The same app scanned again gives what the recorded scan gave: scan and mapping are stable.
    assert _shape(result) == _shape(parse_fixture("wapiti", RECORDED_JSON, ToolId.WAPITI))
