"""The host audit laid out by KISA's four areas: per host and area, the items' verdicts and the findings.

The verdicts come from the results' metrics (`kisa/<host>/<U-xx>`, written by the Lynis parser
from normalizers.kisa); the findings are the open host findings, grouped by their location's
group, which for a finding that cites an item is the item's area. Host findings of no area
(a Lynis test of no KISA item in an unknown category) stay in the report's finding list only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from normalizers import kisa
from normalizers.model import Finding, HostLocation
from pipeline.report.escape import cell_text

PREFIX = "kisa/"
VERDICT_WORDS = {"fail": "fail", "pass": "pass", "manual": "review", "na": "not applicable", "unchecked": "not checked"}


@dataclass(frozen=True)
class ItemRow:
    item: str  # "U-02"
    title: str
    importance: str
    verdict: str  # one of VERDICT_WORDS' values
    old: str  # the 2021 edition's numbers, "U-02 U-46"


@dataclass(frozen=True)
class AreaView:
    area: str  # "Account management"
    passed: int
    failed: int
    review: int
    not_applicable: int
    unchecked: int
    items: tuple[ItemRow, ...]
    findings: tuple[object, ...]  # the report's FindingRow, most severe first


@dataclass(frozen=True)
class HostAudit:
    host: str
    guide: str  # "KISA Unix 2026 (published December 2025)"
    hardening_index: str
    areas: tuple[AreaView, ...]


def host_audits(metrics: Iterable[tuple[str, str]], findings: Iterable[Finding], hardening: dict[str, str],
                row: Callable[[Finding], object]) -> tuple[HostAudit, ...]:
    """One HostAudit per host with item verdicts; `row` turns a finding into the report's row."""
    verdicts: dict[str, dict[str, str]] = {}
    for key, value in metrics:
        host, _, item = key.removeprefix(PREFIX).rpartition("/")
        if key.startswith(PREFIX) and host and item:
            verdicts.setdefault(host, {})[item] = value
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        location = finding.location
        if isinstance(location, HostLocation) and location.group in kisa.AREAS_ORDER:
            grouped.setdefault((location.instance_id or location.host, location.group), []).append(finding)
    table = kisa.table()
    return tuple(
        HostAudit(cell_text(host), cell_text(f"KISA Unix {table.edition}"), cell_text(hardening.get(host, "")),
                  tuple(_area(table, area, verdicts[host], grouped.get((host, area), []), row)
                        for area in kisa.AREAS_ORDER))
        for host in sorted(verdicts)
    )


def _area(table: kisa.Table, area: str, verdicts: dict[str, str], findings: list[Finding],
          row: Callable[[Finding], object]) -> AreaView:
    items = tuple(
        ItemRow(item.id, item.title, item.importance, VERDICT_WORDS.get(verdicts.get(item.id, ""), "not checked"),
                " ".join(item.old))
        for item in table.items if item.area == area
    )
    counts = Counter(i.verdict for i in items)
    ranked = sorted(findings, key=lambda f: -f.severity.rank)
    return AreaView(table.areas[area], counts["pass"], counts["fail"], counts["review"], counts["not applicable"],
                    counts["not checked"], items, tuple(row(f) for f in ranked))
