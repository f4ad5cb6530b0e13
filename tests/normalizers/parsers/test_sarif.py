"""Generic SARIF 2.1.0: real logs from many tools, schema-invalid ones included, and real tool runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from normalizers.emit.sarif import SarifOptions, emit_sarif
from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Finding,
    ImageLocation,
    PackageLocation,
    ParseResult,
    Severity,
)
from normalizers.parsers.base import ParseOptions
from normalizers.parsers.sarif import TOOL_PROFILES, profile_for
from normalizers.parsing import detect, parser_for
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import (
    manifest_expected,
    parse_bytes,
    parse_fixture,
    parse_path,
    truncated,
)

SARIF = FIXTURES / "sarif"
DC_SARIF = FIXTURES / "dependency_check" / "VulnerableJavaWebApplication_dependency-check-report.sarif"


def _code(finding: Finding) -> CodeLocation:
    assert isinstance(finding.location, CodeLocation)
    return finding.location


def _package(finding: Finding) -> PackageLocation:
    location = finding.location
    if isinstance(location, ImageLocation) and location.package:
        return location.package
    assert isinstance(location, PackageLocation)
    return location


def _by_rule(findings: tuple[Finding, ...], rule_id: str) -> Finding:
    (finding,) = [f for f in findings if f.rule_id == rule_id]
    return finding


# --- field mapping -------------------------------------------------------------------------------


def test_appendix_k_message_strings_base_ids_and_suppression() -> None:
    """The spec's own example: OASIS-schema INVALID (automationId), read all the same."""
    (finding,) = parse_fixture("sarif", "appendix_k.sarif", ToolId.SARIF).findings
    assert (finding.tool.name, finding.tool.version, finding.category) == ("CodeScanner", "2.1.0", Category.SAST)
    assert finding.rule_id == "C2001"
    assert finding.title == "A variable was used without being initialized."
    assert finding.description == (
        'Variable "ptr" was used without being initialized. It was declared [here](0).\n\n'
        "A variable was used without being initialized. This can result in runtime errors such as null reference "
        "exceptions."
    )  # the message, rendered from the rule's template and arguments, then the rule's full description

    assert (finding.severity, finding.original_severity) == (Severity.HIGH, "error")
    # SRCROOT (" src/") sits on PROJECTROOT, which versionControlProvenance maps to the repository root.
    assert _code(finding) == CodeLocation(
        "src/collections/list.h", 15, 15, 9, 10, "add_core(ptr, offset, val);\n    return;"
    )
    assert (finding.active, finding.suppression_reason) == (False, "suppressed in SARIF (external)")
    assert finding.remediation is not None and finding.remediation.text == "Initialize the variable to null"


def test_a_result_with_only_a_logical_location_is_kept_and_anchored_on_it() -> None:
    (finding,) = parse_fixture("sarif", "appendix_k3.sarif", ToolId.SARIF).findings
    assert _code(finding) == CodeLocation(".", snippet="Example.Worker.DoWork")
    assert finding.severity is Severity.MEDIUM
    assert finding.title == 'The insecure method "Crypto.Sha1.Encrypt" should not be used.'


def test_results_without_any_location_are_findings_on_the_scanned_target() -> None:
    findings = parse_fixture("sarif", "dockle_0_3_15.sarif", ToolId.SARIF).findings
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("CIS-DI-0010", Severity.HIGH),
        ("CIS-DI-0005", Severity.LOW),
        ("CIS-DI-0006", Severity.LOW),
        ("CIS-DI-0008", Severity.LOW),
    ]
    assert {(f.category, _code(f).path) for f in findings} == {(Category.IMAGE, ".")}
    assert len({f.fingerprint for f in findings}) == 4
    assert _by_rule(findings, "CIS-DI-0010").title == "Do not store credential in ENVIRONMENT vars/files"


