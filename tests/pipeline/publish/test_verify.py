"""`tollgate publish securityhub --verify`: reading back what landed (pipeline.publish.verify).

The GetFindings path runs against moto's real server over HTTP. moto implements neither
DescribeSecurityHubV2 nor GetFindingsV2 (its server answers 404, which is how the fallback is
exercised there), so the new Security Hub's path is tested with botocore's Stubber on a real client:
the Stubber validates every request against the real service model (so the OCSF filters must be
what the API accepts) and every response against the model's output shape. The responses follow
the shapes of AWS's API reference for DescribeSecurityHubV2 and GetFindingsV2 (a finding is an
OCSF document; `finding_info.uid` carries the provider's Id); they were written for these tests,
not recorded from an account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from botocore.stub import Stubber

from normalizers.emit.asff import AsffContext, emit_asff, product_arn
from normalizers.identity import scoped_id
from normalizers.results import Results, results_to_dict
from pipeline.cli import main
from pipeline.publish.ratelimit import Rate, TokenBucket
from pipeline.publish.securityhub import PublishRequest, PublishSettings, publish
from pipeline.publish.verify import GET_FINDINGS, GET_FINDINGS_V2, IDS_PER_CALL, FindingReader
from tests.pipeline.publish.helpers import package_findings, scope

pytest_plugins = ("tests.moto_server",)  # moto_server (one per session) and aws (reset per test)

ACCOUNT = "123456789012"
PRODUCT_ARN = product_arn(ACCOUNT, "us-east-1")
HUB_V2 = {"HubV2Arn": f"arn:aws:securityhub:us-east-1:{ACCOUNT}:hubv2/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
          "SubscribedAt": "2026-01-05T10:00:00.000Z"}
FAST = Rate(per_second=1000.0, burst=1000)


def ids(count: int) -> list[str]:
    return sorted(scoped_id(scope(), finding) for finding in package_findings(count))


def ocsf(finding_id: str) -> dict[str, Any]:
    """A GetFindingsV2 finding as AWS's API reference shows one: an OCSF document (abridged)."""
    return {"class_uid": 2002, "class_name": "Vulnerability Finding", "severity": "High", "status": "New",
            "finding_info": {"uid": finding_id, "title": "a vulnerable package"},
            "cloud": {"account": {"uid": ACCOUNT}, "provider": "AWS", "region": "us-east-1"},
            "metadata": {"product": {"name": "Tollgate", "uid": PRODUCT_ARN}, "version": "1.6.0"}}


def v2_filters(batch: list[str]) -> dict[str, Any]:
    uids = [{"FieldName": "finding_info.uid", "Filter": {"Value": i, "Comparison": "EQUALS"}} for i in batch]
    return {"Filters": {"CompositeFilters": [{"StringFilters": uids, "Operator": "OR"}]}, "MaxResults": 100}


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("securityhub", region_name="us-east-1")  # the Stubber answers before any signing
    return client, Stubber(client)


def reader(client: Any) -> FindingReader:
    return FindingReader(client, TokenBucket(FAST), rounds=2, sleep=lambda _: None)


def test_v2_reads_back_by_finding_info_uid_in_batches_and_reports_what_is_missing() -> None:
    wanted = ids(IDS_PER_CALL + 5)
    lost = wanted[3]
    client, stub = stubbed()
    stub.add_response("describe_security_hub_v2", HUB_V2, {})
    first, second = wanted[:IDS_PER_CALL], wanted[IDS_PER_CALL:]
    stub.add_response("get_findings_v2", {"Findings": [ocsf(i) for i in first if i != lost], "NextToken": "p2"},
                      v2_filters(first))
    stub.add_response("get_findings_v2", {"Findings": []}, {**v2_filters(first), "NextToken": "p2"})
    stub.add_response("get_findings_v2", {"Findings": [ocsf(i) for i in second]}, v2_filters(second))
    stub.add_response("get_findings_v2", {"Findings": []}, v2_filters([lost]))  # the second round
    with stub:
        verification = reader(client).verify(wanted, PRODUCT_ARN)
        stub.assert_no_pending_responses()
    assert (verification.api, verification.checked, verification.missing) == (GET_FINDINGS_V2, 25, (lost,))
    assert verification.missing_lines() == [f"tollgate: missing: {lost}: not found through GetFindingsV2"]
    assert verification.summary_line() == (
        "tollgate: security hub: verified 24 of 25 findings through GetFindingsV2, 1 missing")


