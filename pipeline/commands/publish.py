"""`tollgate publish securityhub RESULTS.json... [--endpoint-url URL] [--region R] [--account A] [--scope-env NAME]`.

Reads Tollgate results files (`tollgate normalize --json`), emits ASFF and imports it into
Security Hub with the finding lifecycle (pipeline.flows.publish). Prints one line per finding
that was not imported, then a summary; exits 3 when any finding was not imported.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from normalizers.model import Category
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.publish import PublishFlowRequest, publish_results, require_imported
from pipeline.publish.ratelimit import IMPORT_RATE, Rate
from pipeline.report.console import print_publish_outcome

TARGETS = ("securityhub",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=TARGETS, help="where to publish (securityhub: AWS Security Hub)")
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS.json",
                        help="Tollgate results files of one repository")
    parser.add_argument("--endpoint-url", metavar="URL",
                        help="endpoint for every AWS call, e.g. a local emulator (default: AWS, or $AWS_ENDPOINT_URL)")
    parser.add_argument("--region",
                        help="AWS region; sets the ARN partition (default: $AWS_REGION or $AWS_DEFAULT_REGION)")
    parser.add_argument("--account", help="AWS account id (default: the caller's, from STS GetCallerIdentity)")
    parser.add_argument("--scope-env", metavar="NAME",
                        help="environment that scopes identity and archiving, instead of the branch "
                             "(default: the results' environment)")
    parser.add_argument("--category", action="append", default=[], choices=[c.value for c in Category],
                        help="a category this run scanned, even with no findings left, so its fixed findings are "
                             "archived (repeatable; default: the categories present in the results)")
    parser.add_argument("--rate", type=float, default=IMPORT_RATE.per_second,
                        help=f"BatchImportFindings calls per second (default: {IMPORT_RATE.per_second:g})")
    parser.add_argument("--burst", type=int, default=IMPORT_RATE.burst,
                        help=f"BatchImportFindings burst (default: {IMPORT_RATE.burst})")


def request_from(args: argparse.Namespace) -> PublishFlowRequest:
    try:
        import_rate = Rate(per_second=args.rate, burst=args.burst)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return PublishFlowRequest(
        results=tuple(args.results),
        region=args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        endpoint_url=args.endpoint_url,
        account=args.account,
        scope_environment=args.scope_env,
        categories=frozenset(args.category),
        import_rate=import_rate,
    )


def run(args: argparse.Namespace) -> int:
    outcome = publish_results(request_from(args))
    print_publish_outcome(outcome)
    require_imported(outcome)
    return ExitCode.PASSED