def test_blackduck_objects_as_fingerprints_do_not_stop_the_packages_being_read() -> None:
    """OASIS-schema INVALID: fingerprints are objects. An unknown tool naming packages is SCA."""
    findings = parse_fixture("sarif", "blackduck_nested_fingerprints.sarif", ToolId.SARIF).findings
    assert len(findings) == 5 and {f.category for f in findings} == {Category.SCA}
    lodash = _by_rule(findings, "BDSA-2021-1002 (CVE-2021-23337)")
    assert lodash.vulnerability_ids == ("BDSA-2021-1002", "CVE-2021-23337")
    assert (_package(lodash).name, _package(lodash).version, _package(lodash).ecosystem) == (
        "example-util-lib", "4.17.20", "npm")
    assert (lodash.severity, lodash.cwe) == (Severity.HIGH, (78,))
    assert _by_rule(findings, "BDSA-2022-1004").severity is Severity.LOW


def test_grype_security_severity_and_package_labels() -> None:
    findings = parse_fixture("sarif", "cxf-3.4.6.sarif", ToolId.SARIF).findings
    assert len(findings) == 22 and {f.category for f in findings} == {Category.SCA}
    jackson = _by_rule(findings, "GHSA-57j2-w4cx-62h2-jackson-databind")
    assert jackson.vulnerability_ids == ("GHSA-57j2-w4cx-62h2",)
    assert _package(jackson) == PackageLocation(
        "jackson-databind", "2.11.4", manifest_path="lib/jackson-databind-2.11.4.jar", fixed_versions=("2.12.6.1",)
    )
    geronimo = _by_rule(findings, "CVE-2008-0732-geronimo-j2ee-management_1.1_spec")
    assert (geronimo.severity, geronimo.original_severity) == (Severity.LOW, "2.1")


def test_trivy_image_sarif_gives_one_identity_per_package_for_the_same_cve() -> None:
    findings = parse_fixture("sarif", "alpine-310.sarif.golden", ToolId.SARIF).findings
    cve = [f for f in findings if f.rule_id == "CVE-2019-1549"]
    assert sorted((_package(f).name, _package(f).version, _package(f).fixed_versions) for f in cve) == [
        ("libcrypto1.1", "1.1.1c-r0", ("1.1.1d-r0",)),
        ("libssl1.1", "1.1.1c-r0", ("1.1.1d-r0",)),
    ]
    assert len({f.fingerprint for f in cve}) == 2
    assert {(f.tool.name, f.category, f.severity, f.confidence) for f in findings} == {
        ("Trivy", Category.IMAGE, Severity.MEDIUM, Confidence.HIGH)
    }
    # run.properties.imageName makes these image findings, as Trivy's JSON of the same scan does
    assert {f.location.reference for f in findings if isinstance(f.location, ImageLocation)} == {
        "testdata/fixtures/images/alpine-310.tar.gz"}


def test_dependency_check_6_sarif_uses_its_own_severity_not_its_constant_level() -> None:
    findings = parse_fixture("sarif", "dependency_check.sarif", ToolId.SARIF).findings
    assert {f.original_severity for f in findings if f.cvss == ()} == {"low", "medium"}
    handlebars = _by_rule(findings, "Disallow calling helperMissing and blockHelperMissing directly")
    assert (handlebars.severity, _package(handlebars).purl) == (Severity.LOW, "pkg:javascript/handlebars@1.0.0")
    jquery = [f for f in findings if f.rule_id == "CVE-2015-9251"]
    assert {_package(f).purl for f in jquery} == {"pkg:javascript/jquery@1.8.0.min", "pkg:javascript/jquery@1.11.1"}
    assert {f.severity for f in jquery} == {Severity.MEDIUM}  # CVSS v3 6.1, although every level is "error"


def test_suppressions_follow_sarif_semantics() -> None:
    findings = parse_fixture("sarif", "suppression_test.sarif", ToolId.SARIF).findings
    assert [(f.rule_id, f.active, f.suppression_reason) for f in findings] == [
        ("TST0001", False, "suppressed in SARIF (external)"),
        ("TST0002", False, "suppressed in SARIF (external)"),
        ("TST0003", False, "suppressed in SARIF (inSource)"),
        ("TST0004", True, None),
        ("TST0005", True, None),  # an empty suppressions array suppresses nothing
    ]
    assert _code(findings[0]).path == "C:/code/file1.c"


