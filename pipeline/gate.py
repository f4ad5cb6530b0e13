"""The gate (docs/design.md): pure evaluation of findings against a policy and a baseline.

A gate that saw nothing must not pass: when a scanner that was asked for did not run, the verdict
is failed ("incomplete") whatever the findings say. A passed compliance check (`Finding.is_problem`
is False) is no problem: it is counted in `passes` and takes no part in anything below, nor in a
baseline. Order of decisions for each finding:
1. inactive (the tool itself marked it suppressed or resolved): never fails;
2. matched by a live suppression: never fails; an *expired* suppression matches nothing
   and is listed, with how many findings it would have covered;
3. with a baseline, a finding that was already there is `unchanged` and never fails;
4. otherwise it fails when its severity reaches the threshold of its category;
5. with `fail-on-kev`, an open finding whose CVE is in CISA KEV fails whatever its severity, new or
   not: a baseline accepted a risk before it was known to be exploited; likewise with `fail-on-epss`
   for a CVE whose EPSS probability reaches the threshold (Policy.exploitation_fails).

A baseline is a previous Tollgate results file (matched on fingerprints) or a SARIF file:
results carrying Tollgate's `partialFingerprints["tollgate/v2"]` match on it; any other
result falls back to rule + file + start line, the only identity third-party SARIF has.
A baseline written before identity v2 (a results file without `fingerprint_version`, a SARIF
`tollgate/v1` key) is matched on each finding's v1 identity, recomputed here
(docs/identity.md, "Migration"): the first v2 run sees no new findings.
Nothing here reads files or clocks: `today` is an argument.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import orjson

from normalizers.errors import MalformedReportError
from normalizers.identity import (
    FINGERPRINT_KEY,
    FINGERPRINT_VERSION,
    LEGACY_FINGERPRINT_KEY,
    LEGACY_FINGERPRINT_VERSION,
    legacy_fingerprints,
)
from normalizers.model import CodeLocation, Finding, Severity
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.results import Results, is_results_document, results_from_dict
from normalizers.tool_id import ToolId
from pipeline.packages import purl_names
from pipeline.policy import Policy, Suppression


@dataclass(frozen=True)
class BaselineEntry:
    """One open finding of the baseline run; SARIF baselines know only some of the fields."""

    rule_id: str
    title: str
    fingerprint: str | None = None
    path: str | None = None
    line: int | None = None
    severity: Severity | None = None
    tool: str | None = None
    fingerprint_version: str = FINGERPRINT_VERSION

    @property
    def legacy(self) -> bool:
        return self.fingerprint_version == LEGACY_FINGERPRINT_VERSION


@dataclass(frozen=True)
class Baseline:
    source: str
    entries: tuple[BaselineEntry, ...]


@dataclass(frozen=True)
class SuppressedFinding:
    finding: Finding
    reason: str
    suppression: Suppression | None = None  # None: the tool itself suppressed it


@dataclass(frozen=True)
class ExpiredSuppression:
    suppression: Suppression
    would_match: int  # findings it no longer suppresses


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    policy: Policy
    open: tuple[Finding, ...]  # active and not suppressed
    failing: tuple[Finding, ...]
    new: tuple[Finding, ...]  # without a baseline: every active finding
    unchanged: tuple[Finding, ...]
    fixed: tuple[BaselineEntry, ...]
    suppressed: tuple[SuppressedFinding, ...]
    expired_suppressions: tuple[ExpiredSuppression, ...]
    baseline: str | None = None  # the baseline's source, when one was used
    missing: tuple[str, ...] = ()  # scanners that were asked for and did not run, each with why: never a pass
    stale_vex: tuple[str, ...] = ()  # VEX statements that matched no finding (pipeline.vex)
    passes: tuple[Finding, ...] = ()  # passed compliance checks: reported, never open, new or failing


def evaluate(findings: Sequence[Finding], policy: Policy, baseline: Baseline | None = None, *,
             today: date, missing: Sequence[str] = ()) -> GateVerdict:
    problems = [f for f in findings if f.is_problem]
    active = [f for f in problems if f.active]
    live = [s for s in policy.suppressions if not s.is_expired(today)]
    expired = [s for s in policy.suppressions if s.is_expired(today)]
    suppressed = [SuppressedFinding(f, f.suppression_reason or "suppressed by the tool") for f in problems
                  if not f.active]
    open_findings = []
    for finding in active:
        suppression = next((s for s in live if suppression_matches(s, finding)), None)
        if suppression is None:
            open_findings.append(finding)
        else:
            suppressed.append(SuppressedFinding(finding, suppression.reason, suppression))
    new, unchanged, fixed = compare(active, baseline, problems) if baseline else (tuple(active), (), ())
    new_ids = {id(f) for f in new}
    failing = tuple(f for f in open_findings if (id(f) in new_ids and _reaches(f, policy.threshold(f.category)))
                    or policy.exploitation_fails(f))
    return GateVerdict(
        passed=not failing and not missing,
        policy=policy,
        open=tuple(open_findings),
        failing=failing,
        new=new,
        unchanged=unchanged,
        fixed=fixed,
        suppressed=tuple(suppressed),
        expired_suppressions=tuple(
            ExpiredSuppression(s, sum(1 for f in active if suppression_matches(s, f))) for s in expired
        ),
        baseline=baseline.source if baseline else None,
        missing=tuple(missing),
        passes=tuple(f for f in findings if not f.is_problem),
    )


def _reaches(finding: Finding, threshold: Severity | None) -> bool:
    return threshold is not None and finding.severity.rank >= threshold.rank


# --- suppressions -------------------------------------------------------------------------

def suppression_matches(suppression: Suppression, finding: Finding) -> bool:
    """Every selector the suppression gives must match; expiry is the caller's concern."""
    return (
        (suppression.rule is None or _rule_matches(suppression.rule, finding))
        and (suppression.fingerprint is None or suppression.fingerprint == finding.fingerprint)
        and (suppression.path is None or _path_matches(suppression.path, finding))
        and (suppression.package is None or _package_matches(suppression.package, finding))
    )


