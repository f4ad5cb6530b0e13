"""Scan-level facts for the reports: the results file's `metrics`, laid out as two small tables.

Parsers report facts about a scan that are not findings (`Parser.metrics`), as flat key/value
strings. Lynis' keys, `lynis/<host>/hardening_index`, `…/tests_performed` and `…/version`,
become one "Host hardening" row per host, weakest host (lowest index) first, as findings are
ranked most severe first. Every other key (ncp-wsc's counts per risk level, Lynis keys Tollgate
does not know) is one row of a generic "Scan facts" table, sorted by key, except the KISA item
verdicts (`kisa/...`), which the host audit section lays out by area, and the scanners' timings
(`timing/...`), which describe the run, not what was scanned.

Keys and values are scanner text like any other: shortened and stripped of control characters
here, escaped by the renderer. Each table keeps at most `ROW_LIMIT` rows so that a results file
with thousands of metrics cannot push the job summary past GitHub's 1 MiB; the rest are counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.report.escape import cell_text

LYNIS_PREFIX = "lynis/"
PACKAGES_PREFIX = "packages/"  # a host's inventory: one per package in the results file; the count is a fact
KISA_PREFIX = "kisa/"  # item verdicts: the host audit's own section (pipeline.report.host_areas)
REMEDIATION_PREFIX = "remediation/"  # proposed Dockerfiles' diffs: the reports' remediation section
TIMING_PREFIX = "timing/"  # each scanner's wall and CPU seconds: for benchmarks and the next schedule, not a fact
LYNIS_FIELDS = frozenset({"hardening_index", "tests_performed", "version"})
ROW_LIMIT = 100


@dataclass(frozen=True)
class HostRow:
    host: str
    hardening_index: str  # as Lynis wrote it, "" when it gave none
    hardening_percent: int | None  # the index when it is a whole number 0..100 (the HTML bar's width)
    tests_performed: str
    version: str


@dataclass(frozen=True)
class FactRow:
    name: str
    value: str


@dataclass(frozen=True)
class ScanFacts:
    hosts: tuple[HostRow, ...] = ()
    facts: tuple[FactRow, ...] = ()
    left_out: int = 0  # rows over ROW_LIMIT, in either table


def scan_facts(metrics: Iterable[tuple[str, str]]) -> ScanFacts:
    per_host: dict[str, dict[str, str]] = {}
    facts: dict[str, str] = {}
    for key, value in metrics:
        if key.startswith((KISA_PREFIX, REMEDIATION_PREFIX, TIMING_PREFIX)) or (
                key.startswith(PACKAGES_PREFIX) and not key.endswith("/count")):
            continue
        host, field = _lynis_key(key)
        if host is None:
            facts[key] = value
        else:
            per_host.setdefault(host, {})[field] = value
    hosts = sorted((_host_row(host, fields) for host, fields in per_host.items()), key=_weakest_first)
    rows = [FactRow(cell_text(name), cell_text(value)) for name, value in sorted(facts.items())]
    left_out = max(0, len(hosts) - ROW_LIMIT) + max(0, len(rows) - ROW_LIMIT)
    return ScanFacts(tuple(hosts[:ROW_LIMIT]), tuple(rows[:ROW_LIMIT]), left_out)


def _lynis_key(key: str) -> tuple[str | None, str]:
    """`lynis/web-01/hardening_index` -> ("web-01", "hardening_index"); (None, "") for any other key."""
    host, _, field = key.removeprefix(LYNIS_PREFIX).rpartition("/")
    if not key.startswith(LYNIS_PREFIX) or not host or field not in LYNIS_FIELDS:
        return None, ""
    return host, field


def _host_row(host: str, fields: dict[str, str]) -> HostRow:
    index = fields.get("hardening_index", "").strip()
    # 0..100 in ASCII digits, as Lynis writes it (int() would read Arabic-Indic digits, and raises past 4300 digits)
    percent = int(index) if index.isascii() and index.isdecimal() and len(index) <= 3 and int(index) <= 100 else None
    return HostRow(cell_text(host), cell_text(index), percent, cell_text(fields.get("tests_performed", "")),
                   cell_text(fields.get("version", "")))


def _weakest_first(row: HostRow) -> tuple[bool, int, str]:
    """Lowest index first; hosts without a readable index last; then by name."""
    return row.hardening_percent is None, row.hardening_percent or 0, row.host