def test_file_uris_are_made_repository_relative_and_result_cwes_read() -> None:
    findings = parse_fixture("sarif", "njsscan.sarif", ToolId.SARIF, source_root="/src").findings
    random = _by_rule(findings, "node_insecure_random_generator")
    assert (_code(random).path, _code(random).start_line, random.cwe) == ("index.js", 321, (327,))
    two_places = [f for f in findings if dict(f.properties).get("sarif.other_locations")]
    assert len(two_places) == 1  # its second location is kept, not dropped


def test_empty_runs_give_zero_findings() -> None:
    result = parse_fixture("sarif", "no_runs.sarif", ToolId.SARIF)
    assert (result.findings, result.skipped) == ((), ())


def test_tool_profiles_are_one_table_matched_by_driver_name() -> None:
    assert profile_for("Trivy") is TOOL_PROFILES["trivy"]
    assert profile_for("Checkov").category is Category.IAC  # type: ignore[union-attr]
    assert profile_for("gitleaks").category is Category.SECRETS  # type: ignore[union-attr]
    assert profile_for("CodeQL") is None


# --- schema-invalid and broken input -------------------------------------------------------------


def test_bad_records_are_skipped_with_their_place_and_the_rest_kept() -> None:
    document = json.loads((SARIF / "njsscan.sarif").read_bytes())  # derived in memory from a real log
    results = document["runs"][0]["results"]
    results += [
        "not an object",
        {"kind": "pass", "ruleId": "node_insecure_random_generator", "message": {"text": "ok"}},
        {"message": {}, "locations": []},
        {**results[0], "ruleIndex": 99, "locations": [{"physicalLocation": 7}]},
    ]
    document["runs"].append({"tool": {}, "results": [{"ruleId": "x", "message": {"text": "y"}}]})
    result = parse_bytes("broken.sarif", json.dumps(document).encode(), ToolId.SARIF)
    assert len(result.findings) == 3
    assert [(s.reason, s.record) for s in result.skipped] == [
        ("unreadable result: result is not an object", "runs[0].results[2]"),
        ("kind 'pass' is not a problem", "runs[0].results[3]"),
        ("unreadable result: result names no rule and has no message", "runs[0].results[4]"),
        ("run without tool.driver.name", "runs[1].results[0]"),
    ]
    damaged = result.findings[2]  # an out-of-range ruleIndex falls back to the ruleId; a bad location to "."
    assert (damaged.rule_id, _code(damaged).path) == ("node_insecure_random_generator", ".")


def test_a_result_may_name_its_rule_in_a_tool_extension() -> None:
    document = json.loads((SARIF / "appendix_k.sarif").read_bytes())  # derived in memory from a real log
    result = document["runs"][0]["results"][0]
    result.pop("ruleIndex")
    result.update(ruleId="S0001", rule={"index": 0, "toolComponent": {"index": 0}}, suppressions=[],
                  message={"id": "default", "arguments": ["MD5"]})
    (finding,) = parse_bytes("extension.sarif", json.dumps(document).encode(), ToolId.SARIF).findings
    assert (finding.rule_id, finding.title) == ("S0001", "Do not use weak cryptographic algorithms.")
    assert finding.description == "The cryptographic algorithm 'MD5' should not be used."
    assert (finding.severity, finding.active) == (Severity.HIGH, True)


def test_the_parser_itself_names_a_truncated_log() -> None:
    report = truncated(SARIF / "cxf-3.4.6.sarif")
    with pytest.raises(MalformedReportError, match=re.escape(report.source)):
        list(parser_for(ToolId.SARIF).parse(report, ParseOptions()))


def test_an_empty_file_is_malformed() -> None:
    with pytest.raises(MalformedReportError, match=r"empty\.sarif"):
        list(parser_for(ToolId.SARIF).parse(Report("empty.sarif", b""), ParseOptions()))


def test_a_sarif_schema_without_a_runs_list_is_malformed() -> None:
    raw = json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0"}).encode()
    with pytest.raises(MalformedReportError, match=r"no-runs-list\.sarif"):
        list(parser_for(ToolId.SARIF).parse(Report("no-runs-list.sarif", raw), ParseOptions()))


