"""`tollgate gate RESULTS.json... [--config FILE] [--baseline FILE] [--fail-on S] [--summary] [--annotations]`.

Exit 0 when the gate passes, 1 when it fails, 2 for a bad policy, results file or baseline.
The verdict is `pipeline.flows.verdict`'s, the same one `tollgate report`, `tollgate scan`, the
actions and the importer Lambda reach.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config_file import DEFAULT_CONFIG_FILE
from pipeline.errors import ExitCode
from pipeline.flows.verdict import GateSettings, VerdictRequest, evaluate_results
from pipeline.policy import NEVER_FAIL
from pipeline.report.console import print_annotations, print_verdict, warn_expired
from pipeline.report.outputs import publish_step_summary
from pipeline.report.render import render_summary  # imports Jinja2 only when it renders
from pipeline.report.view import view_of

THRESHOLDS = ("critical", "high", "medium", "low", "info", NEVER_FAIL)


def add_evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS.json",
                        help="Tollgate results files (tollgate normalize --json); they must share one repository")
    parser.add_argument("--config", "--policy", dest="config", type=Path, metavar="FILE",
                        help=f"the .tollgate.yml (default: ./{DEFAULT_CONFIG_FILE} if present; "
                        "else fail on high and up)")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="a previous results file or SARIF file: only new findings fail (default: the policy's)")
    parser.add_argument("--fail-on", choices=THRESHOLDS, help="replace the policy's default fail-on threshold")
    parser.add_argument("--vex", action="append", default=[], type=Path, metavar="FILE",
                        help="OpenVEX, CycloneDX or CSAF VEX document; not_affected and fixed suppress (repeatable)")


def verdict_request(args: argparse.Namespace) -> VerdictRequest:
    return VerdictRequest(tuple(args.results), GateSettings(config=args.config, fail_on=args.fail_on,
                                                            baseline=args.baseline, vex=tuple(args.vex)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_evaluation_arguments(parser)
    parser.add_argument("--summary", action="store_true",
                        help="append the job summary to $GITHUB_STEP_SUMMARY (print it when that is unset)")
    parser.add_argument("--annotations", action="store_true",
                        help="print GitHub annotations for new code findings (10 per level per step)")


def run(args: argparse.Namespace) -> int:
    evaluation = evaluate_results(verdict_request(args))
    verdict = evaluation.verdict
    warn_expired(verdict)
    if args.annotations:
        print_annotations(verdict)
    if args.summary:
        publish_step_summary(render_summary(view_of(evaluation)))
    print_verdict(verdict)
    return ExitCode.PASSED if verdict.passed else ExitCode.GATE_FAILED
