"""The Security Hub finding lifecycle (docs/design.md), as pure functions over ASFF dicts.

Given this run's ASFF findings and the findings Security Hub already holds, `plan_import`
decides what to send:
- `CreatedAt` is the first sighting: an Id seen before keeps its stored `CreatedAt`.
- `UpdatedAt` strictly increases: max(now, previous `UpdatedAt` + 1 ms). Security Hub
  silently ignores an update whose `UpdatedAt` is not newer than the stored one.
- Active Tollgate findings of the scanned scope that this run no longer reports are
  re-imported with `RecordState: ARCHIVED`. The scope is repository + (environment, or
  branch when there is no environment) + category. Nothing outside it is ever touched,
  and only Tollgate's own findings (the account's default product, a `tollgate/`
  GeneratorId) are considered, whatever a server's filters returned.

Identity migration (docs/identity.md): a finding whose Id is new but whose
`tollgate/PreviousId` (its Id under identity v1) is stored takes over that finding's
`CreatedAt` and counts as updated, not new; the old-scheme Id is archived like any finding
this run no longer reports, so each problem is one ACTIVE finding, never two.

The Id does not contain the branch (normalizers.identity.scoped_id), so one finding is
shared by every branch of a repository without an environment; its `ProductFields` say
which branch reported it last, and only a run on that branch can archive it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

AsffFinding = Mapping[str, Any]

# The ProductFields keys normalizers.emit.asff writes; tests/pipeline/publish/test_lifecycle.py checks
# the emitter's output against them, so a rename there cannot silently disable archiving.
PRODUCT_FIELD_REPOSITORY = "tollgate/Repository"
PRODUCT_FIELD_CATEGORY = "tollgate/Category"
PRODUCT_FIELD_BRANCH = "tollgate/Branch"
PRODUCT_FIELD_ENVIRONMENT = "tollgate/Environment"
PRODUCT_FIELD_PREVIOUS_ID = "tollgate/PreviousId"

TOLLGATE_GENERATOR_PREFIX = "tollgate/"
ACTIVE = "ACTIVE"
ARCHIVED = "ARCHIVED"
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
    environment: str | None = None
    branch: str | None = None

    def owns(self, finding: AsffFinding) -> bool:
        """Tollgate's finding, in this account's product, for this repository."""
        return (
            finding.get("ProductArn") == self.product_arn
            and str(finding.get("GeneratorId", "")).startswith(TOLLGATE_GENERATOR_PREFIX)
            and product_field(finding, PRODUCT_FIELD_REPOSITORY) == self.repository
        )

    def covers(self, finding: AsffFinding) -> bool:
        """Inside the archive scope: same repository, environment or branch, and a scanned category."""
        if not self.owns(finding) or product_field(finding, PRODUCT_FIELD_CATEGORY) not in self.categories:
            return False
        environment = product_field(finding, PRODUCT_FIELD_ENVIRONMENT)
        if self.environment:
            return environment == self.environment
        return environment is None and product_field(finding, PRODUCT_FIELD_BRANCH) == self.branch


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
    duplicate_ids: tuple[str, ...] = ()
    superseded_ids: frozenset[str] = frozenset()  # old-scheme Ids archived because a v2 Id took over


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


def _stamped(finding: AsffFinding, now: datetime, previous: AsffFinding | None) -> dict[str, Any]:
    # ACTIVE unless the emitter said otherwise: a finding archived earlier and seen again revives.
    if previous is None:
        return {"RecordState": ACTIVE, **finding}
    updated = format_timestamp(next_updated_at(now, stored_updated_at(previous)))
    stamps = {"CreatedAt": previous.get("CreatedAt") or finding["CreatedAt"], "UpdatedAt": updated}
    return {"RecordState": ACTIVE, **finding, **stamps}


def archived(previous: AsffFinding, now: datetime) -> dict[str, Any]:
    """A stored finding, re-imported as ARCHIVED with a newer UpdatedAt."""
    kept = {key: value for key, value in previous.items() if key not in CUSTOMER_OWNED_FIELDS}
    updated = next_updated_at(now, stored_updated_at(previous))
    return {**kept, "RecordState": ARCHIVED, "UpdatedAt": format_timestamp(updated)}


def plan_import(
    current: Sequence[AsffFinding], stored: Iterable[AsffFinding], scope: PublishScope, now: datetime
) -> ImportPlan:
    """`current` is this run's ASFF; `stored` is whatever GetFindings returned (filtered here)."""
    unique, duplicates = unique_by_id(current)
    previous_by_id = {f["Id"]: f for f in stored if scope.owns(f)}
    current_ids = {f["Id"] for f in unique}
    migrated = {f["Id"]: previous_by_id[old] for f in unique if f["Id"] not in previous_by_id
                and (old := product_field(f, PRODUCT_FIELD_PREVIOUS_ID)) in previous_by_id}
    stamped = [_stamped(f, now, previous_by_id.get(f["Id"]) or migrated.get(f["Id"])) for f in unique]
    gone = [
        archived(previous, now)
        for finding_id, previous in previous_by_id.items()
        if finding_id not in current_ids and previous.get("RecordState", ACTIVE) == ACTIVE and scope.covers(previous)
    ]
    superseded = frozenset(previous["Id"] for previous in migrated.values())
    return ImportPlan(
        findings=(*stamped, *gone),
        new_ids=frozenset(current_ids - previous_by_id.keys() - migrated.keys()),
        updated_ids=frozenset((current_ids & previous_by_id.keys()) | migrated.keys()),
        archived_ids=frozenset(f["Id"] for f in gone) - superseded,
        duplicate_ids=tuple(duplicates),
        superseded_ids=superseded,
    )