def test_other_formats_and_other_sarif_versions_are_unsupported() -> None:
    sarif = parser_for(ToolId.SARIF)
    dc_json = FIXTURES / "dependency_check" / "VulnerableJavaWebApplication_dependency-check-report.json"
    dc_xml = dc_json.with_suffix(".xml")
    for path in (dc_json, dc_xml):
        assert not sarif.sniff(Report.from_path(str(path)))
        with pytest.raises(UnsupportedReportError, match=re.escape(path.name)):
            list(sarif.parse(Report.from_path(str(path)), ParseOptions()))
    old = json.loads((SARIF / "no_runs.sarif").read_bytes()) | {"version": "1.0.0"}
    with pytest.raises(UnsupportedReportError, match=re.escape("SARIF version '1.0.0'")):
        list(sarif.parse(Report("v1.sarif", json.dumps(old).encode()), ParseOptions()))


def test_sniffing_needs_a_sarif_schema_or_version_2_1_0_with_runs() -> None:
    sarif = parser_for(ToolId.SARIF)
    assert sarif.sniff(Report.from_path(str(SARIF / "appendix_k3.sarif")))  # no $schema, version and runs
    assert sarif.sniff(Report.from_path(str(DC_SARIF)))
    assert not sarif.sniff(Report("x.json", b'{"version": "2.1.0", "runs": {}}'))
    assert not sarif.sniff(Report("x.json", b"[1, 2]"))


def test_registry_detection_falls_back_to_sarif_by_content() -> None:
    for path in (SARIF / "cxf-3.4.6.sarif", DC_SARIF, SARIF / "appendix_k3.sarif"):
        assert detect(Report("upload.bin", path.read_bytes())).tool_id is ToolId.SARIF


# --- golden snapshots ---------------------------------------------------------------------------


# --- the whole corpus ---------------------------------------------------------------------------

# DefectDojo's count (MANIFEST expected_findings) where Tollgate's differs, and why, in one line each.
COUNT_DIFFERENCES = {
    "mobsfscan.json": (9, "DefectDojo makes one finding per location (18); Tollgate one per result, extra places kept"),
    "njsscan.sarif": (2, "DefectDojo makes one finding per location (3); Tollgate one per result, extra places kept"),
}


def _sarif_files(corpus: Path) -> list[tuple[Path, str]]:
    rows = (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    fields = [row.split("\t") for row in rows]
    return [(corpus / f[0] / f[1], f[7]) for f in fields if f[5] == "sarif"]


def test_corpus_sweep_every_sarif_file_normalizes(corpus: Path) -> None:
    files = _sarif_files(corpus)
    assert len(files) >= 24
    for path, expected in files:
        result = parse_path(path, ToolId.SARIF)  # any error here is a traceback: the sweep fails
        assert result.skipped == (), (path.name, result.skipped[:3])
        assert all(f.fingerprint for f in result.findings), path.name
        reported = _reported(result)
        count, why = COUNT_DIFFERENCES.get(path.name, (reported, ""))
        assert reported == count, path.name
        if expected.isdigit() and not why:
            assert reported == int(expected), path.name


def _reported(result: ParseResult) -> int:
    """Every result read: the kept findings plus the exact duplicates merged into them (counted, not lost)."""
    reconciliation = result.reconciliation
    assert reconciliation is not None
    assert reconciliation.raw == reconciliation.kept + reconciliation.merged + reconciliation.skipped
    assert reconciliation.kept == len(result.findings)
    return reconciliation.kept + reconciliation.merged


def test_corpus_sarif_folder_matches_defectdojo_counts(corpus: Path) -> None:
    expected = manifest_expected(corpus, "sarif")
    compared = 0
    for name, count in expected.items():
        if not count.isdigit() or name in COUNT_DIFFERENCES:
            continue
        assert _reported(parse_path(corpus / "sarif" / name, ToolId.SARIF)) == int(count), name
        compared += 1
    assert compared >= 12


def test_gitleaks_7_results_without_a_rule_id_are_secrets_named_by_their_message(corpus: Path) -> None:
    result = parse_path(corpus / "sarif" / "gitleaks_7.5.0.sarif", ToolId.SARIF)
    findings = result.findings
    # 8 results, each written twice: 4 findings and 4 counted exact duplicates
    assert len(findings) == 4 and result.reconciliation is not None and result.reconciliation.merged == 4
    assert {f.category for f in findings} == {Category.SECRETS}
    assert "AWS Access Key secret detected" in {f.rule_id for f in findings}


# --- real tools, run here ----------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[scanners]')")
    return found


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "run.py").write_text("import subprocess\n\n\ndef run(c):\n    return subprocess.call(c, shell=True)\n")
    (project / "Dockerfile").write_text("FROM ubuntu:latest\nRUN apt-get install -y curl\nUSER root\n")
    # A made-up token in GitHub's format, assembled here so no secret-like literal sits in the repository.
    (project / "deploy.yml").write_text("github_token: " + "ghp" + "_" + "A1b2C3d4E5f6G7h8I9j0" * 2 + "\n")
    return project


