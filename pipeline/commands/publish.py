"""`tollgate publish securityhub RESULTS.json...` and `tollgate publish s3 RESULTS.json... --bucket B`.

`securityhub` emits ASFF and imports it into Security Hub with the finding lifecycle; `s3` uploads the
results to the report bucket, whose importer Lambda does the same centrally (pipeline.flows.publish).
A pull-request run, or a branch that is neither the default one nor a named environment, publishes
nothing and says so in one line (exit 0). `securityhub` prints one line per finding that was not
imported, then a summary, and exits 3 when any finding was not imported; with `--verify`, also one
line per imported finding that reading back did not find, and exits 3 when any is missing.
"""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path

from normalizers.model import Category
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.publish import PublishFlowRequest, S3FlowRequest, publish_results, require_imported, upload_results
from pipeline.publish.lifecycle import DEFAULT_REFRESH_INTERVAL
from pipeline.publish.ratelimit import IMPORT_RATE, Rate
from pipeline.publish.s3 import DEFAULT_PREFIX
from pipeline.report.console import print_publish_outcome


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("results", nargs="+", type=Path, metavar="RESULTS.json",
                        help="Tollgate results files of one repository")
    common.add_argument("--endpoint-url", metavar="URL",
                        help="endpoint for every AWS call, e.g. a local emulator (default: AWS, or $AWS_ENDPOINT_URL)")
    common.add_argument("--region",
                        help="AWS region; sets the ARN partition (default: $AWS_REGION or $AWS_DEFAULT_REGION)")
    common.add_argument("--scope-env", metavar="NAME",
                        help="environment that scopes identity and archiving; a branch other than the default one "
                             "publishes only as an environment (default: the results' environment)")
    common.add_argument("--category", action="append", default=[], choices=[c.value for c in Category],
                        help="a category this run scanned, even with no findings left, so its fixed findings are "
                             "archived (repeatable; default: the categories present in the results)")
    common.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    targets = parser.add_subparsers(dest="target", required=True, metavar="TARGET")
    hub = targets.add_parser("securityhub", parents=[common], help="import into AWS Security Hub from this job")
    hub.add_argument("--account", help="AWS account id (default: the caller's, from STS GetCallerIdentity)")
    hub.add_argument("--rate", type=float, default=IMPORT_RATE.per_second,
                     help=f"BatchImportFindings calls per second (default: {IMPORT_RATE.per_second:g})")
    hub.add_argument("--burst", type=int, default=IMPORT_RATE.burst,
                     help=f"BatchImportFindings burst (default: {IMPORT_RATE.burst})")
    hub.add_argument("--verify", action="store_true",
                     help="after importing, read the findings back (GetFindingsV2 where the new Security Hub is "
                          "on, else GetFindings) and exit 3 if any did not arrive")
    hub.add_argument("--refresh-days", type=float, default=DEFAULT_REFRESH_INTERVAL.days, metavar="DAYS",
                     help="re-send an unchanged finding only when Security Hub's copy is this old "
                          f"(default: {DEFAULT_REFRESH_INTERVAL.days}; Security Hub expires findings after 90)")
    bucket = targets.add_parser("s3", parents=[common], help="upload to the report bucket for the importer Lambda")
    bucket.add_argument("--bucket", required=True, help="the report bucket (terraform/modules/report-bucket)")
    bucket.add_argument("--prefix", default=DEFAULT_PREFIX,
                        help=f"key prefix the importer watches (default: {DEFAULT_PREFIX})")


def _region(args: argparse.Namespace) -> str | None:
    return args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def refresh_interval(days: float) -> timedelta:
    if not 0 <= days < 90:
        raise ConfigError(f"--refresh-days must be at least 0 and under 90 (Security Hub's expiry), got {days:g}")
    return timedelta(days=days)


def request_from(args: argparse.Namespace) -> PublishFlowRequest:
    try:
        import_rate = Rate(per_second=args.rate, burst=args.burst)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return PublishFlowRequest(
        results=tuple(args.results),
        region=_region(args),
        endpoint_url=args.endpoint_url,
        account=args.account,
        scope_environment=args.scope_env,
        categories=frozenset(args.category),
        import_rate=import_rate,
        refresh_interval=refresh_interval(args.refresh_days),
        verify=args.verify,
    )


def s3_request_from(args: argparse.Namespace) -> S3FlowRequest:
    return S3FlowRequest(results=tuple(args.results), bucket=args.bucket, prefix=args.prefix,
                         endpoint_url=args.endpoint_url, region=_region(args), scope_environment=args.scope_env,
                         categories=frozenset(args.category))


def run(args: argparse.Namespace) -> int:
    result = upload_results(s3_request_from(args)) if args.target == "s3" else publish_results(request_from(args))
    print_publish_outcome(result)
    require_imported(result)
    return ExitCode.PASSED