@pytest.mark.parametrize(("describe_error", "v2_error"), [
    ("ResourceNotFoundException", None),  # the new Security Hub is not enabled
    (None, "AccessDeniedException"),  # enabled, but the role may not read it
])
def test_without_the_new_security_hub_it_reads_through_get_findings(describe_error: str | None,
                                                                    v2_error: str | None) -> None:
    findings = package_findings(3)
    asff = list(emit_asff(findings, AsffContext(ACCOUNT, "us-east-1", scope())).findings)
    wanted = [f["Id"] for f in asff]
    client, stub = stubbed()
    if describe_error:
        stub.add_client_error("describe_security_hub_v2", describe_error, http_status_code=404)
    else:
        stub.add_response("describe_security_hub_v2", HUB_V2, {})
        stub.add_client_error("get_findings_v2", v2_error, http_status_code=403)
    filters = {"Id": [{"Value": i, "Comparison": "EQUALS"} for i in sorted(wanted)],
               "ProductArn": [{"Value": PRODUCT_ARN, "Comparison": "EQUALS"}]}
    stub.add_response("get_findings", {"Findings": asff}, {"Filters": filters, "MaxResults": 100})
    with stub:
        verification = reader(client).verify(wanted, PRODUCT_ARN)
        stub.assert_no_pending_responses()
    assert (verification.api, verification.missing) == (GET_FINDINGS, ())
    assert verification.note


def test_another_error_fails_closed() -> None:
    client, stub = stubbed()
    stub.add_response("describe_security_hub_v2", HUB_V2, {})
    stub.add_client_error("get_findings_v2", "InternalServerException", http_status_code=500)
    with stub, pytest.raises(Exception, match="GetFindingsV2 failed: InternalServerException"):
        reader(client).verify(ids(1), PRODUCT_ARN)


def test_publish_verify_on_moto_finds_every_accepted_finding(aws: str) -> None:
    settings = PublishSettings(region="us-east-1", endpoint_url=aws, verify=True)
    outcome = publish(PublishRequest(findings=package_findings(30), scope=scope()), settings,
                      session=boto3.session.Session(region_name="us-east-1"))
    assert outcome.verification is not None
    assert (outcome.verification.api, outcome.verification.checked, outcome.verification.missing) == (
        GET_FINDINGS, 30, ())
    assert "not enabled" in outcome.verification.note


def test_reader_on_moto_reports_an_id_that_never_arrived(aws: str) -> None:
    client = boto3.client("securityhub", region_name="us-east-1", endpoint_url=aws)
    asff = list(emit_asff(package_findings(3), AsffContext(ACCOUNT, "us-east-1", scope())).findings)
    client.batch_import_findings(Findings=asff[:2])
    verification = reader(client).verify([f["Id"] for f in asff], PRODUCT_ARN)
    assert verification.missing == (asff[2]["Id"],)


class Swallow:
    """Drops chosen findings from BatchImportFindings before sending: Security Hub answers success for
    the rest, so the run believes everything landed; only reading back can tell."""

    def __init__(self, session: boto3.session.Session, dropped: set[str]) -> None:
        self.dropped = dropped
        session.events.register("provide-client-params.securityhub.BatchImportFindings", self.drop)

    def drop(self, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**params, "Findings": [f for f in params["Findings"] if f["Id"] not in self.dropped]}


def test_cli_verify_reports_each_missing_finding_and_exits_3(tmp_path: Path, aws: str,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    findings = package_findings(5)
    lost = scoped_id(scope(), findings[2])
    session = boto3.session.Session(region_name="us-east-1")
    Swallow(session, {lost})
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)  # the CLI uses a caller's default session
    path = tmp_path / "r.json"
    path.write_bytes(orjson.dumps(results_to_dict(Results(scope=scope(), findings=findings))))
    argv = ["publish", "securityhub", str(path), "--verify", "--endpoint-url", aws, "--region", "us-east-1"]
    assert main(argv) == 3
    captured = capsys.readouterr()
    assert f"tollgate: missing: {lost}: not found through GetFindings" in captured.err.splitlines()
    assert "tollgate: error: 1 imported findings were not found in Security Hub through GetFindings" in captured.err
    assert "tollgate: security hub: verified 4 of 5 findings through GetFindings, 1 missing" in captured.out
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.session.Session(region_name="us-east-1"))
    assert main(argv) == 0  # the next run sends only the lost one (the rest are unchanged) and finds it
    assert "verified 1 of 1 findings through GetFindings, 0 missing" in capsys.readouterr().out