def _rule_matches(rule: str, finding: Finding) -> bool:
    """The tool's rule id, or any vulnerability id, so one CVE entry covers every tool."""
    wanted = rule.casefold()
    return wanted == finding.rule_id.casefold() or any(wanted == v.casefold() for v in finding.vulnerability_ids)


def _path_matches(pattern: str, finding: Finding) -> bool:
    location = finding.location
    if isinstance(location, CodeLocation):
        path: str | None = location.path
    else:
        package = finding.package
        path = package.manifest_path if package else None
    return path is not None and glob_regex(pattern).fullmatch(path.removeprefix("./")) is not None


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """`*` and `?` stay within one directory; `**` crosses directories; `**/` may match none."""
    parts = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            parts.append(".*")
            index += 2
        else:
            char = pattern[index]
            parts.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
            index += 1
    return re.compile("".join(parts), re.DOTALL)


def _package_matches(selector: str, finding: Finding) -> bool:
    """A purl matches type, namespace and name, and the version when it gives one; a bare
    name matches the package name in any ecosystem and version."""
    package = finding.package
    if package is None:
        return False
    if not selector.startswith("pkg:"):
        return selector.casefold() == package.name.casefold()
    return purl_names(selector, package)


# --- baseline -----------------------------------------------------------------------------

