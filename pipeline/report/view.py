"""What every report shows, computed once from a GateVerdict: plain strings and numbers.

The templates only lay this out; they never decide anything. Scanner text stays raw here
(it is escaped by whichever renderer writes it), except that it is shortened. Scan-level
metrics (the results file's `metrics`, e.g. Lynis' hardening index) come alongside the
verdict, which knows only findings; `pipeline.report.facts` turns them into rows.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from normalizers.model import (
    CodeLocation,
    Finding,
    HostLocation,
    ImageLocation,
    Location,
    PackageLocation,
    Reconciliation,
    Scope,
    Severity,
    UrlLocation,
)
from pipeline.gate import GateVerdict
from pipeline.report.escape import cell_text, safe_url
from pipeline.report.facts import FactRow, HostRow, scan_facts
from pipeline.report.host_areas import HostAudit, host_audits
from pipeline.report.remediations import RemediationRow, remediation_rows
from pipeline.vex import REASON_PREFIX as VEX_REASON_PREFIX

if TYPE_CHECKING:
    from pipeline.flows.verdict import Evaluation

SEVERITIES = tuple(Severity)  # most severe first
SEVERITY_COLORS = {
    Severity.CRITICAL: "#8e0000",
    Severity.HIGH: "#d32f2f",
    Severity.MEDIUM: "#ef8f00",
    Severity.LOW: "#1e6fbf",
    Severity.INFO: "#6b7a89",
}
DESCRIPTION_LIMIT = 600


@dataclass(frozen=True)
class ToolRow:
    tool: str
    counts: tuple[int, ...]  # per severity, in SEVERITIES order
    total: int


@dataclass(frozen=True)
class FindingRow:
    severity: str  # "high"
    status: str  # "new", "unchanged"
    failing: bool
    tool: str
    rule_id: str
    title: str
    location: str
    link: str | None  # a safe http(s) URL, or None
    description: str
    kev: str | None = None  # "known exploited since 2022-04-04, due 2022-04-25" (CISA KEV)
    epss: str | None = None  # "EPSS 94.4% (percentile 99.97, 2026-12-06)": FIRST's chance of exploitation in 30 days


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    color: str
    fraction: float  # of the longest bar, 0..1


@dataclass(frozen=True)
class AccountingRow:
    """What became of one report's records: every raw record is kept, merged or skipped for a reason."""

    tool: str
    raw: int
    kept: int
    merged: int
    suppressed: int
    skipped: str  # "2 (unknown riskcode '7': 1; ...)" or "0"


@dataclass(frozen=True)
class ExpiredRow:
    label: str
    expires: str
    reason: str
    would_match: int


@dataclass(frozen=True)
class ReportView:
    repository: str
    branch: str | None
    commit: str | None
    passed: bool
    verdict: str
    thresholds: str
    severity_names: tuple[str, ...]
    tools: tuple[ToolRow, ...]
    totals: ToolRow
    bars: tuple[Bar, ...]  # open findings per severity
    baseline_bars: tuple[Bar, ...]  # new, unchanged, fixed
    baseline: str | None
    new: int
    fixed: int
    unchanged: int
    suppressed_by_policy: int
    suppressed_by_tools: int
    suppressed_by_vex: tuple[str, ...]  # "CVE-… in pkg@1.0: VEX not_affected: … (document id)"
    stale_vex: tuple[str, ...]  # VEX statements that matched no finding
    expired: tuple[ExpiredRow, ...]
    top: tuple[FindingRow, ...]
    findings: tuple[FindingRow, ...]  # the HTML report's detail list
    findings_left_out: int
    hosts: tuple[HostRow, ...]  # Lynis' hardening index per host
    facts: tuple[FactRow, ...]  # every other scan-level metric
    facts_left_out: int
    accounting: tuple[AccountingRow, ...] = ()  # per report: raw records against kept findings
    confirmed: int = 0  # open findings that more than one tool reported
    host_audits: tuple[HostAudit, ...] = ()  # KISA items and host findings by area, per host
    remediations: tuple[RemediationRow, ...] = ()  # proposed Dockerfiles, as diffs


def view_of(evaluation: Evaluation, environ: Mapping[str, str] = os.environ) -> ReportView:
    """The view of a verdict, with links to the GitHub server the job runs on."""
    server_url = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    return build_view(evaluation.scope, evaluation.verdict, server_url=server_url, metrics=evaluation.metrics,
                      reconciliation=evaluation.reconciliation)


