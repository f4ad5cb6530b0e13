"""`tollgate normalize REPORT... [--sarif OUT] [--asff OUT] [--json OUT] --repo owner/name`."""

from __future__ import annotations

import argparse
import os
import sys

from normalizers.emit.sarif import SarifOptions, relative_uri
from normalizers.model import Scope
from normalizers.tool_id import ToolId
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.normalize import NormalizeRequest, normalize_reports, sarif_options_for, write_outputs

REPO_HELP = "the repository the reports belong to (owner/name); it scopes every identity"


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, help=REPO_HELP)
    parser.add_argument("--environment", help="optional environment or target name within the repository scope")
    parser.add_argument("--branch", help="branch the scan ran on (default: $GITHUB_REF_NAME)")
    parser.add_argument("--commit", help="commit the scan ran on (default: $GITHUB_SHA)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", nargs="+", metavar="REPORT",
                        help="scanner reports; formats are detected by content; - reads stdin")
    parser.add_argument("--sarif", metavar="OUT", help="write SARIF 2.1.0 for GitHub code scanning")
    parser.add_argument("--asff", metavar="OUT", help="write ASFF findings for AWS Security Hub")
    parser.add_argument("--json", metavar="OUT", help="write Tollgate's lossless results file")
    add_scope_arguments(parser)
    parser.add_argument("--account", default="000000000000", help="AWS account id for ASFF (default: 000000000000)")
    parser.add_argument("--region", default="us-east-1",
                        help="AWS region for ASFF; sets the partition (default: us-east-1)")
    parser.add_argument("--tool", choices=[t.value for t in ToolId], help="refuse reports that are not this format")
    parser.add_argument("--source-root",
                        help="prefix stripped from absolute paths in reports (default: the repo checkout)")
    add_location_arguments(parser)


def add_location_arguments(parser: argparse.ArgumentParser) -> None:
    """Where findings without a source line point in SARIF (GitHub needs a repository file); `scan` shares them."""
    parser.add_argument("--dast-location", type=repository_file, metavar="FILE",
                        help="repository file that DAST findings point to in SARIF "
                             f"(default: {SarifOptions.dast_location})")
    parser.add_argument("--image-location", type=repository_file, metavar="FILE",
                        help="repository file that image findings point to in SARIF "
                             f"(default: {SarifOptions.image_location}, at its FROM line)")
    parser.add_argument("--host-location", type=repository_file, metavar="FILE",
                        help="repository file (a host inventory) that host findings point to in SARIF "
                             f"(default: {SarifOptions.host_location})")


def repository_file(text: str) -> str:
    if not relative_uri(text):
        raise argparse.ArgumentTypeError(f"{text!r} does not name a file in the repository")
    return text


def scope_from(args: argparse.Namespace, repository: str) -> Scope:
    """--repo and friends, with the runner's branch and commit as defaults; `scan` shares it."""
    if "/" not in repository.strip("/"):
        raise ConfigError(f"--repo must be owner/name, got {repository!r}")
    return Scope(
        repository=repository.strip("/"),
        environment=args.environment,
        branch=args.branch or os.environ.get("GITHUB_REF_NAME") or None,
        commit=args.commit or os.environ.get("GITHUB_SHA") or None,
    )


def request_from(args: argparse.Namespace) -> NormalizeRequest:
    source_root = args.source_root or os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    return NormalizeRequest(
        reports=tuple(args.reports),
        scope=scope_from(args, args.repo),
        account=args.account,
        region=args.region,
        tool=ToolId(args.tool) if args.tool else None,
        source_root=source_root,
        sarif_out=args.sarif,
        asff_out=args.asff,
        json_out=args.json,
        sarif_options=sarif_options_for(source_root, dast_location=args.dast_location,
                                        image_location=args.image_location, host_location=args.host_location),
    )


def run(args: argparse.Namespace) -> int:
    request = request_from(args)
    outcome = normalize_reports(request)
    emitter_warnings = write_outputs(outcome, request)
    for warning in (*outcome.warnings, *emitter_warnings):
        print(f"tollgate: warning: {warning}", file=sys.stderr)
    print(outcome.summary_line())
    return ExitCode.PASSED
