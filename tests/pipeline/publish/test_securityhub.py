"""The Security Hub lifecycle against moto's real server, through boto3 over HTTP (docs/design.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from normalizers.identity import scoped_id
from pipeline.publish.lifecycle import ARCHIVED
from pipeline.publish.securityhub import PublishOutcome, PublishRequest, PublishSettings, publish
from tests.pipeline.publish.helpers import CallCounter, code_findings, package_findings, scope

T0 = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
ACCOUNT = "123456789012"  # moto's default account, as STS GetCallerIdentity reports it

pytest_plugins = ("tests.moto_server",)  # moto_server (one per session) and aws (reset per test)


@pytest.fixture
def session(aws: str) -> boto3.session.Session:
    return boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def settings(aws: str) -> PublishSettings:
    return PublishSettings(region="us-east-1", endpoint_url=aws)


def stored(session: boto3.session.Session, endpoint: str) -> dict[str, dict[str, Any]]:
    """Everything Security Hub holds, by Id (moto ignores filters, so this is all of it)."""
    client = session.client("securityhub", endpoint_url=endpoint)
    return {f["Id"]: f for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]}


def run(session: boto3.session.Session, settings: PublishSettings, findings: tuple[Any, ...],
        now: datetime = T0, **request: Any) -> PublishOutcome:
    publish_request = PublishRequest(findings=findings, scope=request.pop("scope", scope()), **request)
    return publish(publish_request, settings, session=session, now=now)


def without_updated_at(findings: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for finding_id, finding in sorted(findings.items()):
        yield finding_id, {key: value for key, value in finding.items() if key != "UpdatedAt"}


def test_1000_findings_take_exactly_10_calls(session: boto3.session.Session, settings: PublishSettings,
                                             aws: str) -> None:
    counter = CallCounter(session)
    outcome = run(session, settings, package_findings(1000))
    assert counter.calls == 10
    assert (outcome.imported, outcome.updated, outcome.archived, outcome.failed) == (1000, 0, 0, ())
    assert outcome.requests == 10
    hub = stored(session, aws)
    assert len(hub) == 1000
    assert {f["AwsAccountId"] for f in hub.values()} == {ACCOUNT}  # from STS, not a default
    assert {f["ProductArn"] for f in hub.values()} == {
        f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"
    }


def test_the_same_run_again_makes_no_call_until_the_findings_are_stale(
    session: boto3.session.Session, settings: PublishSettings, aws: str
) -> None:
    findings = package_findings(1000)
    run(session, settings, findings, now=T0)
    before = stored(session, aws)
    counter = CallCounter(session)
    outcome = run(session, settings, findings, now=T0 + timedelta(days=29))
    assert (outcome.imported, outcome.updated, outcome.archived, outcome.unchanged) == (0, 0, 0, 1000)
    assert counter.calls == 0 and stored(session, aws) == before  # nothing re-imported, so nothing alerts
    refreshed = run(session, settings, findings, now=T0 + timedelta(days=30))
    after = stored(session, aws)
    assert (refreshed.updated, refreshed.unchanged, counter.calls) == (1000, 0, 10)
    assert after.keys() == before.keys()
    assert all(after[i]["CreatedAt"] == before[i]["CreatedAt"] == "2026-11-22T12:00:00.000Z" for i in before)
    assert {f["UpdatedAt"] for f in after.values()} == {"2026-12-22T12:00:00.000Z"}
    assert all("tollgate/Alert" not in f["ProductFields"] for f in after.values())  # a refresh never alerts
    assert {f["ProductFields"]["tollgate/Alert"] for f in before.values()} == {"FirstSeen"}


def test_updated_at_grows_even_when_the_clock_has_not(session: boto3.session.Session, settings: PublishSettings,
                                                      aws: str) -> None:
    findings = package_findings(3)
    settings = dataclasses.replace(settings, refresh_interval=timedelta(0))  # re-send even what is unchanged
    run(session, settings, findings, now=T0)
    run(session, settings, findings, now=T0)
    run(session, settings, findings, now=T0 - timedelta(seconds=30))  # a runner with a slow clock
    assert {f["UpdatedAt"] for f in stored(session, aws).values()} == {"2026-11-22T12:00:00.002Z"}


def test_ten_findings_gone_are_archived_and_nothing_else_changes(
    session: boto3.session.Session, settings: PublishSettings, aws: str
) -> None:
    findings = package_findings(200)
    run(session, settings, findings, now=T0)
    before = stored(session, aws)
    gone = {scoped_id(scope(), f) for f in findings[50:60]}
    remaining = findings[:50] + findings[60:]
    outcome = run(session, settings, remaining, now=T0 + timedelta(hours=1))
    after = stored(session, aws)
    assert (outcome.imported, outcome.updated, outcome.archived, outcome.failed) == (0, 0, 10, ())
    assert (outcome.unchanged, outcome.requests) == (190, 1)
    assert {i for i, f in after.items() if f["RecordState"] == ARCHIVED} == gone
    for finding_id in gone:
        assert after[finding_id]["CreatedAt"] == before[finding_id]["CreatedAt"]
        assert after[finding_id]["UpdatedAt"] == "2026-11-22T13:00:00.000Z"
    unchanged = {i: f for i, f in after.items() if i not in gone}
    assert list(without_updated_at(unchanged)) == list(without_updated_at({i: before[i] for i in unchanged}))
    again = run(session, settings, remaining, now=T0 + timedelta(hours=2))
    assert again.archived == 0  # archived findings stay archived; they are not archived again


def test_other_repositories_and_categories_are_untouched_other_branches_are_not_scopes(
    session: boto3.session.Session, settings: PublishSettings, aws: str
) -> None:
    run(session, settings, package_findings(30), scope=scope("octo/other"))
    run(session, settings, package_findings(30), scope=scope(branch="release"))
    run(session, settings, code_findings(5), scope=scope())
    run(session, settings, package_findings(20, start=100), scope=scope())
    untouched = stored(session, aws)
    outcome = run(session, settings, (), scope=scope(), categories=frozenset({"sca"}), now=T0 + timedelta(days=1))
    after = stored(session, aws)
    archived = {i for i, f in after.items() if f["RecordState"] == ARCHIVED}
    # The release branch's 30 were archived by the first main run that no longer reported them: no orphans.
    assert (outcome.archived, len(archived)) == (20, 30 + 20)
    assert {f["ProductFields"]["tollgate/Branch"] for i, f in after.items() if i in archived} == {"main", "release"}
    assert {i: f for i, f in after.items() if i not in archived} == {
        i: f for i, f in untouched.items() if i not in archived
    }
    assert len(after) == len(untouched) == 30 + 30 + 5 + 20


def test_an_environment_scopes_both_identity_and_archiving(
    session: boto3.session.Session, settings: PublishSettings, aws: str
) -> None:
    run(session, settings, package_findings(10), scope=scope(environment="staging"))
    run(session, settings, package_findings(10), scope=scope(environment="production"))
    assert len(stored(session, aws)) == 20  # same problems, two environments: two findings each
    outcome = run(session, settings, package_findings(5), scope=scope(environment="staging"), now=T0 + timedelta(1))
    assert outcome.archived == 5
    archived = [f for f in stored(session, aws).values() if f["RecordState"] == ARCHIVED]
    assert {f["ProductFields"]["tollgate/Environment"] for f in archived} == {"staging"}


def test_an_explicit_account_skips_sts_and_is_written_everywhere(
    session: boto3.session.Session, settings: PublishSettings, aws: str
) -> None:
    outcome = run(session, settings, package_findings(2), account="210987654321")
    assert outcome.imported == 2
    (arns,) = {f["ProductArn"] for f in stored(session, aws).values()}
    assert arns == "arn:aws:securityhub:us-east-1:210987654321:product/210987654321/default"

