"""ASFF from Trivy, Inspector, GuardDuty, Security Hub/Config and Prowler: fields, states, wrappers and errors."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pytest

from normalizers.errors import NormalizerError, UnsupportedReportError
from normalizers.model import (
    Category,
    CodeLocation,
    Cvss,
    Finding,
    HostLocation,
    ImageLocation,
    PackageLocation,
    ParseResult,
    Severity,
    Skipped,
)
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report, parser_for
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests import conftest
from tests.normalizers.parsers.helpers import assert_never_crashes

FIXTURES = conftest.FIXTURES / "asff"
TRIVY_FIXTURES = conftest.FIXTURES / "trivy"
ASFF = parser_for(ToolId.ASFF)


def parse(name: str) -> ParseResult:
    return parse_report(Report.from_path(str(FIXTURES / name)), ParseOptions(), tool_id=ToolId.ASFF)


def parse_document(document: Any, source: str = "altered.json") -> ParseResult:
    return parse_report(Report(source, orjson.dumps(document)), ParseOptions(), tool_id=ToolId.ASFF)


def load(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


def test_an_inspector_cve_on_an_ec2_instance_is_a_host_vulnerability() -> None:
    (finding,) = parse("one_vuln.json").findings  # a bare list

    assert (finding.tool.name, finding.category) == ("inspector", Category.HOST)
    assert finding.rule_id == "CVE-2017-9735"
    assert finding.vulnerability_ids == ("CVE-2017-9735",)
    assert (finding.severity, finding.original_severity) == (Severity.HIGH, "HIGH")
    arn = "arn:aws:ec2:eu-west-1:123456789123:instance/i-0sdg8sa1k2l3j11m2"
    assert finding.location == HostLocation(host=arn, instance_id=arn, group="AwsEc2Instance")
    assert finding.cvss == (  # the repeated NVD v3.1 entry is kept once
        Cvss("2.0", 5.0, "AV:N/AC:L/Au:N/C:P/I:N/A:N", "NVD"),
        Cvss("3.1", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "NVD"),
    )
    assert "https://nvd.nist.gov/vuln/detail/CVE-2017-9735" in finding.references
    properties = dict(finding.properties)
    assert properties["vulnerable_packages"] == "org.eclipse.jetty:jetty-util 8.1.14.v20131031"
    assert properties["asff_id"] == "arn:aws:inspector2:eu-west-1:123456789123:finding/e7dd7a6979b7ce39de463533b1e6cd44"
    assert properties["aws_account_id"] == "123456789123"


def test_trivys_own_asff_maps_to_the_same_image_packages_as_its_json() -> None:
    result = parse("alpine-310.asff.golden")
    libssl = [f for f in result.findings if f.rule_id == "CVE-2019-1551"
              and isinstance(f.location, ImageLocation) and f.location.package
              and f.location.package.name == "libssl1.1"]

    assert len(libssl) == 1
    assert libssl[0].category is Category.IMAGE
    assert libssl[0].tool.name == "trivy"
    assert libssl[0].location == ImageLocation(
        reference="testdata/fixtures/images/alpine-310.tar.gz",  # the Container ImageName without `(alpine 3.10.2)`
        package=PackageLocation("libssl1.1", "1.1.1c-r0", fixed_versions=("1.1.1d-r2",)),
    )
    assert libssl[0].cvss[0] == Cvss("3.1", 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", "nvd")
    json_scan = parse_report(Report.from_path(str(TRIVY_FIXTURES / "alpine-310.json.golden")), ParseOptions(),
                             tool_id=ToolId.TRIVY)

    def pairs(findings: tuple[Finding, ...]) -> set[tuple[str, str]]:
        return {(f.rule_id, f.location.package.name) for f in findings
                if isinstance(f.location, ImageLocation) and f.location.package}

    assert pairs(result.findings) == pairs(json_scan.findings)
    assert len({f.fingerprint for f in result.findings}) == 4  # Trivy's own Ids: only 2 distinct


def test_trivys_asff_misconfigurations_and_secrets_are_iac_and_secrets_in_files() -> None:
    result = parse("trivy-0.76-fs.asff.json")

    bucket = [f for f in result.findings if f.rule_id == "AWS-0086"]  # GeneratorId `Trivy/AWS-0086`
    assert [f.location for f in bucket] == [CodeLocation("infra/main.tf", 1, 3)]
    assert bucket[0].category is Category.IAC
    secrets = sorted(f.rule_id for f in result.findings if f.category is Category.SECRETS)
    assert secrets == [  # GeneratorId is only `Trivy`: the Title names the secret
        "Trivy found a secret in Dockerfile: GitHub Personal Access Token",
        "Trivy found a secret in deploy.sh: AWS Access Key ID",
        "Trivy found a secret in deploy.sh: AWS Secret Access Key",
    ]
    json_scan = parse_report(Report.from_path(str(TRIVY_FIXTURES / "trivy-0.76-fs-misconfig-secrets.json")),
                             ParseOptions(), tool_id=ToolId.TRIVY)
    iac_rules = sorted(f.rule_id for f in result.findings if f.category is Category.IAC)
    assert iac_rules == sorted(f.rule_id for f in json_scan.findings if f.category is Category.IAC)
    assert len({f.fingerprint for f in result.findings}) == len(result.findings) == 16


def test_guardduty_findings_are_host_detections_named_by_their_type() -> None:
    result = parse("guardduty.json")  # {"Findings": [...]}
    portscan = [f for f in result.findings if f.rule_id == "Recon:EC2-Portscan"]

    assert len(portscan) == 1
    assert (portscan[0].tool.name, portscan[0].category, portscan[0].severity) == ("guardduty", Category.HOST,
                                                                                  Severity.MEDIUM)
    assert portscan[0].location == HostLocation(
        host="arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890",
        instance_id="arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890",
        group="AwsEc2Instance",
    )
    assert portscan[0].references[-1].startswith("https://us-east-1.console.aws.amazon.com/guardduty/")
    (behavior,) = parse("guardduty-unusual-behaviors.json").findings
    assert (behavior.rule_id, behavior.category) == ("Persistence:IAMUser-NetworkPermissions", Category.HOST)


def test_a_passed_control_is_kept_inactive_and_a_failed_one_lists_its_other_resources() -> None:
    (passed,) = parse("config_one_finding.json").findings  # {"findings": [...]}
    assert passed.rule_id == "aws-foundational-security-best-practices/v/1.0.0/IAM.5"
    assert (passed.category, passed.severity, passed.original_severity) == (Category.IAC, Severity.INFO,
                                                                            "INFORMATIONAL")
    assert (passed.active, passed.suppression_reason) == (False, "compliance check PASSED")
    assert passed.location == HostLocation(  # not an ARN: qualified by the resource's region
        host="AWS::::Account:012345678912", instance_id="us-east-1/AWS::::Account:012345678912", group="AwsAccount"
    )

    security_group = parse("config_multiple_resources.json").findings[0]
    assert security_group.active
    assert security_group.location.host == "arn:aws:ec2:us-east-1:012345678912:security-group/sg-0fff2222bbbb1111a"  # type: ignore[union-attr]
    assert dict(security_group.properties)["other_resources"] == (
        "arn:aws:ec2:us-east-1:012345678912:security-group/sg-0aaa1111cccc2222b, "
        "arn:aws:ec2:us-east-1:012345678912:vpc/vpc-0bbb3333dddd4444c"
    )


def test_a_finding_without_an_account_is_still_a_finding_to_republish() -> None:
    (finding,) = parse("missing_account_id.json").findings

    assert finding.rule_id == "CVE-2024-1234"
    assert "aws_account_id" not in dict(finding.properties)
    assert dict(finding.properties)["asff_id"] == "arn:aws:inspector2:us-east-1:1234567:finding/12344bc"
    # the vector is not a real CVSS version (CVSS:9.1); the stated version and score are kept
    assert finding.cvss == (Cvss("3.1", 7.5, "CVSS:9.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "NVD"),)
    assert finding.location == HostLocation("i-1234xxyy", "us-east-1/i-1234xxyy", group="AwsEc2Instance")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"RecordState": "ARCHIVED"}, "archived in Security Hub (RecordState ARCHIVED)"),
        ({"Workflow": {"Status": "SUPPRESSED"}}, "workflow status SUPPRESSED in Security Hub"),
        ({"Workflow": {"Status": "RESOLVED"}}, "workflow status RESOLVED in Security Hub"),
        ({"Workflow": {"Status": "NOTIFIED"}}, None),
    ],
)
def test_archived_resolved_and_suppressed_findings_are_inactive(change: dict[str, Any], reason: str | None) -> None:
    document = load("one_vuln.json")  # a real finding; only its state is changed here
    document[0].update(change)
    (finding,) = parse_document(document).findings
    assert (finding.active, finding.suppression_reason) == (reason is None, reason)


def test_severity_falls_back_to_the_normalized_score_then_the_provider_fields() -> None:
    document = load("inspector_ec2_cve.json")  # real findings; only their severity is changed here
    del document["Findings"][0]["Severity"]["Label"]  # Normalized 90 remains
    document["Findings"][1]["Severity"] = {"Normalized": 45}
    del document["Findings"][2]["Severity"]  # FindingProviderFields.Severity.Label remains
    # Each alone: the parse merges exact duplicates, and these differ only in what was changed here.
    findings = [parse_document({**document, "Findings": [record]}).findings[0] for record in document["Findings"][:3]]
    assert [(f.severity, f.original_severity) for f in findings] == [
        (Severity.CRITICAL, "Normalized 90"), (Severity.MEDIUM, "Normalized 45"),
        (Severity.CRITICAL, "CRITICAL"),
    ]


def test_records_without_title_resources_or_severity_are_skipped_with_the_reason() -> None:
    document = load("guardduty.json")  # real findings with a required field removed here
    del document["Findings"][0]["Title"]
    document["Findings"][1]["Resources"] = []
    del document["Findings"][2]["Severity"]
    del document["Findings"][2]["FindingProviderFields"]
    result = parse_document(document)
    assert result.skipped == (
        Skipped("asff", "missing or empty required field 'Title'", "Findings[0]"),
        Skipped("asff", "missing or empty required field 'Resources'", "Findings[1]"),
        Skipped("asff", "missing or empty required field 'Severity'", "Findings[2]"),
    )
    assert len(result.findings) == 1


@pytest.mark.parametrize("raw", [b'{"Findings": []}', b'{"findings": [], "NextToken": null}', b"[]"])
def test_an_empty_batch_has_no_findings(raw: bytes) -> None:
    report = Report("empty-batch.json", raw)
    assert ASFF.sniff(report)
    assert parse_report(report, ParseOptions(), tool_id=ToolId.ASFF).findings == ()


def test_another_format_is_refused_by_name() -> None:
    trivy_json = Report.from_path(str(TRIVY_FIXTURES / "alpine-310.json.golden"))
    assert not ASFF.sniff(trivy_json)
    with pytest.raises(UnsupportedReportError, match=r"alpine-310\.json\.golden: not ASFF"):
        list(ASFF.parse(trivy_json, ParseOptions()))
    # a wrapper with other keys is some other tool's `findings`, not a Security Hub batch
    other = Report("other.json", b'{"findings": [], "version": "2.1"}')
    assert not ASFF.sniff(other)


def test_prowler_checks_per_region_keep_their_region_and_passed_checks_are_inactive(corpus: Path) -> None:
    report = Report.from_path(str(corpus / "asff" / "prowler-output.asff.json"))
    result = parse_report(report, ParseOptions(), tool_id=ToolId.ASFF)

    assert result.reconciliation is not None  # exact duplicates merge at parse time, counted, never lost
    assert result.reconciliation.raw == len(result.findings) + result.reconciliation.merged == 731
    # 441 records are Compliance.Status PASSED; three of them share their Id with a FAILED record, and the
    # merge keeps the active one (a pass never hides a failure)
    assert sum(not f.active for f in result.findings) == 438
    assert {f.tool.name for f in result.findings} == {"prowler"}
    analyzer = [f for f in result.findings if f.rule_id == "prowler-accessanalyzer_enabled"]
    assert len({f.fingerprint for f in analyzer}) == len(analyzer) == 17
    # Prowler itself gives 3 pairs one Id (a PASS and a FAIL for one user and check); so does Tollgate
    assert len({f.fingerprint for f in result.findings}) == 728


# DefectDojo's counts (MANIFEST.tsv expected_findings) as an independent oracle: Tollgate agrees on every file.
# inspector_ec2_cve.json: 5 findings, but 4 of them are one CVE on one instance of the anonymised account
# `XXXXXXXXXXXX` and share an identity (so dedupe makes 2 problems of them).
def test_finding_counts_agree_with_defectdojo(corpus: Path) -> None:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t")
                if r["tool"] in ("asff", "awssecurityhub") and r["expected_findings"]]
    assert len(rows) == 9
    for row in rows:
        report = Report.from_path(str(corpus / row["tool"] / row["file"]))
        result = parse_report(report, ParseOptions(), tool_id=ToolId.ASFF)
        assert result.reconciliation is not None
        counted = len(result.findings) + result.reconciliation.merged  # exact duplicates merge, counted
        assert counted == int(row["expected_findings"]), row["file"]
    inspector = parse_report(Report.from_path(str(corpus / "awssecurityhub" / "inspector_ec2_cve.json")),
                             ParseOptions(), tool_id=ToolId.ASFF)
    assert len({f.fingerprint for f in inspector.findings}) == 2


def test_corpus_sweep_every_asff_file_normalizes_without_skips(corpus: Path) -> None:
    paths = [*(corpus / "asff").rglob("*.json"), *(corpus / "awssecurityhub").iterdir(),
             *(corpus / "trivy").glob("*.asff.golden")]
    assert len(paths) == 12
    for path in paths:
        report = Report.from_path(str(path))
        assert ASFF.sniff(report), path
        result = parse_report(report, ParseOptions(), tool_id=ToolId.ASFF)
        assert result.findings and not result.skipped, path


def test_corpus_sweep_other_formats_are_refused_clearly(corpus: Path) -> None:
    for path in sorted((corpus / "trivy").iterdir()):
        report = Report.from_path(str(path))
        if ASFF.sniff(report):
            continue
        with pytest.raises(NormalizerError) as refused:
            list(ASFF.parse(report, ParseOptions()))
        assert str(refused.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    "name", ["one_vuln.json", "guardduty.json", "inspector_ec2_cve.json", "alpine-310.asff.golden",
             "trivy-0.76-fs.asff.json", "config_multiple_resources.json"],
)
def test_wrong_typed_fields_never_crash(name: str) -> None:
    refused = assert_never_crashes(ASFF, (FIXTURES / name).read_bytes(), rounds=40, seed=2026)
    assert refused < 40  # most corruptions still parse: a bad record is Skipped, not the whole report
