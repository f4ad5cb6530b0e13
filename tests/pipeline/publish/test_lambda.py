"""The findings-importer Lambda against moto's S3 and Security Hub, with a real dependency-check report."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest

from pipeline.errors import ConfigError
from pipeline.publish import lambda_handler
from pipeline.publish.lambda_handler import handler, scope_of, tag_value
from tests.conftest import FIXTURES

REPORT = FIXTURES / "dependency_check" / "VulnerableJavaWebApplication_dependency-check-report.json"
BUCKET = "tollgate-reports"
KEY = "reports/annesa123/VulnerableJavaWebApplication/run-1/dependency-check-report.json"
METADATA = {
    "tollgate-branch": "main",
    "tollgate-commit": "24633956405112b39f448ebd3a45d0c537db0953",
    "tollgate-source-root": "C:/Users/user/Documents/Training/VulnerableJavaWebApplication",
}
EXPECTED_CVES = {
    "CVE-2016-10735", "CVE-2018-14041", "CVE-2018-14042", "CVE-2018-20676", "CVE-2018-20677", "CVE-2019-8331",
    "CVE-2024-6485", "CVE-2019-11358", "CVE-2020-11022", "CVE-2020-11023",
}

pytest_plugins = ("tests.moto_server",)  # moto_server (one per session) and aws (reset per test)


class LambdaContext:
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tollgate-findings-importer"


def s3_event(*keys: str) -> dict[str, Any]:
    """The notification S3 sends for ObjectCreated:Put (keys URL-encoded, as S3 writes them)."""
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": {"key": quote_plus(key, safe="/"), "size": 1}},
    } for key in keys]}


@pytest.fixture
def s3(aws: str) -> Any:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def upload(s3: Any, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata if metadata is not None else METADATA)


def hub() -> dict[str, dict[str, Any]]:
    client = boto3.client("securityhub", region_name="us-east-1")
    return {f["Id"]: f for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]}


def tags(s3: Any, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


def test_an_uploaded_report_becomes_findings_in_security_hub(s3: Any) -> None:
    upload(s3, KEY, REPORT.read_bytes())
    result = handler(s3_event(KEY), LambdaContext())
    assert result["objects"] == {f"s3://{BUCKET}/{KEY}": "imported"}
    findings = hub()
    assert len(findings) == 11
    assert all(i.startswith("tollgate/annesa123/VulnerableJavaWebApplication/sca/") for i in findings)
    cves = {v["Id"] for f in findings.values() for v in f.get("Vulnerabilities", ())}
    assert cves == EXPECTED_CVES  # the eleventh is bootstrap's end-of-life notice, which has no CVE
    jquery = next(f for f in findings.values() if f.get("Vulnerabilities", [{}])[0].get("Id") == "CVE-2019-11358")
    package = jquery["Vulnerabilities"][0]["VulnerablePackages"][0]
    assert (package["Name"], package["Version"]) == ("jquery", "3.1.0")
    assert package["FilePath"] == "src/main/webapp/resources/js/jquery.min.js"  # relative: source root stripped
    assert {f["ProductFields"]["tollgate/Branch"] for f in findings.values()} == {"main"}
    assert {f["AwsAccountId"] for f in findings.values()} == {"123456789012"}  # from the function's ARN
    assert tags(s3, KEY) == {"tollgate-status": "imported", "tollgate-verdict": "passed"}  # none is high


def test_the_repositorys_policy_beside_its_reports_decides_the_verdict(s3: Any) -> None:
    policy_key = "reports/annesa123/VulnerableJavaWebApplication/.tollgate.yml"
    upload(s3, policy_key, b"fail-on: medium\n")
    upload(s3, KEY, REPORT.read_bytes())
    result = handler({"Records": [*s3_event(policy_key)["Records"], *s3_event(KEY)["Records"]]}, LambdaContext())
    assert result["objects"] == {f"s3://{BUCKET}/{KEY}": "imported"}  # the policy is read, never imported
    verdict = result["verdicts"][f"s3://{BUCKET}/{KEY}"]
    assert verdict["verdict"] == "failed" and verdict["failing"] == verdict["medium"] > 0
    assert tags(s3, KEY)["tollgate-verdict"] == "failed"


def test_the_same_report_uploaded_twice_creates_no_duplicates(s3: Any) -> None:
    upload(s3, KEY, REPORT.read_bytes())
    handler(s3_event(KEY), LambdaContext())
    first = hub()
    second_key = KEY.replace("run-1", "run-2")
    upload(s3, second_key, REPORT.read_bytes())
    handler(s3_event(second_key), LambdaContext())
    second = hub()
    assert second.keys() == first.keys() and len(second) == 11
    assert second == first  # unchanged and fresh: not even re-imported, so nothing alerts again


def test_a_malformed_report_is_logged_and_tagged_and_breaks_nothing_else(
    s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    truncated_key = "reports/annesa123/VulnerableJavaWebApplication/run-1/partial upload.json"
    upload(s3, truncated_key, REPORT.read_bytes()[:4000])  # the real report, cut short as a failed upload would be
    upload(s3, KEY, REPORT.read_bytes())
    with caplog.at_level(logging.WARNING, logger="tollgate.importer"):
        result = handler(s3_event(truncated_key, KEY), LambdaContext())
    assert result["objects"] == {f"s3://{BUCKET}/{truncated_key}": "rejected", f"s3://{BUCKET}/{KEY}": "imported"}
    rejected = tags(s3, truncated_key)
    assert rejected["tollgate-status"] == "rejected"
    assert "not valid JSON" in rejected["tollgate-reason"]
    assert any("rejected" in r.message and "partial upload.json" in r.message for r in caplog.records)
    assert len(hub()) == 11


@pytest.mark.parametrize(
    ("key", "metadata", "reason"),
    [
        ("uploads/annesa123/VulnerableJavaWebApplication/report.json", METADATA, "the key must be reports/"),
        ("reports/annesa123/report.json", METADATA, "the key must be reports/"),
        (KEY, {**METADATA, "tollgate-repository": "someone/else"}, "metadata names repository someone/else"),
        (KEY, {**METADATA, "tollgate-categories": "sca,everything"}, "unknown categories in metadata: everything"),
    ],
)
def test_a_badly_placed_report_is_rejected_without_touching_security_hub(
    s3: Any, key: str, metadata: dict[str, str], reason: str
) -> None:
    upload(s3, key, REPORT.read_bytes(), metadata)
    assert handler(s3_event(key), LambdaContext())["objects"] == {f"s3://{BUCKET}/{key}": "rejected"}
    assert tags(s3, key)["tollgate-reason"].startswith(reason)
    assert hub() == {}


def test_the_repository_comes_from_the_key_and_the_rest_from_metadata() -> None:
    scope = scope_of("reports/octo/shop/ci/trivy.json", {"tollgate-environment": "staging", "tollgate-branch": "dev"})
    assert (scope.repository, scope.environment, scope.branch, scope.commit) == ("octo/shop", "staging", "dev", None)


def test_tag_values_keep_only_what_s3_allows() -> None:
    assert tag_value("s3://b/k: not valid JSON (unexpected 'end')") == "s3://b/k: not valid JSON  unexpected  end  "
    assert len(tag_value("x" * 1000)) == 256


def test_every_invocation_of_a_warm_instance_paces_with_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reserved concurrency 1 plus one budget per instance: the consumer holds the account's whole quota."""
    monkeypatch.setattr(lambda_handler, "BUDGET", None)
    monkeypatch.delenv("TOLLGATE_IMPORT_BURST", raising=False)
    settings = lambda_handler.settings_from_environment("us-east-1")
    assert (settings.import_rate.per_second, settings.import_rate.burst) == (10.0, 1)  # paced, no burst
    first = lambda_handler.shared_budget(settings)
    assert lambda_handler.shared_budget(lambda_handler.settings_from_environment("us-east-1")) is first
    monkeypatch.setenv("TOLLGATE_REFRESH_DAYS", "7")
    assert lambda_handler.settings_from_environment("us-east-1").refresh_interval.days == 7
    monkeypatch.setenv("TOLLGATE_REFRESH_DAYS", "soon")
    with pytest.raises(ConfigError, match="TOLLGATE_"):
        lambda_handler.settings_from_environment("us-east-1")
