"""The Security Hub finding lifecycle (docs/design.md), as pure functions over ASFF dicts.

Given this run's ASFF findings and the findings Security Hub already holds, `plan_import`
decides what to send:
- `CreatedAt` is the first sighting: an Id seen before keeps its stored `CreatedAt`.
- `UpdatedAt` strictly increases: max(now, previous `UpdatedAt` + 1 ms). Security Hub
  silently ignores an update whose `UpdatedAt` is not newer than the stored one.
- Active Tollgate findings of the scanned scope that this run no longer reports are
  re-imported with `RecordState: ARCHIVED`. The scope is repository + environment (none:
  the default branch's state) + category; the branch is a property of a finding, never a
  scope (docs/security-hub.md). Nothing outside the scope is ever touched, and only
  Tollgate's own findings (the account's default product, a `tollgate/` GeneratorId) are
  considered, whatever a server's filters returned.
- No alert storms: a finding whose content digest (`tollgate/Digest`: everything but the
  timestamps and the branch and commit of the run) and record state match the stored ones
  is not sent again until its stored `UpdatedAt` is older than the refresh interval (30
  days by default, well inside Security Hub's 90-day expiry of findings not updated).
  `tollgate/Alert` is set only on the import that is a first sighting (`FirstSeen`) or
  raises the severity (`SeverityIncreased`): the alert rule matches it, so refreshes and
  archiving never alert, and neither does a passed compliance check (`Compliance.Status: PASSED`).
- A gone finding that failed a compliance requirement (`Compliance.Status: FAILED`) which this run
  reports PASSED on the same resource is archived with `Compliance.Status: PASSED`: the item was
  fixed, not merely no longer seen (`resolved_ids`). `Workflow.Status` stays the customer's: a
  provider cannot set it through BatchImportFindings once a finding exists.

Identity migration (docs/identity.md): a finding whose Id is new but whose
`tollgate/PreviousId` (its Id under identity v1) is stored takes over that finding's
`CreatedAt` and counts as updated, not new; the old-scheme Id is archived like any finding
this run no longer reports, so each problem is one ACTIVE finding, never two.

The Id does not contain the branch (normalizers.identity.scoped_id): one finding per problem
and environment. Which runs may publish at all (never pull requests; other branches than the
default one only as named environments) is decided before this, in pipeline.publish.eligibility.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

AsffFinding = Mapping[str, Any]

# The ProductFields keys normalizers.emit.asff writes; tests/pipeline/publish/test_lifecycle.py checks
# the emitter's output against them, so a rename there cannot silently disable archiving.
PRODUCT_FIELD_REPOSITORY = "tollgate/Repository"
PRODUCT_FIELD_CATEGORY = "tollgate/Category"
PRODUCT_FIELD_BRANCH = "tollgate/Branch"
PRODUCT_FIELD_ENVIRONMENT = "tollgate/Environment"
PRODUCT_FIELD_PREVIOUS_ID = "tollgate/PreviousId"
PRODUCT_FIELD_COMMIT = "tollgate/Commit"
# Written here, not by the emitter: what the alert rule and the next run read.
PRODUCT_FIELD_DIGEST = "tollgate/Digest"
PRODUCT_FIELD_ALERT = "tollgate/Alert"
ALERT_FIRST_SEEN = "FirstSeen"
ALERT_SEVERITY_INCREASED = "SeverityIncreased"
DEFAULT_REFRESH_INTERVAL = timedelta(days=30)
# What describes the run rather than the finding: a new commit alone is no change.
RUN_PRODUCT_FIELDS = frozenset({PRODUCT_FIELD_BRANCH, PRODUCT_FIELD_COMMIT, PRODUCT_FIELD_DIGEST, PRODUCT_FIELD_ALERT})
RUN_RESOURCE_DETAILS = frozenset({"Branch", "Commit"})
SEVERITY_RANK = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}

TOLLGATE_GENERATOR_PREFIX = "tollgate/"
ACTIVE = "ACTIVE"
ARCHIVED = "ARCHIVED"
PASSED, FAILED = "PASSED", "FAILED"  # Compliance.Status
MINIMUM_STEP = timedelta(milliseconds=1)
# Fields Security Hub keeps for the customer's triage or fills itself; a finding provider
# may not send them back, so they are dropped when a stored finding is re-imported.
CUSTOMER_OWNED_FIELDS = frozenset(
    {"Note", "UserDefinedFields", "VerificationState", "Workflow", "WorkflowState", "ProcessedAt"}
)
_TIMESTAMP = re.compile(
    r"^(?P<base>\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(?P<fraction>\d+))?(?P<zone>[Zz]|[+-]\d\d:?\d\d)?$"
)


def parse_timestamp(value: str) -> datetime:
    """RFC 3339 as Security Hub returns it: `Z` or an offset, any number of fraction digits."""
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = match["zone"] or "Z"
    zone = "+00:00" if zone in ("Z", "z") else f"{zone[:3]}:{zone[-2:]}"
    parsed = datetime.fromisoformat(f"{match['base']}.{fraction}{zone}")
    return parsed.astimezone(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """Millisecond precision, UTC, `Z`: the format Security Hub's own findings use."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def next_updated_at(now: datetime, previous_updated_at: datetime | None) -> datetime:
    if previous_updated_at is None:
        return now
    return max(now, previous_updated_at + MINIMUM_STEP)