def _run(argv: list[str], cwd: Path, home: Path) -> None:
    completed = subprocess.run(argv, cwd=cwd, env={**os.environ, "HOME": str(home)}, capture_output=True,
                               timeout=300, check=False)
    assert completed.returncode in (0, 1), completed.stderr.decode(errors="replace")[-2000:]


@pytest.mark.slow
def test_real_bandit_hadolint_and_trivy_sarif_get_their_categories(tmp_path: Path) -> None:
    project = _project(tmp_path)
    logs = {name: tmp_path / f"{name}.sarif" for name in ("bandit", "hadolint", "trivy-config", "trivy-secret")}
    _run([_tool("bandit"), "-r", ".", "-f", "sarif", "-o", str(logs["bandit"]), "-q"], project, tmp_path)
    hadolint = subprocess.run([_tool("hadolint"), "-f", "sarif", "Dockerfile"], cwd=project, capture_output=True,
                              timeout=120, check=False)
    logs["hadolint"].write_bytes(hadolint.stdout)
    trivy = _tool("trivy")
    _run([trivy, "config", "--skip-check-update", "-f", "sarif", "-o", str(logs["trivy-config"]), str(project)],
         project, tmp_path)
    _run([trivy, "fs", "--skip-db-update", "--scanners", "secret", "-f", "sarif", "-o", str(logs["trivy-secret"]),
          str(project)], project, tmp_path)
    parsed = {name: parse_path(path, ToolId.SARIF, source_root=str(project)).findings for name, path in logs.items()}

    shell = _by_rule(parsed["bandit"], "B602")
    assert (shell.category, shell.severity, shell.confidence) == (Category.SAST, Severity.HIGH, Confidence.HIGH)
    assert (_code(shell).path, _code(shell).start_line) == ("run.py", 5)
    assert _code(shell).snippet == "    return subprocess.call(c, shell=True)\n"
    latest = _by_rule(parsed["hadolint"], "DL3007")
    assert (latest.category, _code(latest).path, _code(latest).start_line) == (Category.IAC, "Dockerfile", 1)
    root_user = _by_rule(parsed["trivy-config"], "DS-0002")
    assert (root_user.category, root_user.severity) == (Category.IAC, Severity.HIGH)
    assert _code(root_user).path == "Dockerfile"
    (token,) = parsed["trivy-secret"]
    assert (token.category, token.severity, _code(token).path) == (Category.SECRETS, Severity.CRITICAL, "deploy.yml")


def test_tollgates_own_sarif_read_again_keeps_its_identity() -> None:
    """A baseline or an earlier run in Tollgate's SARIF matches on the identity it carries, not on lines."""
    first = parse_fixture("merge", "vulnerable-app/bandit.sarif", ToolId.SARIF).findings
    (document,) = emit_sarif(first, SarifOptions()).documents
    again = parse_bytes("tollgate.sarif", json.dumps(document).encode(), ToolId.SARIF).findings
    assert {f.fingerprint for f in again} == {f.fingerprint for f in first}


def test_a_result_absent_from_its_run_is_a_counted_skip() -> None:
    document = json.loads((FIXTURES / "merge" / "vulnerable-app" / "bandit.sarif").read_bytes())
    document["runs"][0]["results"][0]["baselineState"] = "absent"
    result = parse_bytes("absent.sarif", json.dumps(document).encode(), ToolId.SARIF)
    assert [s.reason for s in result.skipped] == ["baselineState 'absent': gone from this run"]
