"""OWASP dependency-check JSON and XML (schemas 1.3 to 4.1): one shared mapping, real reports only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from normalizers.errors import MalformedReportError
from normalizers.model import Confidence, Cvss, Finding, PackageLocation, Severity
from normalizers.parsers.base import ParseOptions
from normalizers.parsers.dependency_check import mapping as dc
from normalizers.parsing import detect, parse_report, parser_for
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import finding_dicts, parse_bytes, parse_fixture

DC = FIXTURES / "dependency_check"
VJWA = "VulnerableJavaWebApplication_dependency-check-report"
# The Windows checkout the VulnerableJavaWebApplication scan ran in.
VJWA_ROOT = "C:\\Users\\user\\Documents\\Training\\VulnerableJavaWebApplication"
BOOTSTRAP = "src/main/webapp/resources/js/bootstrap.min.js"
SCHEMA_VERSIONS = sorted(
    (re.search(r"dependency-check\.(\d+\.\d+)\.xsd", p.name).group(1) for p in (DC / "schemas").glob("*.xsd")),  # type: ignore[union-attr]
    key=lambda v: tuple(map(int, v.split("."))),
)


def _package(finding: Finding) -> PackageLocation:
    assert isinstance(finding.location, PackageLocation)
    return finding.location


def _one(findings: tuple[Finding, ...], rule_id: str, purl_part: str = "") -> Finding:
    matches = [f for f in findings if f.rule_id == rule_id and purl_part in (_package(f).purl or "")]
    assert len(matches) == 1, [(_package(f).purl, _package(f).manifest_path) for f in matches]
    return matches[0]


def _vjwa_json(source_root: str | None = VJWA_ROOT) -> tuple[Finding, ...]:
    return parse_fixture("dependency_check", f"{VJWA}.json", ToolId.DEPENDENCY_CHECK_JSON, source_root).findings


# --- field mapping ------------------------------------------------------------------------------


def test_json_maps_an_nvd_cve_on_a_javascript_library() -> None:
    finding = _one(_vjwa_json(), "CVE-2019-8331")
    assert (finding.tool.name, finding.tool.version, finding.category.value) == ("dependency-check", "12.1.0", "sca")
    assert finding.title == "CVE-2019-8331 in bootstrap@3.3.7"
    assert (finding.severity, finding.original_severity) == (Severity.MEDIUM, "MEDIUM")
    assert finding.cwe == (79,)
    assert finding.cvss == (
        Cvss("2.0", 4.3, "AV:N/AC:M/Au:N/C:N/I:P/A:N", "nvd"),
        Cvss("3.1", 6.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "nvd"),
    )
    assert finding.vulnerability_ids == ("CVE-2019-8331",)
    assert _package(finding) == PackageLocation(
        name="bootstrap",
        version="3.3.7",
        purl="pkg:javascript/bootstrap@3.3.7",
        ecosystem="javascript",
        manifest_path=BOOTSTRAP,
        fixed_versions=("3.4.1",),  # NVD: 3.0.0 <= v < 3.4.1 holds 3.3.7
    )
    assert finding.description.startswith("In Bootstrap before 3.4.1 and 4.3.x before 4.3.1, XSS is possible")
    assert "https://github.com/twbs/bootstrap/releases/tag/v4.3.1" in finding.references
    assert finding.remediation is not None and finding.remediation.text == "Upgrade bootstrap to 3.4.1 or later."
    assert finding.active and finding.suppression_reason is None
    assert dict(finding.properties) == {"source": "NVD"}


def test_unscored_retirejs_vulnerabilities_fall_back_to_the_severity_string() -> None:
    findings = _vjwa_json()
    end_of_life = _one(findings, "Bootstrap before 4.0.0 is end-of-life and no longer maintained.")
    assert (end_of_life.severity, end_of_life.original_severity, end_of_life.cvss) == (Severity.LOW, "low", ())
    assert end_of_life.vulnerability_ids == ()  # a RetireJS advisory without an id keeps its name as rule id
    unscored_cve = _one(findings, "CVE-2024-6485")
    assert (unscored_cve.severity, unscored_cve.original_severity) == (Severity.MEDIUM, "medium")
    assert unscored_cve.vulnerability_ids == ("CVE-2024-6485",)
    assert dict(unscored_cve.properties) == {"source": "RETIREJS"}


def test_a_cve_outside_the_nvd_range_gets_no_invented_fixed_version() -> None:
    # NVD lists CVE-2018-14041 for bootstrap 4.0.0 <= v < 4.1.2 only; RetireJS matched 3.3.7 anyway.
    assert _package(_one(_vjwa_json(), "CVE-2018-14041")).fixed_versions == ()


def test_known_exploited_vulnerabilities_are_marked() -> None:
    assert dict(_one(_vjwa_json(), "CVE-2020-11023").properties) == {"source": "NVD", "known_exploited": "true"}


def test_without_source_root_windows_paths_stay_absolute_with_forward_slashes() -> None:
    path = _package(_one(_vjwa_json(source_root=None), "CVE-2019-8331")).manifest_path
    assert path == f"C:/Users/user/Documents/Training/VulnerableJavaWebApplication/{BOOTSTRAP}"


def test_bcprov_severity_comes_from_cvss_never_from_the_low_cpe_confidence() -> None:
    findings = parse_fixture("dependency_check", "PR6439.xml", ToolId.DEPENDENCY_CHECK_XML).findings
    timing = _one(findings, "CVE-2020-15522", "bcprov")
    assert _package(timing).purl == "pkg:maven/org.bouncycastle/bcprov-jdk15on@1.64"
    assert _package(timing).name == "org.bouncycastle:bcprov-jdk15on"
    assert timing.confidence is Confidence.LOW  # every CPE identifier of bcprov has confidence LOW ...
    assert timing.severity is Severity.MEDIUM  # ... yet CVSS v3.1 5.9 decides the severity
    assert timing.cvss[-1] == Cvss("3.1", 5.9, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", "nvd")
    assert timing.cwe == (362,)
    assert _package(timing).fixed_versions == ("1.66",)
    # OSS Index puts CVSS v3 letters into a v2 container: the score stays, the unparsable vector does not.
    ossindex = _one(findings, "CVE-2020-0187", "bcprov")
    assert ossindex.cvss == (Cvss("2.0", 5.5, None, "ossindex"),)
    assert ossindex.severity is Severity.MEDIUM


def test_suppressed_vulnerabilities_are_kept_inactive_with_their_notes() -> None:
    findings = parse_fixture("dependency_check", "PR6439.xml", ToolId.DEPENDENCY_CHECK_XML).findings
    log4shell = _one(findings, "CVE-2021-44228")
    assert (log4shell.active, log4shell.severity) == (False, Severity.CRITICAL)
    assert (log4shell.suppression_reason or "").startswith("file name: pax-logging")
    assert _package(log4shell).purl == "pkg:maven/org.ops4j.pax.logging/pax-logging-log4j2@2.1.3"
    # dependency-check matched the range 2.0.1 <= v < 2.3.1 (matched="true"); its bound is the fix it knows.
    assert _package(log4shell).fixed_versions == ("2.3.1",)
    assert sum(not f.active for f in findings) == 9  # 8 suppressed vulnerabilities, one on a related dependency


def test_a_suppression_without_notes_gets_a_stated_reason() -> None:
    findings = parse_fixture(
        "dependency_check", "multiple_vulnerabilities_has_multiple_findings.xml", ToolId.DEPENDENCY_CHECK_XML
    ).findings
    with_notes = _one(findings, "CVE-2017-1000487")
    assert (with_notes.active, with_notes.suppression_reason) == (False, "This is our reason for not to upgrade it.")
    without_notes = _one(findings, "CVE-2019-7238")
    assert without_notes.suppression_reason == "suppressed by a dependency-check suppression rule"


def test_related_dependencies_get_the_vulnerability_at_their_own_path_and_identity() -> None:
    findings = parse_fixture("dependency_check", "PR6439.xml", ToolId.DEPENDENCY_CHECK_XML).findings
    broker = _one(findings, "CVE-2015-3208", "activemq-broker")
    client = _one(findings, "CVE-2015-3208", "activemq-client")  # a related dependency with its own purl
    assert _package(client).manifest_path.endswith("activemq-client/5.16.5/activemq-client-5.16.5.jar")  # type: ignore[union-attr]
    assert (client.active, client.suppression_reason) == (broker.active, broker.suppression_reason)
    assert client.fingerprint != broker.fingerprint


def test_related_dependencies_without_identifiers_borrow_the_primary_package() -> None:
    findings = parse_fixture(
        "dependency_check", "multiple_vulnerabilities_has_multiple_findings.xml", ToolId.DEPENDENCY_CHECK_XML
    ).findings
    dom4j = [f for f in findings if f.rule_id == "CVE-0000-0001" and "dom4j@" in (_package(f).purl or "")]
    assert sorted(_package(f).manifest_path or "" for f in dom4j) == [
        "/var/lib/adapter-ear1.ear/dom4j-2.1.1.jar",
        "/var/lib/adapter-ear1.ear/dom4j-extensions-2.1.1.jar",
        "/var/lib/adapter-ear8.ear/dom4j-2.1.1.jar",
        "C:/Projectestproject/libraries/component2.dll",
    ]
    assert len({f.fingerprint for f in dom4j}) == 4


def test_schema_1_3_flat_cvss_maven_identifier_and_cwe_text() -> None:
    (finding,) = parse_fixture("dependency_check", "single_vuln.xml", ToolId.DEPENDENCY_CHECK_XML).findings
    assert finding.rule_id == "CVE-0000-0001"
    assert (finding.severity, finding.original_severity) == (Severity.HIGH, "Moderate")  # CVSS 7.5 beats "Moderate"
    assert finding.cvss == (Cvss("2.0", 7.5, "AV:N/AC:L/Au:N/C:P/I:P/A:P", None),)
    assert finding.cwe == ()  # "CWE-00 Bad Vulnerability" names no weakness
    assert _package(finding).purl == "pkg:maven/org.owasp/library@6.7.8"
    assert _package(finding).manifest_path == "C:/Projectestproject/libraries/component2.dll"
    assert finding.confidence is Confidence.HIGH
    assert finding.references == (
        "http://localhost/badvulnerability.htm",
        "http://localhost2/reference_for_badvulnerability.pdf",
    )


def test_a_virtual_dependency_points_at_its_manifest() -> None:
    findings = parse_fixture(
        "dependency_check", "multiple_vulnerabilities_has_multiple_findings.xml", ToolId.DEPENDENCY_CHECK_XML,
        source_root="/var/lib/jenkins/workspace/nl-selfservice_-_metrics_develop/",
    ).findings
    # dependency-check names the npm package inside the lockfile: `…/package-lock.json?yargs-parser`.
    (yargs,) = [_package(f) for f in findings
                if f.rule_id == "CVE-2020-7608" and _package(f).manifest_path == "package-lock.json"]
    assert (yargs.name, yargs.version, yargs.ecosystem) == ("yargs-parser", "5.0.0", "npm")


@pytest.mark.parametrize(
    ("path", "source_root", "expected"),
    [
        ("/github/workspace/app/pom.xml", None, "app/pom.xml"),
        ("/home/runner/work/shop/shop/web/package-lock.json?lodash", None, "web/package-lock.json"),
        ("./lib/a.jar", None, "lib/a.jar"),
        ("/src/lib/a.jar", "/src/", "lib/a.jar"),
        ("/srcs/lib/a.jar", "/src", "/srcs/lib/a.jar"),  # a sibling directory is not under the root
        ("c:\\Work\\App\\lib\\a.jar", "C:\\work\\app", "lib/a.jar"),  # Windows drives fold case
        ("/opt/other/a.jar", "/src", "/opt/other/a.jar"),  # outside the root: no honest relative form
    ],
)
def test_manifest_paths_are_repository_relative(path: str, source_root: str | None, expected: str) -> None:
    assert dc.manifest_path(path, source_root) == expected


def test_a_report_without_vulnerable_dependencies_gives_no_findings() -> None:
    result = parse_fixture("dependency_check", "dc_empty.xml", ToolId.DEPENDENCY_CHECK_XML)
    assert (result.findings, result.skipped) == ((), ())


# --- every schema version ----------------------------------------------------------------------


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_the_xml_reader_is_blind_to_the_schema_namespace(version: str) -> None:
    """The real 4.1 report, re-rendered in memory under each schema's namespace, reads the same."""
    raw = (DC / f"{VJWA}.xml").read_bytes()
    renamed = raw.replace(b"dependency-check.4.1.xsd", f"dependency-check.{version}.xsd".encode())
    assert parser_for(ToolId.DEPENDENCY_CHECK_XML).sniff(Report("renamed.xml", renamed))
    original = parse_fixture("dependency_check", f"{VJWA}.xml", ToolId.DEPENDENCY_CHECK_XML)
    assert finding_dicts(parse_bytes(f"{version}.xml", renamed, ToolId.DEPENDENCY_CHECK_XML)) == finding_dicts(original)


