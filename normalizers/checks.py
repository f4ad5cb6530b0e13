"""Equivalent IaC and Dockerfile checks across Checkov, Trivy, KICS and hadolint (tables/iac_checks.yml)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from normalizers.model import Severity
from normalizers.numbers import small_int
from normalizers.tables import load_table

_TRIVY_ID = re.compile(r"^(?:AVD-)?([A-Z]+)-?(\d+)$")


@dataclass(frozen=True)
class Check:
    """One problem as every tool that knows it names it, and its calibrated severity."""

    problem: str
    ids: frozenset[str]
    severity: Severity
    source: str  # "Trivy DS-0002", "KICS <uuid>" or "Tollgate"
    why: str | None = None

    @property
    def overrides_every_tool(self) -> bool:
        """Tollgate's own rating applies to every tool; a tool's rating only to tools without one."""
        return self.source == "Tollgate"


def canonical_id(rule_id: str) -> str:
    """DS002, AVD-DS-0002 and ds-0002 are one Trivy id; Checkov, hadolint and KICS ids pass upper-cased."""
    rule_id = rule_id.strip().upper()
    match = _TRIVY_ID.match(rule_id)
    if match and not rule_id.startswith(("CKV", "DL", "SC")):
        prefix, digits = match.groups()
        number = small_int(digits)
        return f"{prefix}-{number:04d}" if number is not None else rule_id
    return rule_id


@functools.cache
def _table() -> dict[str, Check]:
    document = load_table("normalizers.tables", "iac_checks.yml")
    by_id: dict[str, Check] = {}
    for entry in document["checks"]:
        ids = frozenset(canonical_id(i) for i in entry["ids"])
        check = Check(entry["problem"], ids, Severity(entry["severity"]), entry["from"], entry.get("why"))
        for rule_id in ids:
            if rule_id in by_id:
                raise ValueError(f"iac_checks.yml: {rule_id} is in two entries")
            by_id[rule_id] = check
    return by_id


def check_for(rule_id: str) -> Check | None:
    return _table().get(canonical_id(rule_id))


def all_checks() -> frozenset[Check]:
    return frozenset(_table().values())