@dataclass(frozen=True)
class PublishScope:
    """What one run scanned. Only findings of this scope can be archived by the run."""

    product_arn: str
    repository: str
    categories: frozenset[str]
    environment: str | None = None  # None: the default branch's state

    def owns(self, finding: AsffFinding) -> bool:
        """Tollgate's finding, in this account's product, for this repository."""
        return (
            finding.get("ProductArn") == self.product_arn
            and str(finding.get("GeneratorId", "")).startswith(TOLLGATE_GENERATOR_PREFIX)
            and product_field(finding, PRODUCT_FIELD_REPOSITORY) == self.repository
        )

    def covers(self, finding: AsffFinding) -> bool:
        """Inside the archive scope: same repository and environment (whatever branch reported it), a scanned
        category."""
        if not self.owns(finding) or product_field(finding, PRODUCT_FIELD_CATEGORY) not in self.categories:
            return False
        return product_field(finding, PRODUCT_FIELD_ENVIRONMENT) == (self.environment or None)


def product_field(finding: AsffFinding, key: str) -> str | None:
    fields = finding.get("ProductFields") or {}
    value = fields.get(key)
    return str(value) if value else None


@dataclass(frozen=True)
class ImportPlan:
    """The findings to send, in order (this run's, then the archived), and what each one is."""

    findings: tuple[AsffFinding, ...]
    new_ids: frozenset[str]
    updated_ids: frozenset[str]
    archived_ids: frozenset[str]  # gone from this run; not the superseded ones
    resolved_ids: frozenset[str] = frozenset()  # archived ones whose failed requirement passes now
    duplicate_ids: tuple[str, ...] = ()
    superseded_ids: frozenset[str] = frozenset()  # old-scheme Ids archived because a v2 Id took over
    unchanged_ids: frozenset[str] = frozenset()  # reported again, stored and fresh: not sent
    alerts: tuple[tuple[str, str], ...] = ()  # (Id, ALERT_*) of the findings that will alert


def unique_by_id(findings: Iterable[AsffFinding]) -> tuple[list[AsffFinding], list[str]]:
    """The first finding per Id, and the Ids seen more than once (an emitter bug, reported)."""
    seen: set[str] = set()
    unique: list[AsffFinding] = []
    duplicates: list[str] = []
    for finding in findings:
        finding_id = finding["Id"]
        if finding_id in seen:
            duplicates.append(finding_id)
            continue
        seen.add(finding_id)
        unique.append(finding)
    return unique, duplicates


def stored_updated_at(previous: AsffFinding) -> datetime | None:
    """The stored UpdatedAt; None when it is unreadable (moto stores whatever it was sent)."""
    try:
        return parse_timestamp(str(previous["UpdatedAt"]))
    except (KeyError, ValueError):
        return None