def compare(findings: Iterable[Finding], baseline: Baseline, every: Sequence[Finding] = ()
            ) -> tuple[tuple[Finding, ...], tuple[Finding, ...], tuple[BaselineEntry, ...]]:
    """(new, unchanged, fixed). Fingerprints match first; rule + file + line is the fallback.

    `every` is the whole run (suppressed findings too): v1 occurrence ordinals counted them.
    """
    listed = list(findings)
    known = {e.fingerprint for e in baseline.entries if e.fingerprint and not e.legacy}
    known_legacy = {e.fingerprint for e in baseline.entries if e.fingerprint and e.legacy}
    run = list(every) or listed
    legacy = dict(zip(map(id, run), legacy_fingerprints(run), strict=True)) if known_legacy else {}
    by_position: dict[tuple[str, int | None, str], list[BaselineEntry]] = {}
    for entry in baseline.entries:
        if not entry.fingerprint and entry.path:
            by_position.setdefault((entry.rule_id, entry.line, posixpath.basename(entry.path)), []).append(entry)
    new: list[Finding] = []
    unchanged: list[Finding] = []
    seen: set[str] = set()
    seen_legacy: set[str] = set()
    consumed: set[int] = set()  # ids of positional entries already matched: each matches once
    for finding in listed:
        if finding.fingerprint in known:
            seen.add(finding.fingerprint)
            unchanged.append(finding)
        elif legacy.get(id(finding)) in known_legacy:
            # v1 merged results that v2 keeps apart (one rule, one line, two messages): all match it
            seen_legacy.add(legacy[id(finding)])
            unchanged.append(finding)
        elif _positional_match(finding, by_position, consumed):
            unchanged.append(finding)
        else:
            new.append(finding)
    fixed = tuple(
        e for e in baseline.entries
        if (e.fingerprint and e.fingerprint not in (seen_legacy if e.legacy else seen))
        or (not e.fingerprint and id(e) not in consumed)
    )
    return tuple(new), tuple(unchanged), fixed


def _positional_match(finding: Finding, by_position: dict[tuple[str, int | None, str], list[BaselineEntry]],
                      consumed: set[int]) -> bool:
    """Third-party SARIF often holds absolute paths (`file:///src/app.js`), so a baseline path
    matches a finding's repository-relative path when it equals it or ends with `/<path>`."""
    location = finding.location
    if not isinstance(location, CodeLocation) or not by_position:
        return False
    path = location.path.removeprefix("./")
    for rule in (finding.rule_id, *finding.vulnerability_ids):
        for entry in by_position.get((rule, location.start_line, posixpath.basename(path)), ()):
            entry_path = entry.path or ""
            if id(entry) not in consumed and (entry_path == path or entry_path.endswith("/" + path)):
                consumed.add(id(entry))
                return True
    return False


def baseline_from_document(document: Any, source: str) -> Baseline:
    """A Tollgate results document or a SARIF log, told apart by content."""
    if is_results_document(document):
        return baseline_from_results(results_from_dict(document, source), source)
    if isinstance(document, dict) and isinstance(document.get("runs"), list):
        return baseline_from_sarif(document, source)
    raise MalformedReportError(f"{source}: a baseline must be a Tollgate results file or a SARIF file")


def baseline_from_results(results: Results, source: str) -> Baseline:
    return Baseline(source, tuple(
        BaselineEntry(
            rule_id=f.rule_id,
            title=f.title,
            fingerprint=f.fingerprint or None,
            path=f.location.path if isinstance(f.location, CodeLocation) else None,
            line=f.location.start_line if isinstance(f.location, CodeLocation) else None,
            severity=f.severity,
            tool=f.tool.name,
            fingerprint_version=results.fingerprint_version,
        )
        for f in results.findings if f.active and f.is_problem
    ))


def baseline_from_sarif(document: dict[str, Any], source: str) -> Baseline:
    """The open results of a SARIF log, read by the SARIF parser that reads every other SARIF: suppressed
    results are inactive, `baselineState: absent` ones skipped. Tollgate's own identity matches where the
    log carries it; a third-party result falls back to rule + file + line."""
    parsed = parse_report(Report(source=source, raw=orjson.dumps(document)), ParseOptions(), ToolId.SARIF)
    return Baseline(source, tuple(_sarif_entry(f) for f in parsed.findings if f.active))


def _sarif_entry(finding: Finding) -> BaselineEntry:
    carried = dict(finding.properties)
    legacy = FINGERPRINT_KEY not in carried and LEGACY_FINGERPRINT_KEY in carried
    location = finding.location
    return BaselineEntry(
        rule_id=finding.rule_id,
        title=finding.title,
        fingerprint=carried.get(LEGACY_FINGERPRINT_KEY if legacy else FINGERPRINT_KEY),
        path=location.path.removeprefix("./") if isinstance(location, CodeLocation) else None,
        line=location.start_line if isinstance(location, CodeLocation) else None,
        tool=finding.tool.name,
        fingerprint_version=LEGACY_FINGERPRINT_VERSION if legacy else FINGERPRINT_VERSION,
    )
