"""The ASFF validator rejects each kind of bad finding, one rule per test, and reads real ASFF."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from normalizers.asff_validator import parse_timestamp, validate_batch, validate_finding
from normalizers.emit.asff import AsffContext, emit_asff
from tests.conftest import ABSENT, CORPUS, FIXTURES
from tests.normalizers.helpers import NOW, SCOPE, all_findings

REAL_ASFF = FIXTURES / "asff"
GOOD = emit_asff(all_findings(), AsffContext("123456789012", "eu-west-1", SCOPE, now=NOW)).findings
PACKAGE = next(f for f in GOOD if f["GeneratorId"] == "tollgate/trivy/CVE-2024-29041")


def mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    finding = copy.deepcopy(PACKAGE)
    change(finding)
    return finding


def problems_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    return validate_finding(mutated(change))


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def test_the_base_finding_is_valid() -> None:
    assert validate_finding(PACKAGE) == []


def test_messages_name_the_finding_id_and_the_field() -> None:
    problem = only(problems_after(lambda f: f.update(Title="x" * 300)))
    assert problem == f"{PACKAGE['Id']}: Title: 300 characters, must be 1 to 256"


def test_botocore_missing_required_member() -> None:
    problem = only(problems_after(lambda f: f.pop("SchemaVersion")))
    assert problem.endswith('Missing required parameter in finding: "SchemaVersion"')


def test_botocore_wrong_type() -> None:
    problem = only(problems_after(lambda f: f["Severity"].update(Original=3)))
    assert "Invalid type for parameter Severity.Original, value: 3" in problem


def test_botocore_unknown_member() -> None:
    problem = only(problems_after(lambda f: f.update(Severity_Label="HIGH")))
    assert 'Unknown parameter in finding: "Severity_Label"' in problem


def test_botocore_nested_required_member() -> None:
    problem = only(problems_after(lambda f: f["Resources"][0].pop("Type")))
    assert 'Missing required parameter in Resources[0]: "Type"' in problem


@pytest.mark.parametrize(("path", "value"), [
    (("Severity", "Label"), "SEVERE"),
    (("RecordState",), "OPEN"),
    (("Vulnerabilities", 0, "FixAvailable"), "MAYBE"),
    (("Resources", 0, "Partition"), "aws-moon"),
])
def test_enum_values_outside_the_model(path: tuple[Any, ...], value: str) -> None:
    def change(finding: dict[str, Any]) -> None:
        target = finding
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    problem = only(problems_after(change))
    assert f"{'.'.join(str(p) for p in path).replace('.0.', '[0].')}: {value!r} is not one of" in problem


def test_whitespace_only_strings_break_the_non_empty_pattern() -> None:
    problem = only(problems_after(lambda f: f["Remediation"]["Recommendation"].update(Text="   ")))
    assert "Remediation.Recommendation.Text: '   ' does not match the pattern .*\\S.*" in problem


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("Id", "i" * 513, "Id: 513 characters, must be 1 to 512"),
    ("GeneratorId", "g" * 513, "GeneratorId: 513 characters, must be 1 to 512"),
    ("Title", "t" * 257, "Title: 257 characters, must be 1 to 256"),
    ("Description", "d" * 1025, "Description: 1025 characters, must be 1 to 1024"),
])
def test_text_limits(field: str, value: str, expected: str) -> None:
    assert expected in only(problems_after(lambda f: f.update({field: value})))


def test_empty_description() -> None:
    problems = problems_after(lambda f: f.update(Description=""))
    assert any("Description: 0 characters, must be 1 to 1024" in p for p in problems)


@pytest.mark.parametrize(("count", "expected"), [(0, "Resources: 0 resources, must be 1 to 32"),
                                                 (33, "Resources: 33 resources, must be 1 to 32")])
def test_resource_count(count: int, expected: str) -> None:
    assert expected in only(problems_after(lambda f: f.update(Resources=f["Resources"] * count)))


def test_types_are_required() -> None:
    assert "Types: required by Security Hub" in only(problems_after(lambda f: f.pop("Types")))


@pytest.mark.parametrize(("finding_type", "expected"), [
    ("Software & Configuration Checks/Vulnerabilities/CVE", "has namespace 'Software & Configuration Checks'"),
    ("Software and Configuration Checks/Vulns/CVE", "has category 'Vulns'"),
    ("TTPs/Initial Access/Supply Chain/Compromise", "is not namespace[/category[/classifier]]"),
    ("Effects//Data Exposure", "is not namespace[/category[/classifier]]"),
])
def test_types_follow_the_taxonomy(finding_type: str, expected: str) -> None:
    problem = only(problems_after(lambda f: f.update(Types=[finding_type])))
    assert f"Types[0]: {finding_type!r} {expected}" in problem


def test_provider_types_follow_the_taxonomy_too() -> None:
    problem = only(problems_after(lambda f: f["FindingProviderFields"].update(Types=["Vulnerabilities/CVE"])))
    assert "FindingProviderFields.Types[0]: 'Vulnerabilities/CVE' has namespace" in problem


def test_more_than_50_types() -> None:
    many = ["Software and Configuration Checks/Vulnerabilities"] * 51
    problems = problems_after(lambda f: f.update(Types=many))
    assert any("Types: 51 types, at most 50" in p for p in problems)


def test_severity_label_is_required() -> None:
    problem = only(problems_after(lambda f: f.update(Severity={"Normalized": 70})))
    assert "Severity.Label: required by Security Hub" in problem


@pytest.mark.parametrize("value", [
    "2026-13-01T00:00:00Z", "yesterday", "2026-11-22 10:15:30Z", "2026-11-22T10:15:30+19:00",
    "2026-11-22T10:15:30", "2026-11-22T10:15:30.1234567890Z",
])
def test_timestamps_must_be_rfc3339(value: str) -> None:
    problems = problems_after(lambda f: f.update(CreatedAt=value))
    assert any(f"CreatedAt: {value!r} is not an RFC 3339 timestamp" in p for p in problems)


@pytest.mark.parametrize(("value", "valid"), [
    ("2019-01-31T23:00:00Z", True),
    ("2019-01-31T23:00:00.123456789Z", True),
    ("2024-01-04T15:25:10+17:59", True),
    ("2024-01-04T15:25:10-1759", True),
    ("2024-02-30T15:25:10Z", False),
])
def test_security_hubs_documented_timestamp_forms(value: str, valid: bool) -> None:
    assert (parse_timestamp(value) is not None) is valid


def test_updated_at_before_created_at() -> None:
    problem = only(problems_after(lambda f: f.update(UpdatedAt="2026-11-22T10:15:30.122Z")))
    assert "UpdatedAt: 2026-11-22T10:15:30.122Z is before CreatedAt 2026-11-22T10:15:30.123Z" in problem


def test_offsets_are_compared_as_instants() -> None:
    assert problems_after(lambda f: f.update(UpdatedAt="2026-11-22T11:15:30.123+01:00")) == []


def test_product_arn_shape() -> None:
    problem = only(problems_after(lambda f: f.update(ProductArn="arn:aws:securityhub:eu-west-1:123:default")))
    assert "ProductArn: 'arn:aws:securityhub:eu-west-1:123:default' is not arn:" in problem


def test_product_arn_partition_matches_its_region() -> None:
    arn = "arn:aws:securityhub:cn-north-1:123456789012:product/123456789012/default"
    problem = only(problems_after(lambda f: f.update(ProductArn=arn)))
    assert "partition 'aws' does not match region 'cn-north-1' (expected 'aws-cn')" in problem


def test_custom_product_arn_is_the_findings_own_account() -> None:
    arn = "arn:aws:securityhub:eu-west-1:210987654321:product/210987654321/default"
    problem = only(problems_after(lambda f: f.update(ProductArn=arn)))
    assert "the ARN names '210987654321' but AwsAccountId is '123456789012'" in problem


def test_account_is_12_digits() -> None:
    problems = problems_after(lambda f: f.update(AwsAccountId="12345"))
    assert any("AwsAccountId: '12345' is not 12 digits" in p for p in problems)


def test_product_fields_at_most_50_pairs() -> None:
    problem = only(problems_after(lambda f: f.update(ProductFields={f"k{i}": "v" for i in range(51)})))
    assert "ProductFields: 51 pairs, at most 50" in problem


def test_product_field_values_at_most_2048() -> None:
    problem = only(problems_after(lambda f: f["ProductFields"].update({"tollgate/Note": "n" * 2049})))
    assert "ProductFields.tollgate/Note: 2049 characters, at most 2048" in problem


def test_map_keys_at_most_128() -> None:
    problem = only(problems_after(lambda f: f["ProductFields"].update({"k" * 129: "v"})))
    assert "is 129 characters, at most 128" in problem


def test_details_other_at_most_50_pairs() -> None:
    other = {str(i): "v" for i in range(51)}
    problem = only(problems_after(lambda f: f["Resources"][0]["Details"].update(Other=other)))
    assert "Resources[0].Details.Other: 51 pairs, at most 50" in problem


def test_details_other_values_under_1024() -> None:
    problem = only(problems_after(lambda f: f["Resources"][0]["Details"]["Other"].update(Path="p" * 1024)))
    assert "Resources[0].Details.Other.Path: 1024 characters, at most 1023" in problem


def test_finding_at_most_240_kb() -> None:
    urls = [f"https://example.com/{i}/" + "a" * 1000 for i in range(250)]
    problem = only(problems_after(lambda f: f["Vulnerabilities"][0].update(ReferenceUrls=urls)))
    assert "bytes serialized, at most 245760" in problem


def _numbered(count: int) -> list[dict[str, Any]]:
    return [mutated(lambda f, i=i: f.update(Id=f"{PACKAGE['Id']}-{i}")) for i in range(count)]


def test_batch_of_factory_findings_is_valid() -> None:
    assert validate_batch(list(GOOD)) == []


def test_batch_at_most_100_findings() -> None:
    assert validate_batch(_numbered(100)) == []
    assert validate_batch(_numbered(101)) == ["batch: 101 findings; BatchImportFindings takes 1 to 100"]
    assert validate_batch([]) == ["batch: 0 findings; BatchImportFindings takes 1 to 100"]


def test_batch_at_most_6_mb() -> None:
    padding = ["https://example.com/" + "b" * 2000] * 115  # ~230 KB each, under the per-finding limit
    findings = [mutated(lambda f, i=i: (f.update(Id=f"big-{i}"), f["Vulnerabilities"][0].update(ReferenceUrls=padding)))
                for i in range(30)]
    problems = validate_batch(findings)
    assert len(problems) == 1 and problems[0].startswith("batch: ") and "at most 6291456" in problems[0]


def test_batch_ids_are_unique() -> None:
    problems = validate_batch([PACKAGE, copy.deepcopy(PACKAGE)])
    assert problems == [f"{PACKAGE['Id']}: Id: appears twice in the batch; the second import overwrites the first"]


def test_real_trivy_asff_collides_on_id_when_one_cve_hits_two_packages() -> None:
    """Trivy's own template keys the Id by target and CVE only (docs/design.md): the validator sees it."""
    findings = json.loads((REAL_ASFF / "alpine-310.asff.golden").read_text(encoding="utf-8"))["Findings"]
    problems = validate_batch(findings)
    assert len(findings) == 4
    assert problems == [
        "testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)/CVE-2019-1549: Id: appears twice in the "
        "batch; the second import overwrites the first",
        "testdata/fixtures/images/alpine-310.tar.gz (alpine 3.10.2)/CVE-2019-1551: Id: appears twice in the "
        "batch; the second import overwrites the first",
    ]


def test_real_inspector_asff_passes_but_for_its_redacted_account() -> None:
    findings = json.loads((REAL_ASFF / "inspector_ec2_cve.json").read_text(encoding="utf-8"))["Findings"]
    problems = validate_batch(findings)
    redacted = [f for f in findings if f["AwsAccountId"] == "XXXXXXXXXXXX"]
    assert (len(findings), len(redacted)) == (5, 4)
    assert problems == [f"{f['Id']}: AwsAccountId: 'XXXXXXXXXXXX' is not 12 digits" for f in redacted]


def test_fixture_copies_match_the_shared_corpus() -> None:
    corpus = CORPUS
    if not corpus.is_dir():
        pytest.skip(f"{corpus} {ABSENT}")
    for name, source in (("alpine-310.asff.golden", "trivy"), ("inspector_ec2_cve.json", "awssecurityhub")):
        assert (REAL_ASFF / name).read_bytes() == (corpus / source / name).read_bytes()
