"""ASFF emitter (docs/design.md): botocore-validated, scoped Ids, resources, limits, snapshot."""

from __future__ import annotations

import dataclasses
from typing import Any

import botocore.loaders
import botocore.model
import orjson
import pytest

from normalizers.asff_validator import validate_batch, validate_finding
from normalizers.emit import asff
from normalizers.emit.asff import (
    MAX_FINDING_BYTES,
    PARTITION_REGION_PATTERNS,
    RESOURCE_PARTITIONS,
    TYPES_BY_CATEGORY,
    AsffContext,
    emit_asff,
    partition_for_region,
    product_arn,
    rfc3339,
)
from normalizers.identity import fingerprint
from normalizers.model import Category, CodeLocation, Finding, PackageLocation, Scope, Severity, Tool
from tests.normalizers.helpers import NOW, SCOPE, all_findings
from tests.snapshot import assert_snapshot

ACCOUNT = "123456789012"
CONTEXT = AsffContext(ACCOUNT, "eu-west-1", SCOPE, now=NOW)


@pytest.fixture(scope="module")
def emitted() -> dict[str, dict[str, Any]]:
    emission = emit_asff(all_findings(), CONTEXT)
    assert emission.warnings == ()
    return {finding["GeneratorId"].split("/", 2)[2]: finding for finding in emission.findings}


def test_every_factory_finding_passes_the_validator(emitted: dict[str, dict[str, Any]]) -> None:
    assert len(emitted) == len(all_findings())
    assert validate_batch(list(emitted.values())) == []


def test_required_fields_and_provider_fields(emitted: dict[str, dict[str, Any]]) -> None:
    finding = emitted["CVE-2024-29041"]
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["ProductArn"] == f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default"
    assert finding["AwsAccountId"] == ACCOUNT
    assert finding["GeneratorId"] == "tollgate/trivy/CVE-2024-29041"
    assert finding["CreatedAt"] == finding["UpdatedAt"] == NOW
    assert finding["Severity"] == {"Label": "MEDIUM", "Original": "MEDIUM"}
    assert finding["FindingProviderFields"] == {"Severity": finding["Severity"], "Types": finding["Types"]}
    assert finding["Types"] == ["Software and Configuration Checks/Vulnerabilities/CVE"]
    assert finding["RecordState"] == "ACTIVE"
    assert finding["Id"] == f"tollgate/octo-org/webshop/sca/{all_findings()[1].fingerprint}"


@pytest.mark.parametrize(("rule", "label"), [
    ("CVE-2022-42889", "CRITICAL"), ("GHSA-9wv6-86v2-598j", "HIGH"), ("csrf", "MEDIUM"), ("SSH-7408", "LOW"),
    ("10036", "INFORMATIONAL"),
])
def test_severity_labels(emitted: dict[str, dict[str, Any]], rule: str, label: str) -> None:
    assert emitted[rule]["Severity"]["Label"] == label


@pytest.mark.parametrize(("rule", "types"), [
    ("CVE-2023-0286", ["Software and Configuration Checks/Vulnerabilities/CVE"]),
    ("GHSA-9wv6-86v2-598j", ["Software and Configuration Checks/Vulnerabilities"]),
    ("B602", ["Software and Configuration Checks/Vulnerabilities/CWE"]),
    ("40012", ["Software and Configuration Checks/Vulnerabilities/CWE"]),
    ("CKV_AWS_18", ["Software and Configuration Checks/Industry and Regulatory Standards"]),
    ("Secret Keyword", ["Sensitive Data Identifications/Passwords"]),
    ("typosquat", ["TTPs/Initial Access/Supply Chain Compromise"]),
    ("SSH-7408", ["Software and Configuration Checks/Industry and Regulatory Standards"]),
    ("CVE-2021-44228", ["Software and Configuration Checks/Vulnerabilities/CVE",
                        "Software and Configuration Checks/Industry and Regulatory Standards"]),
])
def test_types_by_category(emitted: dict[str, dict[str, Any]], rule: str, types: list[str]) -> None:
    assert emitted[rule]["Types"] == types


def test_every_category_has_types_the_validator_accepts() -> None:
    assert set(TYPES_BY_CATEGORY) == set(Category)
    for category in Category:
        finding = Finding(Tool("t", category), "R1", "t", Severity.LOW, CodeLocation("a.py", 1))
        document = emit_asff([finding], CONTEXT).findings[0]
        assert validate_finding(document) == [], category


