"""`tollgate normalize REPORT... [--sarif|--asff|--json|--ocsf|--cyclonedx OUT]... [--gitlab DIR] [--repo R]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from normalizers.emit.sarif import SarifOptions, relative_uri
from normalizers.tool_id import ToolId
from pipeline.ci_scope import ResolvedScope, resolve_scope
from pipeline.errors import ExitCode
from pipeline.flows.normalize import NormalizeRequest, normalize_reports, sarif_options_for, write_outputs

REPO_HELP = ("the repository (owner/name) that scopes every identity (default: the CI system's, e.g. "
             "$GITHUB_REPOSITORY, $CI_PROJECT_PATH, $CODEBUILD_SOURCE_REPO_URL; else local/<folder>, never published)")


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """--repo, --environment, --branch, --commit; `scan` shares them."""
    parser.add_argument("--repo", help=REPO_HELP)
    parser.add_argument("--environment", help="optional environment or target name within the repository scope")
    parser.add_argument("--branch", help="branch the scan ran on (default: the CI system's, e.g. $GITHUB_REF_NAME)")
    parser.add_argument("--commit", help="commit the scan ran on (default: the CI system's, e.g. $GITHUB_SHA)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", nargs="+", metavar="REPORT",
                        help="scanner reports; formats are detected by content; - reads stdin")
    parser.add_argument("--sarif", metavar="OUT", help="write SARIF 2.1.0 for GitHub code scanning")
    parser.add_argument("--asff", metavar="OUT", help="write ASFF findings for AWS Security Hub")
    parser.add_argument("--json", metavar="OUT", help="write Tollgate's lossless results file")
    add_format_arguments(parser)
    add_scope_arguments(parser)
    parser.add_argument("--account", default="000000000000", help="AWS account id for ASFF (default: 000000000000)")
    parser.add_argument("--region", default="us-east-1",
                        help="AWS region for ASFF; sets the partition (default: us-east-1)")
    parser.add_argument("--tool", choices=[t.value for t in ToolId], help="refuse reports that are not this format")
    parser.add_argument("--source-root",
                        help="prefix stripped from absolute paths in reports (default: the repo checkout)")
    add_location_arguments(parser)


def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    """The interchange formats `scan` also writes on request (it always writes them in its output folder)."""
    parser.add_argument("--ocsf", metavar="OUT", help="write OCSF 1.6 finding events (a JSON array)")
    parser.add_argument("--cyclonedx", metavar="OUT",
                        help="write a CycloneDX 1.6 SBOM of the packages seen and their vulnerabilities")
    parser.add_argument("--vex", action="append", default=[], type=Path, metavar="FILE",
                        help="OpenVEX, CycloneDX or CSAF VEX document; not_affected and fixed suppress (repeatable)")
    parser.add_argument("--epss", type=Path, metavar="FILE",
                        help="FIRST's EPSS snapshot (epss_scores-current.csv.gz, gzip or CSV): findings carry their "
                             "CVE's exploitation probability (default: the one `tollgate db update` fetched, if any)")
    parser.add_argument("--gitlab", metavar="DIR",
                        help="write GitLab security reports (gl-sast-report.json, gl-dependency-scanning-report.json, "
                             "gl-dast-report.json, gl-secret-detection-report.json) into DIR")


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


def scope_from(args: argparse.Namespace, folder: Path) -> ResolvedScope:
    """--repo and friends, else the CI system's variables, else `local/<folder>` with a warning; `scan` shares it."""
    resolved = resolve_scope(os.environ, repository=args.repo, branch=args.branch, commit=args.commit,
                             environment=args.environment, folder=folder)
    if resolved.warning:
        print(f"tollgate: warning: {resolved.warning}", file=sys.stderr)
    elif resolved.ci and not args.repo:
        print(f"tollgate: {resolved.notice()}", file=sys.stderr)
    return resolved


def request_from(args: argparse.Namespace) -> NormalizeRequest:
    resolved = scope_from(args, Path.cwd())
    workspace = resolved.ci.workspace if resolved.ci else None
    source_root = args.source_root or workspace or os.getcwd()
    return NormalizeRequest(
        reports=tuple(args.reports),
        scope=resolved.scope,
        account=args.account,
        region=args.region,
        tool=ToolId(args.tool) if args.tool else None,
        source_root=source_root,
        sarif_out=args.sarif,
        asff_out=args.asff,
        json_out=args.json,
        ocsf_out=args.ocsf,
        cyclonedx_out=args.cyclonedx,
        vex=tuple(args.vex),
        epss=args.epss,
        gitlab_dir=args.gitlab,
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