# Every element any dependency-check XSD declares is either read or knowingly left out.
READ_ELEMENTS = {
    "analysis", "scanInfo", "engineVersion", "dependencies", "dependency", "fileName", "filePath",
    "relatedDependencies", "relatedDependency", "identifiers", "identifier", "package", "vulnerabilityIds", "id",
    "name", "vulnerabilities", "vulnerability", "suppressedVulnerability", "severity", "cvssV2", "cvssV3",
    "cvssV4", "cvssScore", "cvssAccessVector", "cvssAccessComplexity", "cvssAuthenticationr",
    "cvssConfidentialImpact", "cvssIntegrityImpact", "cvssAvailabilityImpact", "score", "baseScore",
    "vectorString", "accessVector", "accessComplexity", "authenticationr", "confidentialImpact",
    "confidentialityImpact", "integrityImpact", "availabilityImpact", "attackVector", "attackComplexity",
    "privilegesRequired", "userInteraction", "scope", "version", "cwe", "cwes", "description", "notes",
    "references", "reference", "url", "vulnerableSoftware", "software", "knownExploitedVulnerability",
}
IGNORED_ELEMENTS = {
    # scan and project metadata, not findings
    "projectInfo", "reportDate", "credits", "groupID", "artifactID", "dataSource", "timestamp",
    "analysisExceptions", "exception", "message", "stackTrace", "trace", "cause", "innerException",
    # how dependency-check identified the file: hashes, evidence, provenance
    "md5", "sha1", "sha256", "license", "evidenceCollected", "evidence", "source", "value", "type",
    "projectReferences", "projectReference", "includedBy",
    # identifiers the user suppressed (CPEs dropped before matching), not suppressed vulnerabilities
    "suppressedIdentifier", "suppressedVulnerabilityIds",
    # derived or secondary CVSS facts; the base score and vector carry the severity
    "baseSeverity", "exploitabilityScore", "impactScore", "acInsufInfo", "obtainAllPrivilege",
    "obtainUserPrivilege", "obtainOtherPrivilege", "userInteractionRequired", "attackRequirements",
    "vulnerableSystemConfidentiality", "vulnerableSystemIntegrity", "vulnerableSystemAvailability",
    "subsequentSystemConfidentiality", "subsequentSystemIntegrity", "subsequentSystemAvailability",
    "exploitMaturity", "confidentialityRequirements", "integrityRequirements", "availabilityRequirements",
    "modifiedAttackVector", "modifiedAttackComplexity", "modifiedAttackRequirements",
    "modifiedPrivilegesRequired", "modifiedUserInteraction", "modifiedVulnerableSystemConfidentiality",
    "modifiedVulnerableSystemIntegrity", "modifiedVulnerableSystemAvailability",
    "modifiedSubsequentSystemConfidentiality", "modifiedSubsequentSystemIntegrity",
    "modifiedSubsequentSystemAvailability", "safety", "automatable", "recovery", "valueDensity",
    "vulnerabilityResponseEffort", "providerUrgency", "threatScore", "threatSeverity", "environmentalScore",
    "environmentalSeverity",
    # CISA KEV details: the finding is marked known-exploited; the catalogue holds the rest
    "vendorProject", "product", "dateAdded", "requiredAction", "dueDate",
}


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_element_of_every_schema_version_is_read_or_knowingly_ignored(version: str) -> None:
    xsd = (DC / "schemas" / f"dependency-check.{version}.xsd").read_text(encoding="utf-8")
    declared = set(re.findall(r'<xs:element name="(\w+)"', xsd))
    assert declared - READ_ELEMENTS - IGNORED_ELEMENTS == set()


