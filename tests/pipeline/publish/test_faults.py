"""Fault injection: throttles and FailedFindings; every finding ends imported or reported, once."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest

from normalizers.emit.asff import AsffContext, emit_asff, product_arn
from normalizers.identity import scoped_id
from pipeline.publish.lifecycle import PublishScope
from pipeline.publish.securityhub import (
    PublishRequest,
    PublishSettings,
    SecurityHubPublisher,
    classify_response,
    client_for,
    publish,
    publish_asff,
)
from tests.pipeline.publish.helpers import FaultInjector, package_findings, scope

ACCOUNT = "123456789012"

pytest_plugins = ("tests.moto_server",)  # moto_server (one per session) and aws (reset per test)


@pytest.fixture
def session(aws: str) -> boto3.session.Session:
    return boto3.session.Session(region_name="us-east-1")


def hub_ids(session: boto3.session.Session, endpoint: str) -> list[str]:
    client = session.client("securityhub", endpoint_url=endpoint)
    return [f["Id"] for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]]


def test_throttles_and_failed_findings_lose_and_duplicate_nothing(session: boto3.session.Session,
                                                                   aws: str) -> None:
    findings = package_findings(500)
    ids = [scoped_id(scope(), f) for f in findings]
    permanent = {finding_id: "InvalidInput" for finding_id in ids[7::97]}
    transient = set(ids[3::10]) - permanent.keys()
    injector = FaultInjector(session, throttle_ratio=0.3, transient=transient, permanent=permanent,
                             exhaust_first_call=True)
    settings = PublishSettings(region="us-east-1", endpoint_url=aws, max_attempts=2, rounds=8,
                               round_backoff_seconds=0.05)
    outcome = publish(PublishRequest(findings=findings, scope=scope()), settings, session=session)

    assert injector.throttled > 0.2 * injector.attempts  # the faults really happened
    assert injector.calls_failed > 0  # some calls outlived botocore's retries
    assert injector.held_transient == len(transient) and not injector.transient  # every transient one was retried
    assert sorted((f.id, f.code) for f in outcome.failed) == sorted(permanent.items())
    in_hub = hub_ids(session, aws)
    assert len(in_hub) == len(set(in_hub))  # none duplicated
    assert set(in_hub) == set(ids) - permanent.keys()  # none lost
    assert outcome.imported == len(ids) - len(permanent)


def test_a_transient_failure_that_never_clears_is_reported_after_the_last_round(
    session: boto3.session.Session, aws: str
) -> None:
    findings = package_findings(5)
    stuck = scoped_id(scope(), findings[2])
    FaultInjector(session, throttle_ratio=0.0, transient=set(), permanent={stuck: "ServiceUnavailable"})
    settings = PublishSettings(region="us-east-1", endpoint_url=aws, rounds=3, round_backoff_seconds=0.01)
    outcome = publish(PublishRequest(findings=findings, scope=scope()), settings, session=session)
    assert [(f.id, f.code) for f in outcome.failed] == [(stuck, "ServiceUnavailable")]
    assert outcome.requests == 3  # first send plus two retry rounds, each with only the stuck finding
    assert outcome.imported == 4


def test_failures_that_cannot_be_attributed_resend_the_whole_batch() -> None:
    batch = [{"Id": "a"}, {"Id": "b"}]
    result = classify_response(batch, {"FailedCount": 1, "FailedFindings": [], "SuccessCount": 1})
    assert [finding["Id"] for finding, _ in result.transient] == ["a", "b"] and result.permanent == ()


def test_a_failure_for_an_id_not_sent_is_still_reported() -> None:
    result = classify_response([{"Id": "a"}], {"FailedCount": 1, "FailedFindings": [
        {"Id": "zzz", "ErrorCode": "InternalError", "ErrorMessage": "?"}]})
    assert [(f.id, f.code) for f in result.permanent] == [("zzz", "InternalError")] and result.transient == ()


def test_an_invalid_finding_is_reported_and_never_sent(session: boto3.session.Session, aws: str) -> None:
    settings = PublishSettings(region="us-east-1", endpoint_url=aws)
    emitted = emit_asff(package_findings(3), AsffContext(ACCOUNT, "us-east-1", scope(), now="2026-11-22T12:00:00Z"))
    broken = {**emitted.findings[1], "Severity": {"Label": "SEVERE"}, "Title": "t" * 300}
    findings = [emitted.findings[0], broken, emitted.findings[2]]
    publish_scope = PublishScope(product_arn=product_arn(ACCOUNT, "us-east-1"), repository="octo/shop",
                                 categories=frozenset({"sca"}))
    publisher = SecurityHubPublisher(client_for(session, "securityhub", settings), settings)
    outcome = publish_asff(findings, publish_scope, publisher, datetime.now(timezone.utc))
    (failure,) = outcome.failed
    assert (failure.id, failure.code) == (broken["Id"], "InvalidFinding")
    assert "Severity.Label: 'SEVERE' is not one of" in failure.message and "Title: 300 characters" in failure.message
    assert not failure.message.startswith(broken["Id"])  # the Id is said once, by the report line
    assert set(hub_ids(session, aws)) == {emitted.findings[0]["Id"], emitted.findings[2]["Id"]}
    assert outcome.imported == 2 and outcome.requests == 1
