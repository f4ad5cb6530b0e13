"""Calibrated severity: one scale across tools whose own ratings mean different things.

- Checkov: the severity of the equivalent Trivy or KICS check (tables/iac_checks.yml), else a
  rating from the check's name (tables/severity.yml); its SARIF level is "error" for every
  failed check, so it is never used.
- hadolint: error MEDIUM, warning LOW, info and style INFO, unless its check is in iac_checks.yml
  (DL3002, root user, is a security problem and takes that entry's HIGH).
- Bandit: its severity and its confidence together, never above the confidence.
- Trivy and KICS keep their own ratings, except where iac_checks.yml gives Tollgate's own
  (build hygiene they rate HIGH or CRITICAL).
Reasoning and sources: docs/severity.md.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from normalizers.checks import check_for
from normalizers.model import Severity
from normalizers.tables import load_table


@dataclass(frozen=True)
class RuleFacts:
    """What calibration reads about one result: which tool and rule, and what the tool said."""

    tool: str
    rule_id: str
    name: str  # the rule's short description or the message's first line
    level: str | None  # the SARIF level as the tool wrote it (or its default)
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class _Tables:
    hadolint: dict[str, Severity]
    bandit: dict[tuple[str, str], Severity]
    checkov_default: Severity
    checkov_prefixes: tuple[tuple[str, Severity], ...]
    checkov_names: tuple[tuple[re.Pattern[str], Severity], ...]


@functools.cache
def _tables() -> _Tables:
    document = load_table("normalizers.tables", "severity.yml")
    checkov = document["checkov"]
    return _Tables(
        hadolint={level: Severity(value) for level, value in document["hadolint"].items()},
        bandit={(severity, confidence): Severity(value)
                for severity, row in document["bandit"].items() for confidence, value in row.items()},
        checkov_default=Severity(checkov["default"]),
        checkov_prefixes=tuple((prefix, Severity(value)) for prefix, value in checkov["by_id_prefix"].items()),
        checkov_names=tuple((re.compile(entry["pattern"], re.I), Severity(entry["severity"]))
                            for entry in checkov["by_name"]),
    )


def _tool_key(tool: str) -> str:
    return tool.strip().lower().split()[0] if tool.strip() else ""


def calibrated(facts: RuleFacts) -> Severity | None:
    """The calibrated severity, or None where the tool's own rating stands."""
    tool = _tool_key(facts.tool)
    check = check_for(facts.rule_id)
    if check is not None and (check.overrides_every_tool or tool in ("checkov", "hadolint")):
        return check.severity
    if tool == "checkov":
        return _checkov(facts)
    if tool == "hadolint":
        return _tables().hadolint.get((facts.level or "warning").lower(), Severity.LOW)
    if tool == "bandit":
        return _bandit(facts.properties)
    return None


def _checkov(facts: RuleFacts) -> Severity:
    tables = _tables()
    rule_id = facts.rule_id.upper()
    for prefix, severity in tables.checkov_prefixes:
        if rule_id.startswith(prefix):
            return severity
    return next((severity for pattern, severity in tables.checkov_names if pattern.search(facts.name)),
                tables.checkov_default)


def _bandit(properties: Mapping[str, Any]) -> Severity | None:
    severity = str(properties.get("issue_severity", "")).upper()
    confidence = str(properties.get("issue_confidence", "")).upper()
    return _tables().bandit.get((severity, confidence))