# --- golden snapshots -------------------------------------------------------------------------


# --- detection ---------------------------------------------------------------------------------


def test_each_parser_sniffs_its_own_format_only() -> None:
    as_json, as_xml = parser_for(ToolId.DEPENDENCY_CHECK_JSON), parser_for(ToolId.DEPENDENCY_CHECK_XML)
    reports = {ext: Report.from_path(str(DC / f"{VJWA}.{ext}")) for ext in ("json", "xml", "sarif")}
    assert [as_json.sniff(reports[e]) for e in ("json", "xml", "sarif")] == [True, False, False]
    assert [as_xml.sniff(reports[e]) for e in ("json", "xml", "sarif")] == [False, True, False]
    assert as_xml.sniff(Report.from_path(str(DC / "single_vuln.xml")))
    assert as_xml.sniff(Report.from_path(str(DC / "dc_empty.xml")))


def test_registry_detection_picks_dependency_check_by_content() -> None:
    for ext, tool_id in (("json", ToolId.DEPENDENCY_CHECK_JSON), ("xml", ToolId.DEPENDENCY_CHECK_XML)):
        renamed = Report("report.txt", (DC / f"{VJWA}.{ext}").read_bytes())  # the name says nothing
        assert detect(renamed).tool_id is tool_id


# --- errors -------------------------------------------------------------------------------------


