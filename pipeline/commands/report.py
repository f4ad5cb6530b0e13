"""`tollgate report RESULTS.json... [--config] [--baseline] [--html OUT] [--pdf OUT] [--summary OUT|-] [--annotations]`.

Writes the reports of the verdict `pipeline.flows.verdict` reaches (the one `tollgate gate` gives).
It exits 0 whether the gate passes or not (deciding is the gate's job), and 2 for bad input or
nothing to write.
"""

from __future__ import annotations

import argparse
import sys

from pipeline.atomic import write_atomic
from pipeline.commands.gate import add_evaluation_arguments, verdict_request
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.verdict import evaluate_results
from pipeline.report.console import print_annotations
from pipeline.report.escape import console_text
from pipeline.report.outputs import write_text
from pipeline.report.pdf import write_pdf  # imports WeasyPrint only when it renders
from pipeline.report.render import render_html, render_summary
from pipeline.report.view import view_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_evaluation_arguments(parser)
    parser.add_argument("--html", metavar="OUT", help="write the self-contained HTML report")
    parser.add_argument("--pdf", metavar="OUT", help="write the HTML report as PDF (needs the 'pdf' extra: WeasyPrint)")
    parser.add_argument("--summary", metavar="OUT|-", help="write the job summary Markdown to OUT, or to stdout with -")
    parser.add_argument("--annotations", action="store_true",
                        help="print GitHub annotations for new code findings (10 per level per step)")


def run(args: argparse.Namespace) -> int:
    if not (args.html or args.pdf or args.summary or args.annotations):
        raise ConfigError("nothing to write", tip="give --html OUT, --pdf OUT, --summary OUT|- or --annotations")
    evaluation = evaluate_results(verdict_request(args))
    view = view_of(evaluation)
    if args.summary:
        write_text(args.summary, render_summary(view))
    if args.html or args.pdf:
        html = render_html(view)
        if args.html:
            write_atomic(args.html, html)
        if args.pdf:
            write_pdf_report(html, args.pdf)
    if args.annotations:
        print_annotations(evaluation.verdict)
    return ExitCode.PASSED


def write_pdf_report(html: str, out: str) -> None:
    for url in write_pdf(html, out):
        print(f"tollgate: warning: the PDF renderer was kept from fetching {console_text(url)}", file=sys.stderr)