def test_titles_and_descriptions_are_bounded_and_never_empty(emitted: dict[str, dict[str, Any]]) -> None:
    long_one = emitted["java:S2068"]
    assert len(long_one["Title"]) == 256 and long_one["Title"].endswith("…")
    assert len(long_one["Description"]) == 1024
    assert emitted["AVD-DS-0002"]["Description"].startswith("Running containers")
    assert emitted["aws-access-key-id"]["Description"] == "AWS Access Key ID"  # no description: the title


def test_package_finding_resource_and_vulnerability(emitted: dict[str, dict[str, Any]]) -> None:
    finding = emitted["CVE-2024-29041"]
    (resource,) = finding["Resources"]
    assert resource["Type"] == "CodeRepository" and resource["Id"] == "octo-org/webshop"
    assert resource["Details"]["CodeRepository"] == {"ProviderType": "GITHUB", "ProjectName": "octo-org/webshop"}
    assert resource["Details"]["Other"]["ManifestPath"] == "package-lock.json"
    assert resource["Partition"] == "aws" and resource["Region"] == "eu-west-1"
    (vulnerability,) = finding["Vulnerabilities"]
    assert vulnerability["Id"] == "CVE-2024-29041"
    assert vulnerability["RelatedVulnerabilities"] == ["GHSA-rv95-896h-c2vc"]
    assert vulnerability["VulnerablePackages"] == [{
        "Name": "express", "Version": "4.18.2", "FixedInVersion": "4.19.2, 5.0.0-beta.3",
        "PackageManager": "npm", "FilePath": "package-lock.json",
    }]
    assert vulnerability["FixAvailable"] == "YES"
    assert vulnerability["Cvss"] == [{"Version": "3.1", "BaseScore": 6.1, "Source": "ghsa",
                                      "BaseVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}]
    assert vulnerability["Vendor"]["Name"] == "NVD"
    assert finding["Remediation"]["Recommendation"] == {
        "Text": "Upgrade express to 4.19.2 or later.", "Url": "https://github.com/advisories/GHSA-rv95-896h-c2vc"}
    assert finding["ProductFields"]["tollgate/ConfirmedBy"] == "dependency-check"


def test_ghsa_only_finding_names_the_github_advisory_database(emitted: dict[str, dict[str, Any]]) -> None:
    vulnerability = emitted["GHSA-9wv6-86v2-598j"]["Vulnerabilities"][0]
    assert vulnerability["Vendor"]["Url"] == "https://github.com/advisories/GHSA-9wv6-86v2-598j"
    assert vulnerability["FixAvailable"] == "NO"


def test_ecr_image_is_an_ecr_container_image(emitted: dict[str, dict[str, Any]]) -> None:
    (resource,) = emitted["CVE-2023-0286"]["Resources"]
    assert resource["Type"] == "AwsEcrContainerImage"
    digest = "sha256:0f3c1d2e4b5a69788796a5b4c3d2e1f00f3c1d2e4b5a69788796a5b4c3d2e1f0"
    assert resource["Id"] == f"arn:aws:ecr:eu-west-1:123456789012:repository/webshop/api/{digest}"
    assert resource["Details"]["AwsEcrContainerImage"] == {
        "RegistryId": "123456789012", "RepositoryName": "webshop/api", "ImageDigest": digest, "ImageTags": ["1.4.2"]}


def test_other_images_are_containers_and_inactive_findings_are_archived(emitted: dict[str, dict[str, Any]]) -> None:
    finding = emitted["CVE-2023-29491"]
    (resource,) = finding["Resources"]
    assert (resource["Type"], resource["Id"]) == ("Container", "nginx:1.25.3")
    assert resource["Details"]["Container"] == {"ImageName": "nginx:1.25.3"}
    assert finding["RecordState"] == "ARCHIVED"
    assert finding["ProductFields"]["tollgate/SuppressionReason"] == "listed in .trivyignore: no fix in Debian 12"
    assert "Workflow" not in finding


def test_hosts_are_ec2_instances_when_the_instance_is_known(emitted: dict[str, dict[str, Any]]) -> None:
    (instance,) = emitted["AUTH-9286"]["Resources"]
    assert (instance["Type"], instance["Id"]) == (
        "AwsEc2Instance", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0a1b2c3d4e5f60718")
    (host,) = emitted["SSH-7408"]["Resources"]
    assert (host["Type"], host["Id"]) == ("Other", "web-01")
    assert host["Details"]["Other"]["TestId"] == "SSH-7408"


def test_url_findings_are_the_target_without_query(emitted: dict[str, dict[str, Any]]) -> None:
    (resource,) = emitted["40012"]["Resources"]
    assert (resource["Type"], resource["Id"]) == ("Other", "https://staging.webshop.example/search")
    other = resource["Details"]["Other"]
    assert other["Url"] == "https://staging.webshop.example/search?q=shoes&page=2"
    assert (other["Method"], other["Parameter"]) == ("GET", "q")
    assert emitted["40012"]["ProductFields"]["tollgate/property/zap.pluginId"] == "40012"


def test_sast_findings_carry_code_vulnerabilities(emitted: dict[str, dict[str, Any]]) -> None:
    (vulnerability,) = emitted["B602"]["Vulnerabilities"]
    assert vulnerability == {"Id": "B602", "CodeVulnerabilities": [{
        "FilePath": {"FilePath": "./src/my app/run.py", "FileName": "run.py", "StartLine": 17, "EndLine": 17},
        "Cwes": ["CWE-78"]}]}


def test_two_repositories_never_share_an_id() -> None:
    findings = all_findings()
    ids = {}
    for scope in (SCOPE, Scope("octo-org/storefront"), Scope("octo-org/webshop", environment="staging")):
        emitted = emit_asff(findings, dataclasses.replace(CONTEXT, scope=scope)).findings
        ids[scope] = {finding["Id"] for finding in emitted}
        assert len(ids[scope]) == len(findings)
    first, second, third = ids.values()
    assert not first & second and not first & third and not second & third


def test_ids_are_stable_across_runs_and_branches() -> None:
    later = AsffContext(ACCOUNT, "eu-west-1", dataclasses.replace(SCOPE, branch="dev", commit="0" * 40),
                        now="2026-12-01T00:00:00Z")
    before = [f["Id"] for f in emit_asff(all_findings(), CONTEXT).findings]
    after = [f["Id"] for f in emit_asff(all_findings(), later).findings]
    assert before == after


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"),
    ("eu-central-2", "aws"),
    ("il-central-1", "aws"),
    ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"),
    ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"),
    ("us-isob-east-1", "aws-iso-b"),
    ("eu-isoe-west-1", "aws-iso-e"),
    ("us-isof-south-1", "aws-iso-f"),
    ("eusc-de-east-1", "aws-eusc"),
])
def test_partition_for_region(region: str, partition: str) -> None:
    assert partition_for_region(region) == partition
    assert product_arn(ACCOUNT, region).startswith(f"arn:{partition}:securityhub:{region}:")


def test_partition_table_matches_botocore() -> None:
    partitions = botocore.loaders.Loader().load_data("partitions")["partitions"]
    assert {p["id"] for p in partitions} == {"aws"} | {name for name, _ in PARTITION_REGION_PATTERNS}
    patterns = dict(PARTITION_REGION_PATTERNS)
    for partition in partitions:
        if partition["id"] != "aws":
            assert patterns[partition["id"]].pattern == partition["regionRegex"]
        for region in partition["regions"]:
            if not region.endswith("-global"):
                assert partition_for_region(region) == partition["id"], region


def test_resource_partitions_are_in_botocores_enum() -> None:
    model = botocore.model.ServiceModel(botocore.loaders.Loader().load_service_model("securityhub", "service-2"))
    assert set(RESOURCE_PARTITIONS) <= set(model.shape_for("Partition").enum)


def test_china_region_findings_use_the_china_partition() -> None:
    context = AsffContext(ACCOUNT, "cn-north-1", SCOPE, now=NOW)
    findings = emit_asff(all_findings(), context).findings
    expected = f"arn:aws-cn:securityhub:cn-north-1:{ACCOUNT}:product/{ACCOUNT}/default"
    assert {f["ProductArn"] for f in findings} == {expected}
    assert validate_batch(list(findings)) == []


@pytest.mark.parametrize(("given", "expected"), [
    ("2026-01-01T02:00:00+02:00", "2026-01-01T00:00:00.000Z"),
    ("2026-11-22T10:15:30.123456789Z", "2026-11-22T10:15:30.123Z"),
    ("2026-11-22T10:15:30z", "2026-11-22T10:15:30.000Z"),
])
def test_timestamps_are_utc_with_z(given: str, expected: str) -> None:
    assert rfc3339(given) == expected


def test_a_timestamp_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        rfc3339("2026-01-01T00:00:00")


def test_the_wall_clock_is_used_without_now() -> None:
    finding = emit_asff(all_findings()[:1], AsffContext(ACCOUNT, "us-east-1", SCOPE)).findings[0]
    assert finding["CreatedAt"].endswith("Z") and finding["CreatedAt"] > "2024"
    assert validate_finding(finding) == []


def _package_finding(**changes: Any) -> Finding:
    base = Finding(Tool("trivy", Category.SCA), "CVE-2024-0001", "vulnerable package", Severity.HIGH,
                   PackageLocation("pkg", "1.0", manifest_path="go.sum"), vulnerability_ids=("CVE-2024-0001",))
    return dataclasses.replace(base, **changes)


def test_a_300_kb_description_shrinks_under_240_kb() -> None:
    emission = emit_asff([_package_finding(description="x" * 300_000)], CONTEXT)
    (finding,) = emission.findings
    assert len(finding["Description"]) == 1024
    assert len(orjson.dumps(finding)) < MAX_FINDING_BYTES
    assert validate_finding(finding) == []


def test_multibyte_text_over_240_kb_is_shortened_with_a_warning() -> None:
    wide = "脆弱性" * 700  # 3 bytes per character in UTF-8
    finding = _package_finding(
        description=wide, references=tuple(f"https://example.com/{i}/{wide}" for i in range(20)),
        properties=tuple((f"note{i}", wide) for i in range(40)),
    )
    emission = emit_asff([finding], CONTEXT)
    (document,) = emission.findings
    assert len(orjson.dumps(document)) <= MAX_FINDING_BYTES
    assert validate_finding(document) == []
    (warning,) = emission.warnings
    assert warning.startswith(f"ASFF finding {document['Id']}: ") and "over the 245760-byte limit" in warning
    assert "tollgate/Tool" in document["ProductFields"]  # the core fields survive


def test_more_than_50_product_fields_are_cut_with_a_warning() -> None:
    finding = _package_finding(properties=tuple((f"k{i}", "v") for i in range(60)))
    emission = emit_asff([finding], CONTEXT)
    assert len(emission.findings[0]["ProductFields"]) == 50
    assert "tool properties left out of ProductFields" in emission.warnings[0]
    assert validate_finding(emission.findings[0]) == []


def test_duplicate_identities_keep_the_more_severe_with_a_warning() -> None:
    low = _package_finding(severity=Severity.LOW, fingerprint="f" * 64)
    high = _package_finding(severity=Severity.HIGH, fingerprint="f" * 64)
    emission = emit_asff([low, high], CONTEXT)
    (finding,) = emission.findings
    assert finding["Severity"]["Label"] == "HIGH"
    assert "two findings share this Id" in emission.warnings[0]


def test_unfingerprinted_findings_get_their_identity() -> None:
    finding = emit_asff([_package_finding()], CONTEXT).findings[0]
    assert finding["Id"].startswith("tollgate/octo-org/webshop/sca/") and len(finding["Id"].rsplit("/", 1)[1]) == 64


def test_snapshot(emitted: dict[str, dict[str, Any]]) -> None:
    assert_snapshot("emit/asff_factory", list(emitted.values()))


def test_a_memo_that_forgets_advisories_builds_the_same_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Advisory parts are remembered for the last MAX_ADVISORIES; one forgotten is built again, the same."""
    findings = all_findings()
    # Every advisory seen again after all the others, by findings of their own (another identity: another Id).
    again = [dataclasses.replace(f, fingerprint=f"{fingerprint(f)}-again") for f in reversed(findings)]
    interleaved = [*findings, *again]
    remembered = orjson.dumps(emit_asff(interleaved, CONTEXT).findings)
    monkeypatch.setattr(asff, "MAX_ADVISORIES", 1)
    forgetful = emit_asff(interleaved, CONTEXT).findings
    assert len(forgetful) == 2 * len(findings) and orjson.dumps(forgetful) == remembered
