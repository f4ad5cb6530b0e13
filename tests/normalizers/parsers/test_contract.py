"""What every parser in the table promises, written once: golden snapshots, clear refusals, the corpus.

Each ToolId of `normalizers.parsing.PARSER_MODULES` has a row in CONTRACTS; a parser added to the
table without one fails `test_every_parser_has_a_contract`. What is particular to one tool (its
fields, its own error wording, DefectDojo oracles shaped by its format) stays in its own test file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import PARSER_MODULES, parser_for
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import finding_dicts, manifest_expected, parse_bytes, parse_path, truncated
from tests.snapshot import SNAPSHOTS, assert_snapshot

VJWA = "dependency_check/VulnerableJavaWebApplication_dependency-check-report"


@dataclass(frozen=True)
class Snapshot:
    fixture: str  # below tests/fixtures/
    name: str  # below tests/snapshots/
    source_root: str | None = None


@dataclass(frozen=True)
class Contract:
    snapshots: tuple[Snapshot, ...]
    truncated: tuple[str, ...]  # real reports whose first half must be refused as malformed, by name
    other_formats: tuple[str, ...]  # real reports of another format, refused when this tool is claimed


def _ncp_wsc_snapshots() -> tuple[Snapshot, ...]:
    names = sorted(p.name for p in (FIXTURES / "ncp_wsc").glob("*.json"))
    return tuple(Snapshot(f"ncp_wsc/{name}", f"ncp_wsc/{Path(name).stem}") for name in names)


CONTRACTS: dict[ToolId, Contract] = {
    ToolId.DEPENDENCY_CHECK_JSON: Contract(
        snapshots=(Snapshot(f"{VJWA}.json", "dependency_check/vulnerable_java_web_application_json",
                            "C:\\Users\\user\\Documents\\Training\\VulnerableJavaWebApplication"),),
        truncated=(f"{VJWA}.json",),
        other_formats=(f"{VJWA}.sarif", f"{VJWA}.xml"),
    ),
    ToolId.DEPENDENCY_CHECK_XML: Contract(
        snapshots=(
            Snapshot("dependency_check/PR6439.xml", "dependency_check/pr6439_xml_2_5", "/var/lib/jenkins"),
            Snapshot("dependency_check/multiple_vulnerabilities_has_multiple_findings.xml",
                     "dependency_check/multiple_vulnerabilities_xml_1_3"),
            Snapshot("dependency_check/single_vuln.xml", "dependency_check/single_vuln_xml_1_3"),
        ),
        truncated=(f"{VJWA}.xml",),
        other_formats=(f"{VJWA}.json", f"{VJWA}.sarif"),
    ),
    ToolId.TRIVY: Contract(
        snapshots=tuple(Snapshot(f"trivy/{name}", f"trivy/{name.removesuffix('.golden').removesuffix('.json')}")
                        for name in ("alpine-310.json.golden", "misconfigurations_and_secrets.json",
                                     "trivy-0.76-fs-show-suppressed.json", "issue_14136.json",
                                     "license_scheme.json")),
        truncated=("trivy/alpine-310.json.golden",),
        other_formats=("asff/alpine-310.asff.golden",),
    ),
    ToolId.ZAP_JSON: Contract(
        snapshots=(Snapshot("zap/basic-traditional-json.json", "zap/basic-traditional-json"),
                   Snapshot("zap/javascript-action_report_json.json", "zap/javascript-action_report_json")),
        truncated=("zap/pipeline-templates_zap-2.14.0_report_json.json",),
        other_formats=("zap/basic-traditional-xml.xml",),
    ),
    ToolId.ZAP_XML: Contract(
        snapshots=(Snapshot("zap/basic-traditional-xml.xml", "zap/basic-traditional-xml"),
                   Snapshot("zap/some_2.9.0.xml", "zap/some_2.9.0")),
        truncated=("zap/some_2.9.0.xml",),
        other_formats=("wapiti/example.xml",),
    ),
    ToolId.SONARQUBE_ISSUES: Contract(
        snapshots=tuple(Snapshot(f"sonarqube/{name}", f"sonarqube/{Path(name).stem}")
                        for name in ("findings_over_api.json", "api_sonarqube_issues.json",
                                     "sonarqube-ws_issues-search-example.json")),
        truncated=("sonarqube/findings_over_api.json",),
        other_formats=("sonarqube/sonarqube-ws_hotspots-search-example.json",),
    ),
    ToolId.SONARQUBE_HOTSPOTS: Contract(
        snapshots=tuple(Snapshot(f"sonarqube/{name}", f"sonarqube/{Path(name).stem}")
                        for name in ("api_sonarqube_hotspots_one_vuln.json",
                                     "sonarqube-ws_hotspots-search-example.json")),
        truncated=("sonarqube/findings_over_api.json",),
        other_formats=("sonarqube/sonarqube-ws_issues-search-example.json",),
    ),
    ToolId.WAPITI: Contract(
        snapshots=(Snapshot("wapiti/wapiti-3.0.4-dast-target.json", "wapiti/wapiti-3.0.4-dast-target"),
                   Snapshot("wapiti/example.xml", "wapiti/example")),
        truncated=("wapiti/wapiti-3.0.4-dast-target.json", "wapiti/wapiti-3.0.4-dast-target.xml"),
        other_formats=("zap/some_2.9.0.xml",),
    ),
    ToolId.DETECT_SECRETS: Contract(
        snapshots=(Snapshot("detect_secrets/detect-secrets-1.5.0-fake-aws-key.json",
                            "detect_secrets/detect-secrets-1.5.0-fake-aws-key"),
                   Snapshot("detect_secrets/many_findings.json", "detect_secrets/many_findings")),
        truncated=("detect_secrets/many_findings.json",),
        other_formats=("sonarqube/findings_over_api.json",),
    ),
    ToolId.LYNIS: Contract(
        snapshots=(Snapshot("lynis/lynis-3.0.8-debian12.dat", "lynis/lynis-3.0.8-debian12"),),
        truncated=("lynis/lynis-3.0.8-debian12.dat",),
        other_formats=("wapiti/example.xml",),
    ),
    ToolId.NCP_WSC: Contract(
        snapshots=_ncp_wsc_snapshots(),
        truncated=("ncp_wsc/getreport-envelope.json",),
        other_formats=("zap/basic-traditional-json.json",),
    ),
    ToolId.SUPPLY_CHAIN: Contract(
        snapshots=(Snapshot("supply_chain/report/tollgate-supply-chain-fixtures.json", "supply_chain/fixtures"),),
        truncated=("supply_chain/report/tollgate-supply-chain-fixtures.json",),
        other_formats=("trivy/alpine-310.json.golden",),
    ),
    ToolId.ASFF: Contract(
        snapshots=tuple(Snapshot(f"asff/{name}", f"asff/{name.removesuffix('.golden').removesuffix('.json')}")
                        for name in ("alpine-310.asff.golden", "trivy-0.76-fs.asff.json", "guardduty.json",
                                     "inspector_ec2_cve.json", "config_multiple_resources.json")),
        truncated=("asff/guardduty.json",),
        other_formats=("trivy/alpine-310.json.golden",),
    ),
    ToolId.TOLLGATE_RESULTS: Contract(
        snapshots=tuple(Snapshot(f"tollgate_results/{name}", f"tollgate_results/{name.removesuffix('.json')}")
                        for name in ("trivy-fs.results.json", "image-and-guardduty.results.json")),
        truncated=("tollgate_results/trivy-fs.results.json",),
        other_formats=("asff/guardduty.json",),
    ),
    ToolId.SARIF: Contract(
        snapshots=(
            Snapshot("sarif/appendix_k.sarif", "sarif/appendix_k"),
            Snapshot("sarif/blackduck_nested_fingerprints.sarif", "sarif/blackduck_nested_fingerprints"),
            Snapshot("sarif/dockle_0_3_15.sarif", "sarif/dockle_0_3_15"),
            Snapshot("sarif/alpine-310.sarif.golden", "sarif/trivy_alpine_310"),
            Snapshot("sarif/cxf-3.4.6.sarif", "sarif/grype_cxf_3_4_6"),
            Snapshot("sarif/njsscan.sarif", "sarif/njsscan", "/src"),
        ),
        truncated=("sarif/cxf-3.4.6.sarif",),
        other_formats=("trivy/alpine-310.json.golden",),
    ),
}

# DefectDojo's count per corpus file (MANIFEST expected_findings) against Tollgate's, with the reason
# for any gap, for the corpus folders that hold one tool's reports only. "" is a file DefectDojo gives
# no count for. Folders shared with other formats keep their own oracle in the tool's test file.
CORPUS_COUNTS: dict[ToolId, dict[str, tuple[str, int, str]]] = {
    ToolId.DETECT_SECRETS: {
        "detect_secrets/many_findings.json": ("4", 4, "same; the audited false positive is kept with active=False"),
        "detect_secrets/no_findings.json": ("0", 0, "same"),
    },
    ToolId.WAPITI: {
        "wapiti/example.xml": ("5", 5, "same: one finding per entry"),
        "wapiti/cwe.xml": ("1", 1, "same"),
        "wapiti/cwe_multi_cwe_fabricated.xml": ("", 1, "no DefectDojo count; 1 entry"),
    },
    # Tollgate makes one finding per alert instance; DefectDojo one per alert.
    ToolId.ZAP_XML: {
        "zap/0_zap_sample.xml": ("4", 12, "4 alerts with 12 instances; one finding per instance"),
        "zap/0_zap_sample_without_zap3.xml": ("", 11, "no DefectDojo count; 3 alerts with 11 instances"),
        "zap/1_zap_sample_0_and_new_absent.xml": ("4", 12, "4 alerts (one commented out) with 12 instances"),
        "zap/2_zap_sample_0_and_new_endpoint.xml": ("4", 13, "4 alerts with 13 instances"),
        "zap/5_zap_sample_one.xml": ("2", 6, "2 alerts with 6 instances"),
        "zap/basic-traditional-xml.xml": ("", 2, "no DefectDojo count; 1 alert with 2 instances"),
        "zap/basic-traditional-xml-plus.xml": ("", 2, "no DefectDojo count; 1 alert with 2 instances"),
        "zap/dvwa_baseline_dojo.xml": ("19", 124, "19 alerts with 124 instances"),
        "zap/dvwa_baseline_dojo_fabricated_internal_duplicates.xml": ("", 123, "no DefectDojo count; 123 instances"),
        "zap/dvwa_baseline_dojo_fabricated_internal_duplicates_subset.xml": ("", 75,
                                                                             "no DefectDojo count; 75 instances"),
        "zap/dvwa_baseline_dojo_subset.xml": ("", 97, "no DefectDojo count; 97 instances"),
        "zap/empty_2.9.0.xml": ("0", 0, "same: no alerts"),
        "zap/some_2.9.0.xml": ("7", 17, "7 alerts with 17 instances"),
        "zap/zap-results-first-scan.xml": ("15", 130, "15 alerts with 130 instances"),
        "zap/zap-xml-plus-format.xml": ("1", 1, "same: 1 alert with 1 instance"),
    },
    ToolId.ZAP_JSON: {
        "zap/basic-traditional-json.json": ("", 2, "no DefectDojo count; 1 alert with 2 instances"),
        "zap/basic-traditional-json-plus.json": ("", 2, "no DefectDojo count; 1 alert with 2 instances"),
        "zap/javascript-action_report_json.json": ("", 27, "no DefectDojo count; 8 alerts with 27 instances"),
        "zap/pipeline-templates_zap-2.14.0_report_json.json": ("", 61, "no DefectDojo count; 12 alerts, 61 instances"),
    },
}
COUNTED_FOLDERS = sorted({name.split("/")[0] for rows in CORPUS_COUNTS.values() for name in rows})

SNAPSHOT_CASES = [pytest.param(t, s, id=s.name) for t, c in CONTRACTS.items() for s in c.snapshots]
TRUNCATED_CASES = [pytest.param(t, f, id=f"{t.value}-{Path(f).name}")
                   for t, c in CONTRACTS.items() for f in c.truncated]
OTHER_CASES = [pytest.param(t, f, id=f"{t.value}-{Path(f).name}")
               for t, c in CONTRACTS.items() for f in c.other_formats]
CORPUS_CASES = [pytest.param(t, name, row, id=name) for t, rows in CORPUS_COUNTS.items() for name, row in rows.items()]


def test_every_parser_has_a_contract() -> None:
    assert set(CONTRACTS) == set(PARSER_MODULES) == set(ToolId)
    assert all(c.snapshots and c.truncated and c.other_formats for c in CONTRACTS.values())


@pytest.mark.parametrize(("tool_id", "snapshot"), SNAPSHOT_CASES)
def test_golden_snapshot(tool_id: ToolId, snapshot: Snapshot) -> None:
    assert (SNAPSHOTS / f"{snapshot.name}.json").is_file(), "a contract names a snapshot that does not exist"
    result = parse_path(FIXTURES / snapshot.fixture, tool_id, snapshot.source_root)
    assert all(s.reason and s.record for s in result.skipped)  # nothing dropped without its place and reason
    assert_snapshot(snapshot.name, finding_dicts(result))


@pytest.mark.parametrize(("tool_id", "fixture"), TRUNCATED_CASES)
def test_a_truncated_report_is_malformed_and_named(tool_id: ToolId, fixture: str) -> None:
    report = truncated(FIXTURES / fixture)
    with pytest.raises(MalformedReportError, match=rf"^{re.escape(report.source)}: "):
        parse_bytes(report.source, report.raw, tool_id)


@pytest.mark.parametrize("tool_id", list(ToolId))
@pytest.mark.parametrize("raw", [b"", b"  \n"])
def test_an_empty_report_is_malformed(tool_id: ToolId, raw: bytes) -> None:
    with pytest.raises(MalformedReportError, match=r"^empty\.out: the report is empty$"):
        parse_bytes("empty.out", raw, tool_id)


@pytest.mark.parametrize(("tool_id", "fixture"), OTHER_CASES)
def test_another_format_is_refused_for_a_claimed_tool(tool_id: ToolId, fixture: str) -> None:
    path = FIXTURES / fixture
    with pytest.raises(UnsupportedReportError, match=rf"^{re.escape(str(path))}: not a {tool_id.value} report$"):
        parse_path(path, tool_id)


@pytest.mark.parametrize(("tool_id", "fixture"), OTHER_CASES)
def test_the_parser_itself_does_not_claim_another_format(tool_id: ToolId, fixture: str) -> None:
    parser, report = parser_for(tool_id), Report.from_path(str(FIXTURES / fixture))
    assert not parser.sniff(report)
    with pytest.raises(UnsupportedReportError, match=rf"^{re.escape(report.source)}: "):
        list(parser.parse(report, ParseOptions()))


@pytest.mark.parametrize("folder", COUNTED_FOLDERS)
def test_every_corpus_file_of_a_counted_folder_has_a_row(corpus: Path, folder: str) -> None:
    expected = {f"{folder}/{name}": count for name, count in manifest_expected(corpus, folder).items()}
    rows = {name: row[0] for table in CORPUS_COUNTS.values() for name, row in table.items()
            if name.startswith(f"{folder}/")}
    assert rows == expected, "a corpus file has no row in CORPUS_COUNTS, or MANIFEST changed"


@pytest.mark.parametrize(("tool_id", "name", "row"), CORPUS_CASES)
def test_corpus_sweep(corpus: Path, tool_id: ToolId, name: str, row: tuple[str, int, str]) -> None:
    _, count, why = row
    result = parse_path(corpus / name, tool_id)
    assert result.reconciliation is not None  # exact duplicates merge at parse time: counted, never lost
    counted = result.reconciliation.kept + result.reconciliation.merged
    assert (counted, result.skipped) == (count, ()), f"{name}: {why}"
