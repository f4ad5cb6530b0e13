"""`tollgate gate RESULTS.json... [--policy FILE] [--baseline FILE] [--fail-on S] [--summary] [--annotations]`.

Exit 0 when the gate passes, 1 when it fails, 2 for a bad policy, results file or baseline.
The reading of results, policy and baseline lives here and is shared with `tollgate report`,
so both verbs always agree on the verdict.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from normalizers.dedupe import merge_duplicates
from normalizers.errors import MalformedReportError
from normalizers.model import Finding, Scope
from normalizers.results import Results, merge_scopes, results_from_dict
from pipeline.errors import ExitCode
from pipeline.gate import Baseline, GateVerdict, baseline_from_document, evaluate
from pipeline.policy import DEFAULT_POLICY_FILE, NEVER_FAIL, Policy, load_policy
from pipeline.report.annotations import annotations_for
from pipeline.report.escape import console_text
from pipeline.report.outputs import publish_step_summary
from pipeline.report.render import render_summary  # imports Jinja2 only when it renders
from pipeline.report.view import ReportView, build_view, location_text, verdict_sentence

FAILING_LINES = 20  # failing findings listed in the log; the reports list them all
THRESHOLDS = ("critical", "high", "medium", "low", "info", NEVER_FAIL)


@dataclass(frozen=True)
class Evaluation:
    scope: Scope
    verdict: GateVerdict
    metrics: tuple[tuple[str, str], ...] = ()  # scan-level facts of every results file, for the reports


def add_evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULTS.json",
                        help="Tollgate results files (tollgate normalize --json); they must share one repository")
    parser.add_argument("--policy", metavar="FILE",
                        help=f"the policy (default: {DEFAULT_POLICY_FILE} if present; else fail on high and up)")
    parser.add_argument("--baseline", metavar="FILE",
                        help="a previous results file or SARIF file: only new findings fail (default: the policy's)")
    parser.add_argument("--fail-on", choices=THRESHOLDS, help="replace the policy's default fail-on threshold")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_evaluation_arguments(parser)
    parser.add_argument("--summary", action="store_true",
                        help="append the job summary to $GITHUB_STEP_SUMMARY (print it when that is unset)")
    parser.add_argument("--annotations", action="store_true",
                        help="print GitHub annotations for new code findings (10 per level per step)")


def run(args: argparse.Namespace) -> int:
    evaluation = evaluate_from_args(args)
    verdict = evaluation.verdict
    warn_expired(verdict)
    if args.annotations:
        print_annotations(verdict)
    if args.summary:
        publish_step_summary(render_summary(report_view(evaluation)))
    print_verdict(verdict)
    return ExitCode.PASSED if verdict.passed else ExitCode.GATE_FAILED


def evaluate_from_args(args: argparse.Namespace) -> Evaluation:
    documents = load_results(args.results)
    scope, findings = combine_results(documents)
    policy = read_policy(args.policy).with_fail_on(args.fail_on)
    baseline_path = args.baseline or policy.baseline
    baseline = read_baseline(baseline_path) if baseline_path else None
    today = datetime.now(timezone.utc).date()
    # A metric in two files (the same host audited twice) keeps the later file's value.
    metrics = tuple(dict(metric for d in documents for metric in d.metrics).items())
    return Evaluation(scope, evaluate(findings, policy, baseline, today=today), metrics)


def load_results(paths: Sequence[str]) -> list[Results]:
    return [results_from_dict(_read_json(path), path) for path in paths]


def read_results(paths: Sequence[str]) -> tuple[Scope, list[Finding]]:
    """One scope and one finding per identity, however many results files there are."""
    return combine_results(load_results(paths))


def combine_results(documents: Sequence[Results]) -> tuple[Scope, list[Finding]]:
    scope = merge_scopes(d.scope for d in documents)
    return scope, merge_duplicates(f for d in documents for f in d.findings)


def read_policy(path: str | None) -> Policy:
    if path is not None:
        return load_policy(path)
    return load_policy(DEFAULT_POLICY_FILE) if Path(DEFAULT_POLICY_FILE).is_file() else Policy()


def read_baseline(path: str) -> Baseline:
    return baseline_from_document(_read_json(path), path)


def _read_json(path: str) -> Any:
    try:
        return orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise MalformedReportError(f"{path}: not valid JSON ({exc})") from None


def report_view(evaluation: Evaluation) -> ReportView:
    server_url = os.environ.get("GITHUB_SERVER_URL") or "https://github.com"
    return build_view(evaluation.scope, evaluation.verdict, server_url=server_url, metrics=evaluation.metrics)


def warn_expired(verdict: GateVerdict) -> None:
    for expired in verdict.expired_suppressions:
        suppression = expired.suppression
        print(f"tollgate: warning: {console_text(suppression.label)} expired on {suppression.expires}; "
              f"it no longer suppresses {expired.would_match} finding(s)", file=sys.stderr)


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
