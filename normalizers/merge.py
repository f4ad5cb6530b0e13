"""One problem, one finding: reports of different tools about the same problem at the same place merge.

Two findings of different tools are one problem when they are active, in the same file, and
- SAST and secrets: their lines overlap and their CWEs share a family (tables/cwe_families.yml;
  a secret scanner's finding, which names no CWE, is a hard-coded credential);
- IaC and Dockerfile: their checks are equivalent (tables/iac_checks.yml) and their line ranges
  overlap, so they are on the same resource: Checkov reports a Terraform resource's whole block,
  Trivy the offending attribute's line, hadolint the instruction's line.
Two findings of one tool never merge (they are that tool's own distinct reports), nor do two
findings on different lines or different resources, nor rule ids in no table.

The merged finding is the member with the most specific location (the narrowest line range;
ties by severity, then tool and rule, so the choice does not depend on report order). It takes the
highest calibrated severity, names the other tools in `confirmed_by`, and keeps each other tool's
rule id, text, severity and place as `evidence`. Reasoning: docs/merging.md.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from normalizers.checks import check_for
from normalizers.model import Category, CodeLocation, Evidence, Finding
from normalizers.tables import load_table

_CHECK_TOOLS = ("checkov", "trivy", "kics", "hadolint")
_CREDENTIALS_FAMILY = "hard-coded-credentials"


@functools.cache
def _families() -> dict[int, str]:
    document = load_table("normalizers.tables", "cwe_families.yml")
    return {cwe: name for name, members in document["families"].items() for cwe in members}


def _tool(finding: Finding) -> str:
    return finding.tool.name.strip().lower()


def problem_keys(finding: Finding) -> frozenset[str]:
    """What problem a finding reports, for merging; empty when it must stay on its own."""
    if not (finding.active and isinstance(finding.location, CodeLocation) and finding.location.start_line):
        return frozenset()
    check = check_for(finding.rule_id) if _tool(finding).startswith(_CHECK_TOOLS) else None
    if check is not None:
        return frozenset({f"check:{check.problem}"})
    families = _families()
    keys = {f"cwe:{families.get(cwe, str(cwe))}" for cwe in finding.cwe}
    if finding.category is Category.SECRETS or finding.rule_id.upper().startswith("CKV_SECRET"):
        keys.add(f"cwe:{_CREDENTIALS_FAMILY}")
    return frozenset(keys)


@dataclass(frozen=True)
class _Member:
    finding: Finding
    location: CodeLocation
    start: int
    end: int

    @classmethod
    def of(cls, finding: Finding, location: CodeLocation) -> _Member:
        start = location.start_line or 0
        end = location.end_line if location.end_line and location.end_line >= start else start
        return cls(finding, location, start, end)

    @property
    def specificity(self) -> tuple[int, int, str, str]:
        """Narrowest place first, then the most severe, then tool and rule: never the report order."""
        return self.end - self.start, -self.finding.severity.rank, _tool(self.finding), self.finding.rule_id


@dataclass
class _Group:
    keys: frozenset[str]
    members: list[_Member]

    @property
    def widest(self) -> _Member:
        """The widest report of the place: for IaC, the resource's whole block."""
        return max(self.members, key=lambda m: m.end - m.start)

    def accepts(self, member: _Member, keys: frozenset[str]) -> bool:
        widest = self.widest
        return (bool(self.keys & keys) and member.start <= widest.end and widest.start <= member.end
                and all(_tool(m.finding) != _tool(member.finding) for m in self.members))


def merge_across_tools(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in first-seen order, with each group of one problem replaced by one merged finding."""
    order: list[Finding | _Group] = []
    groups_by_path: dict[str, list[_Group]] = {}
    for finding in findings:
        keys = problem_keys(finding)
        if not keys or not isinstance(finding.location, CodeLocation):
            order.append(finding)
            continue
        member = _Member.of(finding, finding.location)
        candidates = groups_by_path.setdefault(finding.location.path, [])
        group = next((g for g in candidates if g.accepts(member, keys)), None)
        if group is None:
            group = _Group(keys, [])
            candidates.append(group)
            order.append(group)
        group.members.append(member)
        group.keys &= keys
    return [item if isinstance(item, Finding) else _merged(item.members) for item in order]


def _merged(members: list[_Member]) -> Finding:
    if len(members) == 1:
        return members[0].finding
    first = min(members, key=lambda m: m.specificity)
    primary, others = first.finding, [m for m in members if m is not first]
    tools = [m.finding.tool.name for m in others]
    inherited = (t for m in others for t in m.finding.confirmed_by)
    confirmed = dict.fromkeys((*primary.confirmed_by, *tools, *inherited))
    return dataclasses.replace(
        primary,
        severity=max((m.finding.severity for m in members), key=lambda s: s.rank),
        cwe=tuple(sorted({cwe for m in members for cwe in m.finding.cwe})),
        references=tuple(dict.fromkeys(r for m in (first, *others) for r in m.finding.references)),
        confirmed_by=tuple(t for t in confirmed if t != primary.tool.name),
        evidence=(*primary.evidence, *(e for m in others for e in (_evidence(m), *m.finding.evidence))),
    )


def _evidence(member: _Member) -> Evidence:
    finding = member.finding
    return Evidence(tool=finding.tool.name, rule_id=finding.rule_id, title=finding.title, severity=finding.severity,
                    description=finding.description, path=member.location.path, start_line=member.location.start_line,
                    end_line=member.location.end_line)
