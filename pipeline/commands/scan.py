"""`tollgate scan [PATH] [--image REF] [--dast-target URL]... [--dast-allow HOST]... [--only|--skip SCANNER]...`.

Runs the available scanners concurrently (progress on stderr), then normalizes, gates, writes the
reports and publishes when `.tollgate.yml` says so. `--dast-engine` picks the DAST engines (the named
ones run even if disabled; the others do not); `--wsc-instance N` sets the ncp-wsc `instance` option,
so it reads an existing Web Security Checker job instead of creating one. `--dast-location`,
`--image-location` and `--host-location` are `tollgate normalize`'s, defined once there: the files
in PATH that findings without a source line point to in SARIF. Exit codes: 0 passed, 1 the gate failed,
2 usage or config error (a refused DAST target included), 3 a scanner or the publisher failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from normalizers.model import Scope
from pipeline.commands.normalize import add_location_arguments
from pipeline.config import DEFAULT_CONFIG_FILE, ScanConfig, load_scan_config
from pipeline.errors import ConfigError
from pipeline.scan import ScanOutcome, ScanRequest, run_scan
from pipeline.scanners.registry import DAST_ENGINES, ScannerName

SCANNER_CHOICES = [name.value for name in ScannerName]
DAST_ENGINE_CHOICES = [name.value for name in DAST_ENGINES]


def default_out_dir() -> Path:
    """Under $RUNNER_TEMP in GitHub Actions (never the user's workspace), else ./.tollgate."""
    runner_temp = os.environ.get("RUNNER_TEMP")
    return Path(runner_temp) / "tollgate" if runner_temp else Path(".tollgate")


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 seconds")
    return value


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="folder to scan (default: .)")
    parser.add_argument("--image", metavar="REF", help="container image to scan with Trivy")
    parser.add_argument("--dast-target", action="append", default=[], metavar="URL",
                        help="URL for the DAST scanners (repeatable); its host must be allowed")
    parser.add_argument("--dast-allow", action="append", default=[], metavar="HOST",
                        help="host you own that DAST may attack: name, *.example.com, host:port, [::1] (repeatable)")
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--only", action="append", default=[], choices=SCANNER_CHOICES, metavar="SCANNER",
                           help=f"run only this scanner, even if disabled (repeatable): {', '.join(SCANNER_CHOICES)}")
    selection.add_argument("--skip", action="append", default=[], choices=SCANNER_CHOICES, metavar="SCANNER",
                           help="do not run this scanner (repeatable)")
    parser.add_argument("--dast-engine", action="append", default=[], choices=DAST_ENGINE_CHOICES, metavar="ENGINE",
                        help=f"run this DAST engine, and no other (repeatable): {', '.join(DAST_ENGINE_CHOICES)}; "
                        "default: every enabled one")
    parser.add_argument("--wsc-instance", type=positive_int, metavar="N",
                        help="attach ncp-wsc to NAVER Cloud Web Security Checker job N instead of creating one")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where reports go (default: $RUNNER_TEMP/tollgate, else ./.tollgate)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="the .tollgate.yml (default: PATH/.tollgate.yml, else ./.tollgate.yml, else built-in)")
    parser.add_argument("--repo", help="owner/name that scopes every identity (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--environment", help="optional environment or target name within the repository scope")
    parser.add_argument("--branch", help="branch the scan ran on (default: $GITHUB_REF_NAME)")
    parser.add_argument("--commit", help="commit the scan ran on (default: $GITHUB_SHA)")
    parser.add_argument("--timeout", type=positive_seconds, metavar="S", help="timeout per scanner in seconds")
    parser.add_argument("--fail-on", metavar="SEVERITY",
                        help="gate threshold, overriding the policy's: critical, high, medium, low, info or none")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="previous results or SARIF; only new findings fail (overrides the policy's baseline)")
    parser.add_argument("--no-publish", action="store_true", help="do not publish even when the config says so")
    add_location_arguments(parser)


def config_path(args: argparse.Namespace) -> Path | None:
    if args.config:
        if not args.config.is_file():
            raise ConfigError(f"{args.config}: no such configuration file")
        return Path(args.config)
    candidates = (Path(args.path) / DEFAULT_CONFIG_FILE, Path(DEFAULT_CONFIG_FILE))
    return next((c for c in candidates if c.is_file()), None)


def scope_from(args: argparse.Namespace) -> Scope:
    repository = (args.repo or os.environ.get("GITHUB_REPOSITORY") or f"local/{Path(args.path).resolve().name}")
    if "/" not in repository.strip("/"):
        raise ConfigError(f"--repo must be owner/name, got {repository!r}")
    return Scope(
        repository=repository.strip("/"),
        environment=args.environment,
        branch=args.branch or os.environ.get("GITHUB_REF_NAME") or None,
        commit=args.commit or os.environ.get("GITHUB_SHA") or None,
    )


def scan_config(path: Path | None, wsc_instance: int | None) -> ScanConfig:
    config = load_scan_config(path)
    return config if wsc_instance is None else config.with_option(ScannerName.NCP_WSC, "instance", wsc_instance)


def request_from(args: argparse.Namespace) -> ScanRequest:
    config_file = config_path(args)
    return ScanRequest(
        source=Path(args.path),
        out_dir=args.out or default_out_dir(),
        config=scan_config(config_file, args.wsc_instance),
        scope=scope_from(args),
        image=args.image,
        dast_targets=tuple(args.dast_target),
        dast_allow=tuple(args.dast_allow),
        only=frozenset(ScannerName(n) for n in args.only),
        skip=frozenset(ScannerName(n) for n in args.skip),
        dast_engines=frozenset(ScannerName(n) for n in args.dast_engine),
        timeout=args.timeout,
        policy_path=config_file,
        fail_on=args.fail_on,
        baseline=args.baseline,
        publish=not args.no_publish,
        dast_location=args.dast_location,
        image_location=args.image_location,
        host_location=args.host_location,
    )


def print_outcome(outcome: ScanOutcome) -> None:
    for warning in outcome.warnings:
        print(f"tollgate: warning: {warning}", file=sys.stderr)
    print(outcome.normalized.summary_line())
    verdict = outcome.verdict
    print(f"tollgate: gate {'passed' if verdict.passed else 'FAILED'} ({verdict.policy.describe_thresholds()}): "
          f"{len(verdict.failing)} failing, {len(verdict.new)} new, {len(verdict.suppressed)} suppressed")
    if outcome.published:
        print(outcome.published)
    paths = outcome.outputs
    print(f"tollgate: results {paths.results}, SARIF {paths.sarif}, ASFF {paths.asff}, "
          f"summary {paths.summary}, HTML {paths.html}")


def run(args: argparse.Namespace) -> int:
    outcome = run_scan(request_from(args))
    print_outcome(outcome)
    return int(outcome.exit_code)
