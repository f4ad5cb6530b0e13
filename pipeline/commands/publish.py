"""`tollgate publish securityhub RESULTS.json... [--endpoint-url URL] [--region R] [--account A] [--scope-env NAME]`.

Reads Tollgate results files (`tollgate normalize --json`), emits ASFF and imports it into
Security Hub with the finding lifecycle (pipeline.publish.securityhub). Prints one line per
finding that was not imported, then a summary; exits 3 when any finding was not imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from pathlib import Path

import orjson

from normalizers.errors import MalformedReportError
from normalizers.model import Category, Finding
from normalizers.results import Results, merge_scopes, results_from_dict
from pipeline.errors import ConfigError, ExitCode, PublishError
from pipeline.publish.ratelimit import IMPORT_RATE, Rate

TARGETS = ("securityhub",)
_ACCOUNT = re.compile(r"^\d{12}$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=TARGETS, help="where to publish (securityhub: AWS Security Hub)")
    parser.add_argument("results", nargs="+", metavar="RESULTS.json", help="Tollgate results files of one repository")
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


def read_results(path: str) -> Results:
    try:
        document = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise MalformedReportError(f"{path}: not valid JSON ({exc})") from None
    return results_from_dict(document, source=path)


def load_results(paths: list[str]) -> Results:
    loaded = [read_results(path) for path in paths]
    findings: tuple[Finding, ...] = tuple(f for results in loaded for f in results.findings)
    return Results(scope=merge_scopes(r.scope for r in loaded), findings=findings)


def _region(args: argparse.Namespace) -> str:
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("no AWS region", "pass --region or set AWS_REGION")
    return str(region)


def run(args: argparse.Namespace) -> int:
    # boto3 and botocore load only when a publish runs, never for `tollgate --help`.
    from pipeline.publish.securityhub import PublishRequest, PublishSettings, publish  # noqa: PLC0415

    try:
        import_rate = Rate(per_second=args.rate, burst=args.burst)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.account is not None and not _ACCOUNT.match(args.account):
        raise ConfigError(f"--account must be a 12-digit AWS account id, got {args.account!r}")
    results = load_results(args.results)
    scope = dataclasses.replace(results.scope, environment=args.scope_env) if args.scope_env else results.scope
    request = PublishRequest(
        findings=results.findings, scope=scope, categories=frozenset(args.category), account=args.account
    )
    settings = PublishSettings(region=_region(args), endpoint_url=args.endpoint_url, import_rate=import_rate)
    outcome = publish(request, settings)
    for warning in outcome.warnings:
        print(f"tollgate: warning: {warning}", file=sys.stderr)
    for failure in outcome.failed:
        print(failure.line(), file=sys.stderr)
    print(outcome.summary_line())
    if outcome.failed:
        raise PublishError(f"{len(outcome.failed)} findings were not imported into Security Hub")
    return ExitCode.PASSED
