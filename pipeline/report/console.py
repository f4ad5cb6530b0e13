"""Verdicts on a terminal or a step's log: the verdict line, failing findings, expiry warnings,
annotations, and a scan's closing lines."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from pipeline.gate import GateVerdict
from pipeline.report.annotations import annotations_for
from pipeline.report.escape import console_text
from pipeline.report.view import location_text, verdict_sentence, vex_lines

if TYPE_CHECKING:
    from pipeline.flows.publish import PublishFlowOutcome
    from pipeline.flows.scan import ScanOutcome

FAILING_LINES = 20  # failing findings listed in the log; the reports list them all


def warn_expired(verdict: GateVerdict) -> None:
    for expired in verdict.expired_suppressions:
        suppression = expired.suppression
        print(f"tollgate: warning: {console_text(suppression.label)} expired on {suppression.expires}; "
              f"it no longer suppresses {expired.would_match} finding(s)", file=sys.stderr)
    for label in verdict.stale_vex:
        print(f"tollgate: warning: stale VEX statement, it matches no finding: {console_text(label)}",
              file=sys.stderr)


def print_annotations(verdict: GateVerdict) -> None:
    annotations = annotations_for(verdict)
    for line in annotations.lines:
        print(line)
    note = annotations.left_out_note()
    if note:
        print(note, file=sys.stderr)


def print_verdict(verdict: GateVerdict) -> None:
    print(f"tollgate: {verdict_sentence(verdict)}")
    for finding in sorted(verdict.failing, key=lambda f: -f.severity.rank)[:FAILING_LINES]:
        print(f"  {finding.severity.value:<8} {console_text(finding.tool.name)} {console_text(finding.rule_id)}: "
              f"{console_text(finding.title)} at {console_text(location_text(finding.location))}")
    if len(verdict.failing) > FAILING_LINES:
        print(f"  … and {len(verdict.failing) - FAILING_LINES} more")
    for line in vex_lines(verdict)[:FAILING_LINES]:
        print(f"  suppressed {console_text(line)}")


def print_outcome(outcome: ScanOutcome) -> None:
    """A scan's closing lines: warnings, the counts, the verdict, where the reports are."""
    for warning in outcome.warnings:
        print(f"tollgate: warning: {warning}", file=sys.stderr)
    print(outcome.normalized.summary_line())
    verdict = outcome.verdict
    for line in verdict.missing:
        print(f"tollgate: error: incomplete scan, no results from {console_text(line)}", file=sys.stderr)
    state = "passed" if verdict.passed else ("FAILED: incomplete" if verdict.missing else "FAILED")
    print(f"tollgate: gate {state} ({verdict.policy.describe_thresholds()}): "
          f"{len(verdict.failing)} failing, {len(verdict.new)} new, {len(verdict.suppressed)} suppressed")
    if outcome.published:
        print(outcome.published)
    paths = outcome.outputs
    print(f"tollgate: results {paths.results}, SARIF {paths.sarif}, ASFF {paths.asff}, OCSF {paths.ocsf}, "
          f"summary {paths.summary}, HTML {paths.html}")


def print_publish_outcome(result: PublishFlowOutcome) -> None:
    """Why nothing was published; else every finding that was not imported, then the summary line."""
    if not result.eligibility.publish:
        print(result.eligibility.line())
        return
    if result.eligibility.reason:
        print(f"tollgate: warning: {result.eligibility.reason}", file=sys.stderr)
    if result.uploaded is not None:
        print(f"tollgate: s3: uploaded {result.findings} findings to {result.uploaded.uri} for the importer")
    outcome = result.outcome
    if outcome is None:
        return
    for warning in outcome.warnings:
        print(f"tollgate: warning: {warning}", file=sys.stderr)
    for failure in outcome.failed:
        print(failure.line(), file=sys.stderr)
    print(outcome.summary_line())
    verification = outcome.verification
    if verification is not None:
        if verification.note:
            print(f"tollgate: security hub: read back through {verification.api}: {verification.note}")
        for line in verification.missing_lines():
            print(line, file=sys.stderr)
        print(verification.summary_line())
