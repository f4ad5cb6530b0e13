"""The lifecycle plan: CreatedAt kept, UpdatedAt strictly increasing, archiving only inside the scope
(repository + environment, never the branch), unchanged findings not re-sent, alerts only when new or worse."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from normalizers.emit.asff import AsffContext, emit_asff
from pipeline.publish.lifecycle import (
    ALERT_FIRST_SEEN,
    ALERT_SEVERITY_INCREASED,
    ARCHIVED,
    PRODUCT_FIELD_ALERT,
    PRODUCT_FIELD_BRANCH,
    PRODUCT_FIELD_CATEGORY,
    PRODUCT_FIELD_DIGEST,
    PRODUCT_FIELD_ENVIRONMENT,
    PRODUCT_FIELD_PREVIOUS_ID,
    PRODUCT_FIELD_REPOSITORY,
    TOLLGATE_GENERATOR_PREFIX,
    PublishScope,
    content_digest,
    format_timestamp,
    next_updated_at,
    parse_timestamp,
    plan_import,
)
from tests.pipeline.publish.helpers import code_findings, package_findings, scope

ACCOUNT = "123456789012"
PRODUCT = f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"
NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
EARLIER = "2026-11-01T08:00:00.000Z"
SCOPE = PublishScope(product_arn=PRODUCT, repository="octo/shop", categories=frozenset({"sca"}))


def asff(finding_id: str, *, repository: str = "octo/shop", category: str = "sca", branch: str | None = "main",
         environment: str | None = None, stamp: str = EARLIER, **extra: Any) -> dict[str, Any]:
    fields = {PRODUCT_FIELD_REPOSITORY: repository, PRODUCT_FIELD_CATEGORY: category}
    if branch:
        fields[PRODUCT_FIELD_BRANCH] = branch
    if environment:
        fields[PRODUCT_FIELD_ENVIRONMENT] = environment
    return {
        "Id": finding_id,
        "ProductArn": PRODUCT,
        "GeneratorId": f"tollgate/{category}/trivy",
        "CreatedAt": stamp,
        "UpdatedAt": stamp,
        "ProductFields": fields,
        **extra,
    }


def fresh(finding_id: str, **kwargs: Any) -> dict[str, Any]:
    return asff(finding_id, stamp=format_timestamp(NOW), **kwargs)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T12:00:00Z", datetime(2026, 11, 22, 12, tzinfo=timezone.utc)),
        ("2026-11-22T12:00:00.5Z", datetime(2026, 11, 22, 12, 0, 0, 500000, tzinfo=timezone.utc)),
        ("2026-11-22T12:00:00.123456789Z", datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2026-11-22T14:00:00.000+02:00", datetime(2026, 11, 22, 12, tzinfo=timezone.utc)),
        ("2026-11-22T14:00:00+0200", datetime(2026, 11, 22, 12, tzinfo=timezone.utc)),
    ],
)
def test_timestamps_parse_in_every_form_security_hub_returns(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_timestamps_are_written_in_utc_with_milliseconds() -> None:
    moment = datetime(2026, 11, 22, 14, 0, 0, 123999, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == "2026-11-22T12:00:00.123Z"


def test_a_bad_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_timestamp("yesterday")


def test_updated_at_is_now_or_one_millisecond_past_the_stored_one() -> None:
    assert next_updated_at(NOW, None) == NOW
    assert next_updated_at(NOW, NOW - timedelta(hours=1)) == NOW
    assert next_updated_at(NOW, NOW) == NOW + timedelta(milliseconds=1)
    assert next_updated_at(NOW, NOW + timedelta(seconds=5)) == NOW + timedelta(seconds=5, milliseconds=1)


def test_a_new_finding_is_sent_as_emitted() -> None:
    plan = plan_import([fresh("a")], [], SCOPE, NOW)
    assert plan.new_ids == {"a"} and not plan.updated_ids and not plan.archived_ids
    fields = {**fresh("a")["ProductFields"], PRODUCT_FIELD_DIGEST: content_digest(fresh("a")),
              PRODUCT_FIELD_ALERT: ALERT_FIRST_SEEN}
    assert plan.findings == ({**fresh("a"), "RecordState": "ACTIVE", "ProductFields": fields},)
    assert plan.alerts == (("a", ALERT_FIRST_SEEN),)


def test_a_seen_finding_keeps_created_at_and_moves_updated_at_forward() -> None:
    stored = asff("a", stamp="2026-11-01T08:00:00.000Z", UpdatedAt="2026-11-22T12:00:00.000Z")
    (sent,) = plan_import([fresh("a")], [stored], SCOPE, NOW).findings
    assert sent["CreatedAt"] == "2026-11-01T08:00:00.000Z"
    assert sent["UpdatedAt"] == "2026-11-22T12:00:00.001Z"  # the clock did not move: +1 ms


def test_an_archived_finding_that_returns_is_active_again_with_its_first_sighting() -> None:
    stored = asff("a", RecordState=ARCHIVED)
    plan = plan_import([fresh("a")], [stored], SCOPE, NOW)
    assert plan.updated_ids == {"a"} and not plan.archived_ids
    assert plan.findings[0]["RecordState"] == "ACTIVE"
    assert plan.findings[0]["CreatedAt"] == EARLIER


def test_a_finding_gone_from_the_scope_is_archived_without_customer_fields() -> None:
    stored = asff("gone", RecordState="ACTIVE", Workflow={"Status": "NOTIFIED"}, Note={"Text": "triaged"})
    plan = plan_import([fresh("kept")], [stored], SCOPE, NOW)
    assert plan.archived_ids == {"gone"}
    archived = plan.findings[-1]
    assert archived["RecordState"] == ARCHIVED
    assert archived["UpdatedAt"] == format_timestamp(NOW)
    assert archived["CreatedAt"] == EARLIER
    assert "Workflow" not in archived and "Note" not in archived


@pytest.mark.parametrize(
    "outside",
    [
        asff("other-repo", repository="octo/other"),
        asff("other-category", category="sast"),
        asff("has-environment", environment="staging"),
        asff("not-tollgate", GeneratorId="trivy/CVE-2024-1"),
        asff("other-product", ProductArn="arn:aws:securityhub:us-east-1::product/aquasecurity/aquasecurity"),
        asff("already-archived", RecordState=ARCHIVED),
    ],
    ids=lambda f: f["Id"],
)
def test_nothing_outside_the_scope_is_archived(outside: dict[str, Any]) -> None:
    plan = plan_import([], [outside], SCOPE, NOW)
    assert plan.findings == () and not plan.archived_ids


def test_the_default_branch_archives_what_any_branch_without_an_environment_left_active() -> None:
    """A finding a release branch or a PR once published is no orphan: the branch is a property, not a scope."""
    stored = [asff("from-feature", branch="feature"), asff("from-pr", branch="12/merge"),
              asff("no-branch", branch=None)]
    assert plan_import([], stored, SCOPE, NOW).archived_ids == {"from-feature", "from-pr", "no-branch"}


def test_an_environment_scope_archives_its_environment_on_any_branch() -> None:
    scope = PublishScope(product_arn=PRODUCT, repository="octo/shop", categories=frozenset({"dast"}),
                         environment="staging")
    stored = [
        asff("staging-dast", category="dast", environment="staging", branch="release"),
        asff("prod-dast", category="dast", environment="production"),
        asff("branch-dast", category="dast"),
    ]
    assert plan_import([], stored, scope, NOW).archived_ids == {"staging-dast"}


def test_foreign_findings_with_a_colliding_id_lend_no_created_at() -> None:
    foreign = asff("a", ProductArn="arn:aws:securityhub:us-east-1::product/aquasecurity/aquasecurity")
    plan = plan_import([fresh("a")], [foreign], SCOPE, NOW)
    assert plan.new_ids == {"a"}
    assert plan.findings[0]["CreatedAt"] == format_timestamp(NOW)


def test_an_unreadable_stored_timestamp_falls_back_to_now() -> None:
    stored = asff("a", UpdatedAt="last tuesday")
    (sent,) = plan_import([fresh("a")], [stored], SCOPE, NOW).findings
    assert (sent["CreatedAt"], sent["UpdatedAt"]) == (EARLIER, format_timestamp(NOW))


def test_a_repeated_id_is_sent_once_and_reported() -> None:
    plan = plan_import([fresh("a"), fresh("a", Title="second")], [], SCOPE, NOW)
    assert len(plan.findings) == 1 and "Title" not in plan.findings[0]
    assert plan.duplicate_ids == ("a",)


def test_the_emitter_writes_the_fields_the_lifecycle_scopes_by() -> None:
    """The contract with normalizers.emit.asff: a rename there must fail here, not disable archiving."""
    findings = (*package_findings(1), *code_findings(1))
    context = AsffContext(ACCOUNT, "us-east-1", scope(environment="staging"), now=format_timestamp(NOW))
    emitted = emit_asff(findings, context).findings
    publish_scope = PublishScope(product_arn=PRODUCT, repository="octo/shop", categories=frozenset({"sca", "sast"}),
                                 environment="staging")
    assert [publish_scope.covers(f) for f in emitted] == [True, True]
    assert all(f["GeneratorId"].startswith(TOLLGATE_GENERATOR_PREFIX) for f in emitted)
    assert {f["ProductFields"][PRODUCT_FIELD_BRANCH] for f in emitted} == {"main"}


def test_a_v1_id_is_superseded_once_by_its_v2_id_keeping_its_first_sighting() -> None:
    """docs/identity.md: the first v2 publish updates, it does not create and archive."""
    stored_v1 = asff("tollgate/octo/shop/sca/v1-id")
    current = fresh("tollgate/octo/shop/sca/v2-id")
    current["ProductFields"] = {**current["ProductFields"], PRODUCT_FIELD_PREVIOUS_ID: stored_v1["Id"]}
    plan = plan_import([current], [stored_v1], SCOPE, NOW)
    assert not plan.new_ids and plan.updated_ids == {current["Id"]}
    assert plan.superseded_ids == {stored_v1["Id"]} and not plan.archived_ids
    sent, archived_v1 = plan.findings
    assert sent["CreatedAt"] == EARLIER and sent["RecordState"] == "ACTIVE"
    assert archived_v1["Id"] == stored_v1["Id"] and archived_v1["RecordState"] == ARCHIVED


def test_the_emitter_names_each_findings_v1_id() -> None:
    (document,) = emit_asff(code_findings(1), AsffContext(account=ACCOUNT, region="us-east-1",
                                                              scope=scope())).findings
    previous = document["ProductFields"][PRODUCT_FIELD_PREVIOUS_ID]
    assert previous.startswith("tollgate/") and previous != document["Id"]


def stored_as_sent(finding: dict[str, Any], updated: datetime) -> dict[str, Any]:
    """What Security Hub holds after `finding` was imported at `updated`, plus what it adds itself."""
    (sent,) = plan_import([finding], [], SCOPE, updated).findings
    return {**sent, "UpdatedAt": format_timestamp(updated), "Workflow": {"Status": "NOTIFIED"},
            "ProcessedAt": format_timestamp(updated)}


def with_run(finding: dict[str, Any], commit: str, branch: str = "main") -> dict[str, Any]:
    fields = {**finding["ProductFields"], "tollgate/Commit": commit, PRODUCT_FIELD_BRANCH: branch}
    resources = [{"Type": "CodeRepository", "Id": "octo/shop", "Details": {"Other": {"Commit": commit, "Branch": branch,
                                                                                     "Package": "lib"}}}]
    return {**finding, "ProductFields": fields, "Resources": resources, "Severity": {"Label": "HIGH"}}


def test_an_unchanged_finding_is_not_sent_again_before_the_refresh_interval() -> None:
    first = with_run(fresh("a"), "1" * 40)
    stored = stored_as_sent(first, NOW - timedelta(days=29))
    again = with_run(fresh("a"), "2" * 40, branch="main")  # a new commit alone is no change
    plan = plan_import([again], [stored], SCOPE, NOW)
    assert plan.findings == () and plan.unchanged_ids == {"a"} and not plan.updated_ids and not plan.alerts


def test_an_unchanged_finding_is_refreshed_once_stale_without_an_alert() -> None:
    stored = stored_as_sent(with_run(fresh("a"), "1" * 40), NOW - timedelta(days=30))
    plan = plan_import([with_run(fresh("a"), "1" * 40)], [stored], SCOPE, NOW)
    (sent,) = plan.findings
    assert plan.updated_ids == {"a"} and PRODUCT_FIELD_ALERT not in sent["ProductFields"] and not plan.alerts
    short = plan_import([with_run(fresh("a"), "1" * 40)], [stored], SCOPE, NOW, refresh=timedelta(days=31))
    assert short.findings == ()  # the interval is configurable


def test_a_severity_increase_alerts_and_a_decrease_is_sent_quietly() -> None:
    stored = stored_as_sent(with_run(fresh("a"), "1" * 40), NOW - timedelta(days=1))
    worse = {**with_run(fresh("a"), "1" * 40), "Severity": {"Label": "CRITICAL"}}
    better = {**with_run(fresh("a"), "1" * 40), "Severity": {"Label": "LOW"}}
    assert plan_import([worse], [stored], SCOPE, NOW).alerts == (("a", ALERT_SEVERITY_INCREASED),)
    quiet = plan_import([better], [stored], SCOPE, NOW)
    assert quiet.updated_ids == {"a"} and not quiet.alerts


def test_a_finding_stored_without_a_digest_is_sent_once_to_gain_one() -> None:
    stored = asff("a", UpdatedAt=format_timestamp(NOW - timedelta(hours=1)))
    (sent,) = plan_import([fresh("a")], [stored], SCOPE, NOW).findings
    assert sent["ProductFields"][PRODUCT_FIELD_DIGEST] == content_digest(fresh("a"))
    assert PRODUCT_FIELD_ALERT not in sent["ProductFields"]


def test_archiving_and_tool_suppressed_findings_never_alert() -> None:
    stored = stored_as_sent(fresh("gone"), NOW - timedelta(days=1))
    assert stored["ProductFields"][PRODUCT_FIELD_ALERT] == ALERT_FIRST_SEEN  # as first imported
    plan = plan_import([fresh("suppressed", RecordState=ARCHIVED)], [stored], SCOPE, NOW)
    archived, = (f for f in plan.findings if f["Id"] == "gone")
    assert PRODUCT_FIELD_ALERT not in archived["ProductFields"] and not plan.alerts


def test_a_superseded_v1_finding_does_not_alert_as_new() -> None:
    stored_v1 = asff("v1")
    current = fresh("v2")
    current["ProductFields"] = {**current["ProductFields"], PRODUCT_FIELD_PREVIOUS_ID: "v1"}
    assert not plan_import([current], [stored_v1], SCOPE, NOW).alerts


def compliance(finding_id: str, status: str, item: str = "KISA Unix 2026 U-13", host: str = "web-01",
               **kwargs: Any) -> dict[str, Any]:
    return {**asff(finding_id, category="host", **kwargs), "Resources": [{"Type": "Other", "Id": host}],
            "Compliance": {"Status": status, "RelatedRequirements": [item]}}


def test_a_failed_requirement_that_passes_now_is_archived_as_passed_and_nothing_alerts() -> None:
    host_scope = PublishScope(product_arn=PRODUCT, repository="octo/shop", categories=frozenset({"host"}))
    stored = [compliance("fail-u13", "FAILED"), compliance("fail-u13-db", "FAILED", host="db-01"),
              compliance("fail-u02", "FAILED", "KISA Unix 2026 U-02")]
    current = [{**compliance("pass-u13", "PASSED", stamp=format_timestamp(NOW))},
               {**compliance("pass-u02", "PASSED", "KISA Unix 2026 U-02", host="db-01", stamp=format_timestamp(NOW))}]
    plan = plan_import(current, stored, host_scope, NOW)
    sent = {f["Id"]: f for f in plan.findings}
    assert plan.archived_ids == {"fail-u13", "fail-u13-db", "fail-u02"}
    # U-13 passes on web-01 only; U-02 passes on db-01, not on web-01 where it failed
    assert plan.resolved_ids == {"fail-u13"}
    assert sent["fail-u13"]["Compliance"]["Status"] == "PASSED" and sent["fail-u13"]["RecordState"] == ARCHIVED
    assert sent["fail-u13-db"]["Compliance"]["Status"] == sent["fail-u02"]["Compliance"]["Status"] == "FAILED"
    assert plan.new_ids == {"pass-u13", "pass-u02"} and plan.alerts == ()  # a passed check never alerts
    assert "Workflow" not in sent["fail-u13"]  # the customer's, never the provider's
