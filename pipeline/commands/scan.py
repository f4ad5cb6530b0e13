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
from pathlib import Path

from pipeline.commands.normalize import add_format_arguments, add_location_arguments, add_scope_arguments, scope_from
from pipeline.config import OptionOverride
from pipeline.flows.scan import ScanRequest, run_scan
from pipeline.report.console import print_outcome
from pipeline.scanners import catalog


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
    scanners, engines = catalog.names(), catalog.dast_engines()
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--only", action="append", default=[], choices=scanners, metavar="SCANNER",
                           help=f"run only this scanner, even if disabled; it must run (repeatable): "
                           f"{', '.join(scanners)}")
    selection.add_argument("--skip", action="append", default=[], choices=scanners, metavar="SCANNER",
                           help="do not run this scanner (repeatable)")
    parser.add_argument("--dast-engine", action="append", default=[], choices=engines, metavar="ENGINE",
                        help=f"run this DAST engine, and no other (repeatable): {', '.join(engines)}; "
                        "default: every enabled one")
    parser.add_argument("--wsc-instance", type=positive_int, metavar="N",
                        help="attach ncp-wsc to NAVER Cloud Web Security Checker job N instead of creating one")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where reports go (default: $RUNNER_TEMP/tollgate, else ./.tollgate)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="the .tollgate.yml (default: PATH/.tollgate.yml, else ./.tollgate.yml, else built-in)")
    add_scope_arguments(parser)
    parser.add_argument("--timeout", type=positive_seconds, metavar="S", help="timeout per scanner in seconds")
    parser.add_argument("--fail-on", metavar="SEVERITY",
                        help="gate threshold, overriding the policy's: critical, high, medium, low, info or none")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="previous results or SARIF; only new findings fail (overrides the policy's baseline)")
    parser.add_argument("--no-publish", action="store_true", help="do not publish even when the config says so")
    parser.add_argument("--keep-raw", action="store_true",
                        help="keep the scanners' own reports in OUT/raw (they quote secrets; by default removed)")
    parser.add_argument("--remediate-build", action="store_true",
                        help="build each proposed Dockerfile (context: the original's folder) and rescan it; "
                             "needs a Docker engine, else exit 3")
    add_location_arguments(parser)
    add_format_arguments(parser)


def request_from(args: argparse.Namespace) -> ScanRequest:
    wsc_instance = (OptionOverride("ncp-wsc", "instance", args.wsc_instance),) if args.wsc_instance else ()
    return ScanRequest(
        source=Path(args.path),
        out_dir=args.out or default_out_dir(),
        scope=scope_from(args, Path(args.path)).scope,
        config=args.config,
        options=wsc_instance,
        image=args.image,
        dast_targets=tuple(args.dast_target),
        dast_allow=tuple(args.dast_allow),
        only=frozenset(args.only),
        skip=frozenset(args.skip),
        dast_engines=frozenset(args.dast_engine),
        timeout=args.timeout,
        fail_on=args.fail_on,
        baseline=args.baseline,
        publish=not args.no_publish,
        keep_raw=args.keep_raw,
        remediate_build=args.remediate_build,
        dast_location=args.dast_location,
        image_location=args.image_location,
        host_location=args.host_location,
        ocsf_out=Path(args.ocsf) if args.ocsf else None,
        cyclonedx_out=Path(args.cyclonedx) if args.cyclonedx else None,
        vex=tuple(args.vex),
        epss=args.epss,
        gitlab_dir=args.gitlab,
        debug=args.debug,
    )


def run(args: argparse.Namespace) -> int:
    outcome = run_scan(request_from(args))
    print_outcome(outcome)
    return int(outcome.exit_code)
