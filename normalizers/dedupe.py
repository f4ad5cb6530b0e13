"""Merge findings that share an identity: one problem, confirmed by every tool that saw it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from normalizers.model import Finding


def merge_duplicates(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per fingerprint, in first-seen order.

    The kept record is the most severe one (ties: the first seen), and `confirmed_by`
    lists the other tools, so dependency-check and Trivy agreeing on a CVE in a package
    yields one finding that names both. An inactive duplicate never hides an active one.
    """
    findings = list(findings)
    if len({f.fingerprint for f in findings}) == len(findings) and not any(f.confirmed_by for f in findings):
        return findings  # what the loop below makes of a report without duplicates, in a seventh of its time
    kept: dict[str, Finding] = {}
    tools: dict[str, list[str]] = {}
    for finding in findings:
        current = kept.get(finding.fingerprint)
        names = tools.setdefault(finding.fingerprint, [])
        for name in (finding.tool.name, *finding.confirmed_by):
            if name not in names:
                names.append(name)
        if current is None or _outranks(finding, current):
            kept[finding.fingerprint] = finding
    merged = []
    for fingerprint, finding in kept.items():
        others = tuple(n for n in tools[fingerprint] if n != finding.tool.name)
        merged.append(finding if others == finding.confirmed_by else dataclasses.replace(finding, confirmed_by=others))
    return merged


def _outranks(candidate: Finding, current: Finding) -> bool:
    if candidate.active != current.active:
        return candidate.active
    return candidate.severity.rank > current.severity.rank