def content_digest(finding: AsffFinding) -> str:
    """SHA-256 of what the finding says, without the timestamps and the run's branch and commit."""
    fields = {k: v for k, v in (finding.get("ProductFields") or {}).items() if k not in RUN_PRODUCT_FIELDS}
    resources = [_without_run_details(resource) for resource in finding.get("Resources") or ()]
    content = {**finding, "ProductFields": fields, "Resources": resources}
    for volatile in ("CreatedAt", "UpdatedAt"):
        content.pop(volatile, None)
    content.setdefault("RecordState", ACTIVE)
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _without_run_details(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    details = resource.get("Details") or {}
    other = details.get("Other")
    if not other:
        return resource
    kept = {k: v for k, v in other.items() if k not in RUN_RESOURCE_DETAILS}
    return {**resource, "Details": {**details, "Other": kept}}


def severity_rank(finding: AsffFinding) -> int:
    return SEVERITY_RANK.get(str((finding.get("Severity") or {}).get("Label", "")), -1)


def alert_of(finding: AsffFinding, previous: AsffFinding | None, first_seen: bool) -> str | None:
    """FirstSeen for a new problem, SeverityIncreased when it got worse; nothing else alerts."""
    if finding.get("RecordState", ACTIVE) != ACTIVE or compliance_status(finding) == PASSED:
        return None
    if first_seen:
        return ALERT_FIRST_SEEN
    if previous is not None and severity_rank(finding) > severity_rank(previous):
        return ALERT_SEVERITY_INCREASED
    return None


def is_unchanged(finding: AsffFinding, digest: str, previous: AsffFinding, now: datetime, refresh: timedelta) -> bool:
    """Same digest and record state as stored, and stored recently enough: sending it again would only alert.
    A zero interval re-sends every run."""
    updated = stored_updated_at(previous)
    return (refresh > timedelta(0) and product_field(previous, PRODUCT_FIELD_DIGEST) == digest
            and previous.get("RecordState", ACTIVE) == finding.get("RecordState", ACTIVE)
            and updated is not None and now - updated < refresh)


def _stamped(finding: AsffFinding, now: datetime, previous: AsffFinding | None, digest: str,
             alert: str | None) -> dict[str, Any]:
    # ACTIVE unless the emitter said otherwise: a finding archived earlier and seen again revives.
    fields = {**(finding.get("ProductFields") or {}), PRODUCT_FIELD_DIGEST: digest,
              **({PRODUCT_FIELD_ALERT: alert} if alert else {})}
    if previous is None:
        return {"RecordState": ACTIVE, **finding, "ProductFields": fields}
    updated = format_timestamp(next_updated_at(now, stored_updated_at(previous)))
    stamps = {"CreatedAt": previous.get("CreatedAt") or finding["CreatedAt"], "UpdatedAt": updated}
    return {"RecordState": ACTIVE, **finding, **stamps, "ProductFields": fields}


def archived(previous: AsffFinding, now: datetime, passed: bool = False) -> dict[str, Any]:
    """A stored finding, re-imported as ARCHIVED with a newer UpdatedAt; archiving never alerts.
    `passed`: its failed requirement passes now, so its compliance status says so."""
    kept = {key: value for key, value in previous.items() if key not in CUSTOMER_OWNED_FIELDS}
    fields = {k: v for k, v in (previous.get("ProductFields") or {}).items() if k != PRODUCT_FIELD_ALERT}
    updated = next_updated_at(now, stored_updated_at(previous))
    if passed:
        kept["Compliance"] = {**kept["Compliance"], "Status": PASSED}
    return {**kept, "ProductFields": fields, "RecordState": ARCHIVED, "UpdatedAt": format_timestamp(updated)}


def compliance_status(finding: AsffFinding) -> str | None:
    return (finding.get("Compliance") or {}).get("Status")


def _requirements_on(finding: AsffFinding) -> set[tuple[str, str]]:
    """(resource Id, requirement) pairs the finding's compliance check speaks to."""
    requirements = (finding.get("Compliance") or {}).get("RelatedRequirements") or ()
    return {(str(resource.get("Id")), str(r)) for resource in finding.get("Resources") or () for r in requirements}


def _passed_now(previous: AsffFinding, passing: set[tuple[str, str]]) -> bool:
    """A stored FAILED compliance finding whose every requirement passes on its resource in this run."""
    pairs = _requirements_on(previous)
    return compliance_status(previous) == FAILED and bool(pairs) and pairs <= passing


def plan_import(
    current: Sequence[AsffFinding], stored: Iterable[AsffFinding], scope: PublishScope, now: datetime,
    refresh: timedelta = DEFAULT_REFRESH_INTERVAL,
) -> ImportPlan:
    """`current` is this run's ASFF; `stored` is whatever GetFindings returned (filtered here)."""
    unique, duplicates = unique_by_id(current)
    previous_by_id = {f["Id"]: f for f in stored if scope.owns(f)}
    current_ids = {f["Id"] for f in unique}
    migrated = {f["Id"]: previous_by_id[old] for f in unique if f["Id"] not in previous_by_id
                and (old := product_field(f, PRODUCT_FIELD_PREVIOUS_ID)) in previous_by_id}
    stamped: list[dict[str, Any]] = []
    unchanged: set[str] = set()
    for finding in unique:
        previous = previous_by_id.get(finding["Id"])
        digest = content_digest(finding)
        if previous is not None and is_unchanged(finding, digest, previous, now, refresh):
            unchanged.add(finding["Id"])
            continue
        earlier = previous or migrated.get(finding["Id"])
        stamped.append(_stamped(finding, now, earlier, digest, alert_of(finding, earlier, earlier is None)))
    passing = {pair for f in unique if compliance_status(f) == PASSED for pair in _requirements_on(f)}
    gone = [
        archived(previous, now, _passed_now(previous, passing))
        for finding_id, previous in previous_by_id.items()
        if finding_id not in current_ids and previous.get("RecordState", ACTIVE) == ACTIVE and scope.covers(previous)
    ]
    superseded = frozenset(previous["Id"] for previous in migrated.values())
    return ImportPlan(
        findings=(*stamped, *gone),
        new_ids=frozenset(current_ids - previous_by_id.keys() - migrated.keys()),
        updated_ids=frozenset((current_ids & previous_by_id.keys()) | migrated.keys()) - unchanged,
        archived_ids=frozenset(f["Id"] for f in gone) - superseded,
        resolved_ids=frozenset(f["Id"] for f in gone if compliance_status(f) == PASSED),
        duplicate_ids=tuple(duplicates),
        superseded_ids=superseded,
        unchanged_ids=frozenset(unchanged),
        alerts=tuple((f["Id"], f["ProductFields"][PRODUCT_FIELD_ALERT]) for f in stamped
                     if PRODUCT_FIELD_ALERT in f["ProductFields"]),
    )