def test_a_dependencies_member_that_is_not_a_list_is_malformed() -> None:
    document = json.loads((DC / f"{VJWA}.json").read_bytes())
    document["dependencies"] = {"broken": True}  # derived in memory from the real report
    with pytest.raises(MalformedReportError, match=r"broken-dependencies\.json"):
        parse_bytes("broken-dependencies.json", json.dumps(document).encode(), ToolId.DEPENDENCY_CHECK_JSON)


def test_a_nameless_vulnerability_is_skipped_with_its_place_and_the_rest_kept() -> None:
    document = json.loads((DC / f"{VJWA}.json").read_bytes())
    del document["dependencies"][1]["vulnerabilities"][0]["name"]  # derived in memory from the real report
    document["dependencies"].append("not a dependency")
    result = parse_bytes("nameless.json", json.dumps(document).encode(), ToolId.DEPENDENCY_CHECK_JSON)
    assert len(result.findings) == 10
    assert [(s.reason, s.record) for s in result.skipped] == [
        ("vulnerability without a name", "dependencies[1].vulnerabilities[0]"),
        ("dependency is not an object", "dependencies[2]"),
    ]


def test_corpus_sweep_every_dependency_check_report_normalizes(corpus: Path) -> None:
    for path in sorted((corpus / "dependency_check").iterdir()):
        tool_id = {".json": ToolId.DEPENDENCY_CHECK_JSON, ".xml": ToolId.DEPENDENCY_CHECK_XML}.get(path.suffix)
        if tool_id is None:
            continue  # the SARIF rendering is swept with every other SARIF file in test_sarif.py
        result = parse_report(Report.from_path(str(path)), ParseOptions(), tool_id=tool_id)
        assert result.skipped == (), path.name
        assert all(f.fingerprint and f.category.value == "sca" for f in result.findings), path.name