def build_view(scope: Scope, verdict: GateVerdict, *, server_url: str = "https://github.com",
               top: int = 20, detail_limit: int = 1000, metrics: Iterable[tuple[str, str]] = (),
               reconciliation: Iterable[Reconciliation] = ()) -> ReportView:
    marks = _Marks(frozenset(map(id, verdict.failing)), frozenset(map(id, verdict.new)))
    ranked = sorted(verdict.open, key=marks.rank)
    rows = [_finding_row(f, marks, scope, server_url) for f in ranked[:max(top, detail_limit)]]
    tools = _tool_rows(verdict.open)
    metrics = tuple(metrics)
    facts = scan_facts(metrics)
    return ReportView(
        repository=scope.repository,
        branch=scope.branch,
        commit=scope.commit,
        passed=verdict.passed,
        verdict=verdict_sentence(verdict),
        thresholds=verdict.policy.describe_thresholds(),
        severity_names=tuple(s.value.capitalize() for s in SEVERITIES),
        tools=tools,
        totals=_total_row(tools),
        bars=_severity_bars(verdict.open),
        baseline_bars=_baseline_bars(verdict),
        baseline=verdict.baseline,
        new=len(verdict.new),
        fixed=len(verdict.fixed),
        unchanged=len(verdict.unchanged),
        suppressed_by_policy=sum(1 for s in verdict.suppressed if s.suppression is not None),
        suppressed_by_tools=sum(1 for s in verdict.suppressed if s.suppression is None),
        suppressed_by_vex=vex_lines(verdict),
        stale_vex=tuple(cell_text(label) for label in verdict.stale_vex),
        expired=_expired_rows(verdict),
        top=tuple(rows[:top]),
        findings=tuple(rows[:detail_limit]),
        findings_left_out=max(0, len(ranked) - detail_limit),
        hosts=facts.hosts,
        facts=facts.facts,
        facts_left_out=facts.left_out,
        accounting=tuple(_accounting_row(r) for r in reconciliation),
        confirmed=sum(1 for f in verdict.open if f.confirmed_by),
        host_audits=host_audits(metrics, ranked, {h.host: h.hardening_index for h in facts.hosts},
                                lambda f: _finding_row(f, marks, scope, server_url)),
        remediations=remediation_rows(metrics),
    )


@dataclass(frozen=True)
class _Marks:
    """Which findings fail and which are new, by object id: findings are shared, never copied."""

    failing: frozenset[int]
    new: frozenset[int]

    def rank(self, finding: Finding) -> tuple[bool, bool, bool, int, float]:
        """Known exploited (CISA KEV) first, then failing, then new before unchanged, then most severe, then
        the most likely to be exploited (EPSS)."""
        return (finding.kev is None, id(finding) not in self.failing, id(finding) not in self.new,
                -finding.severity.rank, -(finding.epss.probability if finding.epss else 0.0))


def vex_lines(verdict: GateVerdict) -> tuple[str, ...]:
    """Each finding a VEX statement suppressed, with the statement's status, justification and document."""
    return tuple(cell_text(f"{s.finding.rule_id} in {location_text(s.finding.location)}: {s.reason}",
                           DESCRIPTION_LIMIT) for s in verdict.suppressed if s.reason.startswith(VEX_REASON_PREFIX))


def _baseline_bars(verdict: GateVerdict) -> tuple[Bar, ...]:
    return _bars((("New", len(verdict.new), "#d32f2f"), ("Unchanged", len(verdict.unchanged), "#6b7a89"),
                  ("Fixed", len(verdict.fixed), "#2e7d32")))


def _expired_rows(verdict: GateVerdict) -> tuple[ExpiredRow, ...]:
    return tuple(ExpiredRow(cell_text(e.suppression.label), e.suppression.expires.isoformat(),
                            cell_text(e.suppression.reason, DESCRIPTION_LIMIT), e.would_match)
                 for e in verdict.expired_suppressions)


def _accounting_row(r: Reconciliation) -> AccountingRow:
    reasons = "; ".join(f"{cell_text(reason, 120)}: {count}" for reason, count in r.skipped_reasons)
    return AccountingRow(cell_text(r.tool), r.raw, r.kept, r.merged, r.suppressed,
                         f"{r.skipped} ({reasons})" if reasons else str(r.skipped))


def verdict_sentence(verdict: GateVerdict) -> str:
    if verdict.missing:
        plural = "scanner gave" if len(verdict.missing) == 1 else "scanners gave"
        return f"Failed: incomplete, {len(verdict.missing)} {plural} no results ({'; '.join(verdict.missing)})."
    if verdict.passed:
        scope = "new findings" if verdict.baseline else "open findings"
        return f"Passed: no {scope} at or above the threshold ({verdict.policy.describe_thresholds()})."
    counts = Counter(f.severity for f in verdict.failing)
    listed = ", ".join(f"{counts[s]} {s.value.lower()}" for s in SEVERITIES if counts[s])
    noun = "new finding" if verdict.baseline else "finding"
    plural = "" if len(verdict.failing) == 1 else "s"
    exploited = _exploitation(verdict)
    if exploited:  # fail-on-kev / fail-on-epss: exploitation fails whatever the severity, new or not
        return (f"Failed: {len(verdict.failing)} finding{plural} at or above the threshold or {exploited[0]} "
                f"({listed}; {exploited[1]}).")
    return f"Failed: {len(verdict.failing)} {noun}{plural} at or above the threshold ({listed})."


