"""ZAP traditional JSON and XML: every site, every alert, every instance, one mapping."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from xml.etree.ElementTree import tostring

import pytest
from defusedxml import ElementTree as SafeElementTree

from normalizers.errors import UnsupportedReportError
from normalizers.model import Confidence, Severity, UrlLocation
from normalizers.parsers.base import ParseOptions
from normalizers.parsers.zap import json_format as zap_json
from normalizers.parsers.zap import xml_format as zap_xml
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import (
    finding_dicts,
    parse_bytes,
    parse_fixture,
    records_bytes,
    records_fixture,
)

ZAP = FIXTURES / "zap"


def _url(location: object) -> UrlLocation:
    assert isinstance(location, UrlLocation)
    return location


def test_zap_2_14_json_maps_every_field_of_an_instance() -> None:
    result = parse_fixture("zap", "pipeline-templates_zap-2.14.0_report_json.json", ToolId.ZAP_JSON)
    csp = [f for f in result.findings if f.rule_id == "10038"]
    assert [_url(f.location).url for f in csp] == [
        "http://www.itsecgames.com",
        "http://www.itsecgames.com/bugs.htm",
        "http://www.itsecgames.com/download.htm",
        "http://www.itsecgames.com/index.htm",
        "http://www.itsecgames.com/training.htm",
    ]
    first = csp[0]
    assert (first.tool.name, first.tool.version, first.category.value) == ("ZAP", "2.14.0", "dast")
    assert first.title == "Content Security Policy (CSP) Header Not Set"
    assert (first.severity, first.original_severity, first.confidence) == (Severity.MEDIUM, "Medium", Confidence.HIGH)
    assert first.cwe == (693,)
    assert dict(first.properties) == {"zap.alertRef": "10038-1", "zap.wascid": "15", "zap.confidence": "High"}
    assert first.description.startswith("Content Security Policy (CSP) is an added layer")
    assert "<p>" not in first.description
    assert first.remediation is not None and (first.remediation.text or "").startswith("Ensure that your web server")
    assert first.references[1] == "https://cheatsheetseries.owasp.org/cheatsheets/Content_Security_Policy_Cheat_Sheet.html"
    assert _url(first.location).method == "GET" and _url(first.location).parameter is None


def test_zap_2_8_json_without_program_name_keeps_alert_level_other_info() -> None:
    result = records_fixture("zap", "javascript-action_report_json.json", ToolId.ZAP_JSON)
    assert {f.tool.version for f in result.findings} == {"2.8.0"}
    cache = [f for f in result.findings if f.rule_id == "10050"]
    assert len(cache) == 4
    assert cache[0].severity is Severity.INFO and cache[0].original_severity == "Informational"
    assert cache[0].cwe == ()  # the 2.8 alert has no cweid
    assert "Other information: The presence of the 'Age' header" in cache[0].description
    assert "zap.alertRef" not in dict(cache[0].properties)  # 2.8 predates alertRef


def test_reports_add_on_json_keeps_attack_and_evidence_verbatim() -> None:
    result = records_fixture("zap", "basic-traditional-json.json", ToolId.ZAP_JSON)
    assert len(result.findings) == 2  # one alert, two instances
    first = result.findings[0]
    location = _url(first.location)
    assert (location.url, location.method, location.parameter) == ("http://example.com/example_3", "GET", "Test Param")
    assert location.attack == 'Test "Attack\\"' and location.evidence == "Test <p>Evidence"
    assert first.description == "XSS Description\n\nOther information: Test 'Other\\\nSecond line"
    assert result.findings[1].description == "XSS Description\n\nOther information: Test Another 'Other\\"
    assert (first.severity, first.cwe, first.references) == (Severity.HIGH, (123,), ("Test Reference",))
    assert first.remediation is not None and first.remediation.text == "Test Solution"


def test_json_and_xml_of_the_same_alerts_give_the_same_findings() -> None:
    from_json = parse_fixture("zap", "basic-traditional-json.json", ToolId.ZAP_JSON)
    from_xml = parse_fixture("zap", "basic-traditional-xml.xml", ToolId.ZAP_XML)
    assert finding_dicts(from_json) == finding_dicts(from_xml)


def test_zap_2_9_xml_reads_every_instance() -> None:
    result = records_fixture("zap", "some_2.9.0.xml", ToolId.ZAP_XML)
    assert len(result.findings) == 17 and not result.skipped
    cookie = result.findings[0]
    assert (cookie.rule_id, cookie.title, cookie.severity, cookie.cwe) == (
        "10011",
        "Cookie Without Secure Flag",
        Severity.LOW,
        (614,),
    )
    assert [(_url(f.location).parameter, _url(f.location).evidence) for f in result.findings[:3]] == [
        ("opvc", "Set-Cookie: opvc"),
        ("dmid", "Set-Cookie: dmid"),
        ("sitevisitscookie", "Set-Cookie: sitevisitscookie"),
    ]
    assert cookie.tool.version == "2.9.0"


def test_every_site_of_a_json_report_is_read() -> None:
    """No recorded ZAP report here has two sites, so two real single-site reports are joined."""
    first = json.loads((ZAP / "javascript-action_report_json.json").read_bytes())
    second = json.loads((ZAP / "pipeline-templates_zap-2.14.0_report_json.json").read_bytes())
    joined = {**first, "site": first["site"] + second["site"]}
    result = records_bytes("two-sites.json", json.dumps(joined).encode(), ToolId.ZAP_JSON)
    hosts = {_url(f.location).url.split("/")[2] for f in result.findings}
    assert hosts == {"www.example.com", "www.itsecgames.com"}
    assert len(result.findings) == 27 + 61


def test_every_site_of_an_xml_report_is_read() -> None:
    """As above for XML: the site of one real report appended to another real report."""
    root = SafeElementTree.fromstring((ZAP / "some_2.9.0.xml").read_bytes())
    root.append(SafeElementTree.fromstring((ZAP / "zap-xml-plus-format.xml").read_bytes()).find("site"))
    result = records_bytes("two-sites.xml", tostring(root), ToolId.ZAP_XML)
    assert {_url(f.location).url.split("/")[2] for f in result.findings} == {"mainsite.com", "localhost:8080"}
    assert len(result.findings) == 17 + 1


def test_an_alert_without_instances_becomes_one_finding_at_the_site() -> None:
    report = json.loads((ZAP / "basic-traditional-json.json").read_bytes())
    del report["site"][0]["alerts"][0]["instances"]
    (finding,) = parse_bytes("no-instances.json", json.dumps(report).encode(), ToolId.ZAP_JSON).findings
    assert _url(finding.location) == UrlLocation(url="http://example.com")
    assert finding.description == "XSS Description\n\nOther information: Test 'Other\\\nSecond line"


def test_a_false_positive_confidence_is_kept_inactive() -> None:
    report = json.loads((ZAP / "basic-traditional-json.json").read_bytes())
    report["site"][0]["alerts"][0]["confidence"] = "0"
    result = records_bytes("false-positive.json", json.dumps(report).encode(), ToolId.ZAP_JSON)
    assert [(f.active, f.suppression_reason) for f in result.findings] == [
        (False, "marked as a false positive in ZAP (confidence 0)")
    ] * 2


def test_a_bad_alert_is_skipped_not_dropped() -> None:
    report = json.loads((ZAP / "basic-traditional-json.json").read_bytes())
    alerts = report["site"][0]["alerts"]
    alerts.append({**copy.deepcopy(alerts[0]), "riskcode": "7"})
    alerts.append("not an alert")
    result = records_bytes("bad-alerts.json", json.dumps(report).encode(), ToolId.ZAP_JSON)
    assert len(result.findings) == 2
    assert [(s.reason, s.record) for s in result.skipped] == [
        ("unknown riskcode '7'", "site[0].alerts[1]"),
        ("the alert is not an object", "site[0].alerts[2]"),
    ]


@pytest.mark.parametrize(
    ("parser", "other"),
    [
        (zap_json.PARSER, ZAP / "basic-traditional-xml.xml"),
        (zap_json.PARSER, FIXTURES / "detect_secrets" / "many_findings.json"),
        (zap_xml.PARSER, ZAP / "basic-traditional-json.json"),
        (zap_xml.PARSER, FIXTURES / "wapiti" / "example.xml"),
    ],
)
def test_other_formats_are_unsupported(parser: zap_json.ZapJsonParser | zap_xml.ZapXmlParser, other: Path) -> None:
    report = Report.from_path(str(other))
    assert not parser.sniff(report)
    with pytest.raises(UnsupportedReportError, match=rf"^{re.escape(str(other))}: not a ZAP"):
        list(parser.parse(report, ParseOptions()))




def test_two_instances_at_one_url_and_parameter_are_one_finding_counted_as_merged() -> None:
    """ZAP repeats an alert per attack; the place (URL without query values, method, parameter) is one problem."""
    result = parse_fixture("zap", "basic-traditional-json.json", ToolId.ZAP_JSON)
    assert len(records_fixture("zap", "basic-traditional-json.json", ToolId.ZAP_JSON).findings) == 2
    assert len(result.findings) == 1
    assert result.reconciliation is not None
    assert (result.reconciliation.raw, result.reconciliation.kept, result.reconciliation.merged) == (2, 1, 1)
