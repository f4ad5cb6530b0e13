"""`tollgate firewall check NAME [--platform pypi|npm] [--version V] [--json] [--offline]` and
`tollgate firewall serve [--host 127.0.0.1] [--port 8080] [--offline]` and
`tollgate firewall update-index [--output DIR]` and
`tollgate firewall install [--tool pip|npm] [PACKAGE ...] [-r FILE] [--lockfile FILE] ...`.

`check` prints the verdict on one package (or seed B's JSON with `--json`) and exits 1 when the
package is blocked (Red), 0 otherwise, so a pre-install hook can stop on it. `serve` runs the
package-check API (pipeline/firewall/server.py) until interrupted. Both read the `firewall:`
section of `--config` (default ./.tollgate.yml) and query the registries unless `--offline`,
which uses only the on-disk cache and says so in every answer. `update-index` rebuilds the
bundled popularity index (pipeline/firewall/popular/, see its README.md) from the public lists
the registries serve, through the configured registry URLs; `--output` writes it elsewhere.

`install` asks the AWS vetting flow (terraform/modules/package-vetting, docs/vetting.md) to vet
each version, shows the progress while it waits, then installs with pip or npm from the vetted
CodeArtifact repository (pipeline/vetting/client.py). Exit 0 installed, 1 a version is BLOCKED
(reasons printed, nothing installed), 2 bad input, 3 a vetting FAILED, timed out, or the
installer failed. The deployment's names come from the options or TOLLGATE_VETTING_* variables.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import orjson

from pipeline.errors import ConfigError, ExitCode
from pipeline.firewall.config import load_firewall_config
from pipeline.firewall.engine import Firewall
from pipeline.firewall.model import Ecosystem
from pipeline.firewall.popular.update import update_index
from pipeline.firewall.registry import Registry
from pipeline.firewall.server import BadRequest, PackageCheckServer, package_from

DEFAULT_CONFIG = Path(".tollgate.yml")
BUNDLED_INDEX = Path(__file__).resolve().parents[1] / "firewall" / "popular"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="FILE", help="the .tollgate.yml (default: ./.tollgate.yml)")
    common.add_argument("--offline", action="store_true", help="use only the registry cache; say so in every answer")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", parents=[common], help="check one package")
    check.add_argument("name", metavar="NAME")
    check.add_argument("--platform", choices=[e.value for e in Ecosystem], default="pypi")
    check.add_argument("--version", metavar="V", help="the version to check (default: the latest)")
    check.add_argument("--json", action="store_true", help="print the package-check API's JSON")
    serve = actions.add_parser("serve", parents=[common], help="serve GET /package-check")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 picks a free one)")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    update = actions.add_parser("update-index", parents=[common],
                                help="rebuild the popularity index from the public PyPI and npm lists")
    update.add_argument("--output", type=Path, metavar="DIR", default=BUNDLED_INDEX,
                        help="where to write pypi.txt and npm.txt (default: the bundled index)")
    install = actions.add_parser("install", parents=[common],
                                 help="vet packages on AWS, wait, then install them from the vetted repository")
    install.add_argument("packages", nargs="*", metavar="PACKAGE", help="name==version (pip) or name@version (npm)")
    install.add_argument("--tool", choices=sorted(INSTALLERS), default="pip", help="the installer (default: pip)")
    install.add_argument("-r", "--requirement", dest="files", action="append", type=Path, default=[],
                         metavar="FILE", help="a requirements file or lockfile; every package in it is vetted")
    install.add_argument("--lockfile", dest="files", action="append", type=Path, metavar="FILE",
                         help="same as -r (package-lock.json, poetry.lock, ...)")
    for option, variable, text in VETTING_SETTINGS:
        install.add_argument(f"--{option}", default=os.environ.get(variable), help=f"{text} (default: ${variable})")
    install.add_argument("--repository", help="the vetted repository (default: the module's ECOSYSTEM-vetted)")
    install.add_argument("--region", default=None, help="the AWS region (default: the AWS configuration's)")
    install.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the answers (default: 900)")
    install.add_argument("--poll", type=float, default=5.0, help="seconds between two status reads (default: 5)")
    install.add_argument("--installer-args", default="", metavar="ARGS",
                         help="more arguments for pip install or npm, as one shell-quoted string")


INSTALLERS = {"pip": Ecosystem.PYPI, "npm": Ecosystem.NPM}
VETTING_SETTINGS = (
    ("state-machine", "TOLLGATE_VETTING_STATE_MACHINE", "ARN of the vetting state machine"),
    ("table", "TOLLGATE_VETTING_TABLE", "the status table"),
    ("domain", "TOLLGATE_VETTING_DOMAIN", "the CodeArtifact domain"),
    ("domain-owner", "TOLLGATE_VETTING_DOMAIN_OWNER", "the account that owns the domain"),
)


def build_firewall(args: argparse.Namespace) -> Firewall:
    path = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    if args.config and not args.config.is_file():
        raise ConfigError(f"{args.config}: no such configuration file")
    config = load_firewall_config(path)
    registry_settings = replace(config.registry, offline=config.registry.offline or args.offline)
    return Firewall(config, Registry(registry_settings))


def run(args: argparse.Namespace) -> int:
    if args.action == "update-index":
        return update(args)
    if args.action == "install":
        return install(args)
    firewall = build_firewall(args)
    return check(firewall, args) if args.action == "check" else serve(firewall, args)


def check(firewall: Firewall, args: argparse.Namespace) -> int:
    try:
        package = package_from({"package_name": args.name, "platform": args.platform, "version": args.version or ""})
    except BadRequest as exc:
        raise ConfigError(str(exc)) from None
    answer = firewall.check(package).answer()
    if args.json:
        print(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
    else:
        print(f"{answer['package_name']} ({answer['platform']} {answer['version'] or '?'}): {answer['risk_level']}, "
              f"{answer['status']}, score {answer['score'] if answer['score'] is not None else 'n/a'}")
        print(f"  {answer['message']}")
        for reason in answer["reasons"]:
            print(f"  +{reason['points']:<3} {reason['rule']}: {reason['detail']}")
        for hit in answer["checks"]:
            print(f"  {hit['severity']:<8} {hit['rule_id']}: {hit['detail']}")
        print(f"  metadata: {answer['metadata']}")
    return ExitCode.GATE_FAILED if answer["status"] == "blocked" else ExitCode.PASSED


def update(args: argparse.Namespace) -> int:
    path = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    if args.offline:
        raise ConfigError("update-index fetches the public lists: it cannot run --offline")
    for written, count, source in update_index(load_firewall_config(path).registry, args.output):
        print(f"tollgate firewall: {written}: {count} names from {source}")
    return ExitCode.PASSED


def install(args: argparse.Namespace) -> int:
    # boto3 loads only for an install, never for check, serve or `tollgate --help`.
    from pipeline.vetting import aws  # noqa: PLC0415
    from pipeline.vetting.client import InstallRequest, VettingBackend, VettingClient  # noqa: PLC0415
    from pipeline.vetting.client import install as vetting_install  # noqa: PLC0415
    from pipeline.vetting.codeartifact import CodeArtifact, Repository  # noqa: PLC0415
    from pipeline.vetting.status_table import StatusTable  # noqa: PLC0415
    from pipeline.vetting.wanted import registry_resolver, wanted  # noqa: PLC0415

    missing = [f"--{option} (or ${variable})" for option, variable, _ in VETTING_SETTINGS
               if not getattr(args, option.replace("-", "_"))]
    if missing:
        raise ConfigError(f"firewall install needs {', '.join(missing)}",
                          tip="the package-vetting module's outputs give them")
    if args.timeout <= 0 or args.poll <= 0:
        raise ConfigError("--timeout and --poll must be positive")
    ecosystem = INSTALLERS[args.tool]
    try:
        extra = tuple(shlex.split(args.installer_args))
    except ValueError as exc:
        raise ConfigError(f"--installer-args: {exc}") from None
    resolver = registry_resolver(build_firewall(args).registry)
    request = InstallRequest(
        ecosystem=ecosystem, wanted=wanted(ecosystem, args.packages, args.files, resolver),
        vetted=Repository(args.domain, args.domain_owner, args.repository or f"{ecosystem.value}-vetted"),
        timeout_seconds=args.timeout, poll_seconds=args.poll, extra_arguments=extra)
    table = StatusTable(aws.client("dynamodb", args.region), args.table)
    client = VettingClient(VettingBackend(table, aws.client("stepfunctions", args.region), args.state_machine))
    return vetting_install(request, client, CodeArtifact(aws.client("codeartifact", args.region)))


def serve(firewall: Firewall, args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port number")
    firewall.build_indexes()
    try:
        server = PackageCheckServer((args.host, args.port), firewall, verbose=args.verbose)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({exc.strerror})") from None
    if args.host not in LOOPBACK:
        print("tollgate firewall: warning: the API has no authentication; it is reachable beyond this machine",
              file=sys.stderr)
    host, port = args.host, server.server_port
    mode = "offline (cache only)" if firewall.registry.settings.offline else "online"
    print(f"tollgate firewall: serving http://{host}:{port}/package-check ({mode}); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("tollgate firewall: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return ExitCode.PASSED