def _exploitation(verdict: GateVerdict) -> tuple[str, str] | None:
    """("known exploited", "1 in CISA KEV") and the like, for failing findings that only exploitation fails."""
    policy = verdict.policy
    kev = sum(1 for f in verdict.failing if policy.fail_on_kev and f.kev)
    likely = sum(1 for f in verdict.failing if policy.exploitation_fails(f) and not (policy.fail_on_kev and f.kev))
    if not kev and not likely:
        return None
    phrase = {(True, False): "known exploited", (False, True): "likely exploited"}.get(
        (bool(kev), bool(likely)), "known or likely exploited")
    counts = [f"{kev} in CISA KEV" if kev else "", f"{likely} at EPSS >= {policy.fail_on_epss:g}" if likely else ""]
    return phrase, ", ".join(count for count in counts if count)


def _tool_rows(findings: tuple[Finding, ...]) -> tuple[ToolRow, ...]:
    per_tool: dict[str, Counter[Severity]] = {}
    for finding in findings:
        per_tool.setdefault(finding.tool.name, Counter())[finding.severity] += 1
    return tuple(
        ToolRow(cell_text(tool), tuple(counts[s] for s in SEVERITIES), sum(counts.values()))
        for tool, counts in sorted(per_tool.items())
    )


def _total_row(rows: tuple[ToolRow, ...]) -> ToolRow:
    counts = tuple(sum(r.counts[i] for r in rows) for i in range(len(SEVERITIES)))
    return ToolRow("Total", counts, sum(counts))


def _severity_bars(findings: tuple[Finding, ...]) -> tuple[Bar, ...]:
    counts = Counter(f.severity for f in findings)
    return _bars(tuple((s.value.capitalize(), counts[s], SEVERITY_COLORS[s]) for s in SEVERITIES))


def _bars(items: tuple[tuple[str, int, str], ...]) -> tuple[Bar, ...]:
    longest = max((count for _, count, _ in items), default=0) or 1
    return tuple(Bar(label, count, color, count / longest) for label, count, color in items)


def _finding_row(finding: Finding, marks: _Marks, scope: Scope, server_url: str) -> FindingRow:
    return FindingRow(
        severity=finding.severity.value.lower(),
        status="new" if id(finding) in marks.new else "unchanged",
        failing=id(finding) in marks.failing,
        tool=cell_text(finding.tool.name),
        rule_id=cell_text(finding.rule_id),
        title=cell_text(finding.title),
        location=cell_text(location_text(finding.location)),
        link=finding_link(finding, scope, server_url),
        description=cell_text(finding.description, DESCRIPTION_LIMIT),
        kev=(f"known exploited since {finding.kev.date_added}, due {finding.kev.due_date}" if finding.kev else None),
        epss=(f"EPSS {finding.epss.probability:.1%} (percentile {finding.epss.percentile * 100:.2f}, "
              f"{finding.epss.score_date})" if finding.epss else None),
    )


def location_text(location: Location) -> str:
    if isinstance(location, CodeLocation):
        return f"{location.path}:{location.start_line}" if location.start_line else location.path
    if isinstance(location, PackageLocation):
        version = f"@{location.version}" if location.version else ""
        where = f" ({location.manifest_path})" if location.manifest_path else ""
        return f"{location.name}{version}{where}"
    if isinstance(location, UrlLocation):
        parameter = f" [{location.parameter}]" if location.parameter else ""
        return f"{location.method or 'GET'} {location.url}{parameter}"
    if isinstance(location, ImageLocation):
        package = f" {location_text(location.package)}" if location.package else ""
        return f"{location.reference}{package}"
    if isinstance(location, HostLocation):  # "web-01 (i-0abc…): AUTH-9286 (accounts)"
        instance = f" ({location.instance_id})" if location.instance_id not in (None, location.host) else ""
        group = f" ({location.group})" if location.group else ""
        test = f": {location.test_id}{group}" if location.test_id else group
        return f"{location.host}{instance}{test}"
    raise TypeError(f"unknown location type {type(location).__name__}")


def finding_link(finding: Finding, scope: Scope, server_url: str) -> str | None:
    """Code: the line on GitHub at the scanned commit. Else the first http(s) reference."""
    location = finding.location
    revision = scope.commit or scope.branch
    if isinstance(location, CodeLocation) and revision:
        anchor = f"#L{location.start_line}" if location.start_line else ""
        path = quote(location.path.removeprefix("./"))
        return safe_url(f"{server_url.rstrip('/')}/{scope.repository}/blob/{quote(revision)}/{path}{anchor}")
    candidates = (*finding.references, finding.remediation.url if finding.remediation else None)
    return next((url for url in map(safe_url, candidates) if url), None)
