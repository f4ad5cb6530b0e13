"""The vetting state machine (terraform/modules/package-vetting/vetting.asl.json), executed by moto's
ASL interpreter with every branch: green, red, install failure, copy failure, timeout, and the SSM variant.

The Lambda steps run in process (moto runs Lambda code only in Docker); DynamoDB, SSM, S3 and
Security Hub are moto's. moto has no CodeArtifact, so its calls go through a real botocore client
with a Stubber: each request is validated against botocore's CodeArtifact model and compared with
the expected parameters, and each answer has the shape of the AWS CLI reference's examples
(tests/fixtures/vetting/codeartifact_responses.json). See helpers.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tests.pipeline.vetting.helpers import ASL, DOMAIN, REGION, TOKEN, Deployment, vetting_backend


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Deployment:
    with vetting_backend(monkeypatch, tmp_path) as deployment:
        yield deployment


def test_green_pypi_version_is_fetched_through_intake_and_copied_to_vetted(backend: Deployment) -> None:
    backend.endpoint.add("pypi-intake", "pypi", "tollgate-demo", "1.2.0")
    backend.endpoint.add("pypi-intake", "pypi", "tollgate-demo", "1.1.0")  # another version: not fetched
    backend.expect_fetch("pypi", "tollgate-demo")
    backend.expect_intake_status("pypi", "tollgate-demo", "1.2.0")
    backend.expect_copy("pypi", "tollgate-demo", "1.2.0")

    result = backend.run("pypi", "Tollgate_Demo", "1.2.0")

    assert result["status"] == "SUCCEEDED", result
    assert result["states"] == ["Check", "Verdict", "Fetch", "AwaitIntake", "IntakeReady", "Copy", "Secure"]
    assert backend.endpoint.fetched == ["tollgate_demo-1.2.0-py3-none-any.whl"]
    assert backend.endpoint.refused == []
    item = backend.item("pypi#tollgate-demo#1.2.0")
    assert item["status"] == "SECURE"
    assert item["detail"] == "copied to the vetted repository (REVISION-1-SAMPLE-6C81EFF7DA55CC)"
    assert item["expires_at"] - item["updated_at"] == 90 * 86400
    backend.stubber.assert_no_pending_responses()



def test_red_typosquat_is_blocked_with_reasons_and_a_security_hub_finding(backend: Deployment) -> None:
    result = backend.run("pypi", "reqeusts", "2.31.0")

    assert result["status"] == "SUCCEEDED", result
    assert result["states"] == ["Check", "Verdict", "Block", "Blocked"]
    item = backend.item("pypi#reqeusts#2.31.0")
    assert item["status"] == "BLOCKED"
    assert any(reason.startswith("TG-SC-TYPOSQUAT HIGH: reqeusts looks like the popular requests")
               for reason in item["reasons"]), item["reasons"]
    assert backend.endpoint.fetched == []  # never pulled, never copied: no CodeArtifact call at all
    findings = boto3.client("securityhub", region_name=REGION).get_findings()["Findings"]
    [finding] = [f for f in findings if f["GeneratorId"].startswith("tollgate")]
    assert finding["Resources"][0]["Id"] == f"codeartifact/{DOMAIN}/pypi/reqeusts/2.31.0"
    assert finding["Severity"]["Label"] == "HIGH"
    assert "requests" in finding["Title"]
    backend.stubber.assert_no_pending_responses()


def test_green_scoped_npm_version_uses_the_namespace_and_the_bearer_token(backend: Deployment) -> None:
    backend.endpoint.add("npm-intake", "npm", "@tollgate/demo", "3.0.1")
    backend.expect_fetch("npm", "@tollgate/demo")
    backend.expect_intake_status("npm", "@tollgate/demo", "3.0.1")
    backend.expect_copy("npm", "@tollgate/demo", "3.0.1")

    result = backend.run("npm", "@tollgate/demo", "3.0.1")

    assert result["status"] == "SUCCEEDED", result
    assert backend.endpoint.fetched == ["demo-3.0.1.tgz"]
    assert backend.item("npm#@tollgate/demo#3.0.1")["status"] == "SECURE"
    backend.stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("version", "corrupt", "cause"), [
    ("9.9.9", False, "not in the package document"),
    ("1.2.0", True, "does not match the index"),
])
def test_install_failure_records_failed_and_never_copies(backend: Deployment, version: str, corrupt: bool,
                                                         cause: str) -> None:
    backend.endpoint.add("npm-intake", "npm", "@tollgate/demo", "1.2.0")
    backend.endpoint.corrupt = corrupt
    backend.expect_fetch("npm", "@tollgate/demo")

    result = backend.run("npm", "@tollgate/demo", version)

    assert result["status"] == "FAILED", result
    assert result["error"] == "Vetting.Failed"
    assert result["states"] == ["Check", "Verdict", "Fetch", "RecordFailure", "Failed"]
    item = backend.item(f"npm#@tollgate/demo#{version}")
    assert item["status"] == "FAILED"
    assert item["detail"].startswith("InstallFailed: ") and cause in item["detail"], item["detail"]
    assert TOKEN not in item["detail"]
    backend.stubber.assert_no_pending_responses()  # no describe, no copy


def test_pypi_version_missing_upstream_is_an_install_failure(backend: Deployment) -> None:
    backend.expect_fetch("pypi", "tollgate-demo")

    result = backend.run("pypi", "tollgate-demo", "0.0.1")

    assert result["status"] == "FAILED"
    assert "not found through the intake repository" in backend.item("pypi#tollgate-demo#0.0.1")["detail"]


def test_copy_failure_records_failed_with_codeartifacts_error(backend: Deployment) -> None:
    backend.endpoint.add("pypi-intake", "pypi", "tollgate-demo", "1.2.0")
    backend.expect_fetch("pypi", "tollgate-demo")
    backend.expect_intake_status("pypi", "tollgate-demo", "1.2.0")
    backend.expect_copy("pypi", "tollgate-demo", "1.2.0", failed=True)

    result = backend.run("pypi", "tollgate-demo", "1.2.0")

    assert result["status"] == "FAILED", result
    assert result["states"][-3:] == ["Copy", "RecordFailure", "Failed"]
    item = backend.item("pypi#tollgate-demo#1.2.0")
    assert item["status"] == "FAILED"
    assert item["detail"].startswith("CopyFailed: CopyPackageVersions did not copy tollgate-demo==1.2.0: NOT_ALLOWED")
    backend.stubber.assert_no_pending_responses()


def test_timeout_when_intake_never_publishes_the_version(backend: Deployment) -> None:
    backend.endpoint.add("pypi-intake", "pypi", "tollgate-demo", "1.2.0")
    backend.expect_fetch("pypi", "tollgate-demo")
    for _ in range(3):  # TOLLGATE_VETTING_MAX_POLLS
        backend.expect_intake_status("pypi", "tollgate-demo", "1.2.0", status="Unfinished")

    result = backend.run("pypi", "tollgate-demo", "1.2.0")

    assert result["status"] == "FAILED", result
    assert result["states"].count("AwaitIntake") == 3
    assert result["states"].count("WaitForIntake") == 2
    assert result["states"][-3:] == ["TimedOut", "RecordFailure", "Failed"]
    item = backend.item("pypi#tollgate-demo#1.2.0")
    assert item["status"] == "FAILED" and item["detail"].startswith("Vetting.Timeout: ")
    backend.stubber.assert_no_pending_responses()


def test_ssm_run_command_variant_pulls_on_an_instance_and_then_copies(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    overrides = {"TOLLGATE_VETTING_FETCH_MODE": "ssm", "TOLLGATE_VETTING_SSM_TARGET": "tollgate-vetting=intake"}
    with vetting_backend(monkeypatch, tmp_path, overrides) as backend:
        intake = backend.endpoint.url("pypi", "pypi-intake")
        backend.expect("get_repository_endpoint", {"repositoryEndpoint": intake},
                       {"domain": DOMAIN, "domainOwner": "123456789012", "repository": "pypi-intake",
                        "format": "pypi"})
        backend.expect_intake_status("pypi", "tollgate-demo", "1.2.0")
        backend.expect_copy("pypi", "tollgate-demo", "1.2.0")

        result = backend.run("pypi", "tollgate-demo", "1.2.0")

        assert result["status"] == "SUCCEEDED", result
        [command] = boto3.client("ssm", region_name=REGION).list_commands()["Commands"]
        assert command["DocumentName"] == "AWS-RunShellScript"
        assert command["Targets"] == [{"Key": "tag:tollgate-vetting", "Values": ["intake"]}]
        assert command["OutputS3BucketName"] == "tollgate-ssm-output"
        lines = command["Parameters"]["commands"]
        assert lines[-1].endswith("python3 -m pip download --no-deps --only-binary=:all: --no-cache-dir --dest . "
                                  "tollgate-demo==1.2.0")
        assert "get-authorization-token --domain tollgate" in lines[1]
        assert not any(TOKEN in line for line in lines)  # the instance gets its own token
        assert backend.endpoint.fetched == []  # the Lambda did not fetch: the instance did
        assert backend.item("pypi#tollgate-demo#1.2.0")["status"] == "SECURE"
        backend.stubber.assert_no_pending_responses()


def test_a_second_execution_for_an_answered_version_ends_at_once(backend: Deployment) -> None:
    first = backend.run("pypi", "reqeusts", "2.31.0")
    second = backend.run("pypi", "reqeusts", "2.31.0")

    assert first["states"][-1] == "Blocked"
    assert second["status"] == "SUCCEEDED"
    assert second["states"] == ["Check", "Verdict", "AlreadyAnswered"]
    assert backend.item("pypi#reqeusts#2.31.0")["status"] == "BLOCKED"


def test_a_version_the_firewall_cannot_score_is_retried_never_blocked(backend: Deployment) -> None:
    """Offline and uncached, an unknown name has no metadata and nothing flags it: CheckUnavailable
    (which the ASL retries, then records as FAILED), not a BLOCKED that would stand for 90 days."""
    functions = boto3.client("lambda", region_name=REGION)
    event = {"ecosystem": "pypi", "package": "some-unknown-project", "version": "1.0.0"}
    answer = functions.invoke(FunctionName="tollgate-vetting-check", Payload=json.dumps(event).encode())

    assert answer["FunctionError"]
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "CheckUnavailable"
    assert "neither passed nor blocked" in error["errorMessage"]
    assert backend.item("pypi#some-unknown-project#1.0.0")["status"] == "CHECK"
    asl = json.loads(ASL.read_text(encoding="utf-8"))
    assert "CheckUnavailable" in asl["States"]["Check"]["Retry"][0]["ErrorEquals"]
