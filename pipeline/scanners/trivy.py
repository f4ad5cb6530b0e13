"""Trivy, five ways: `config` (IaC), `fs --scanners secret`, `fs --scanners vuln` (SCA), `image` and
`rootfs /` (the host's installed packages, opt-in).

Config and secret scans need no database and run offline. Vulnerability scans need Trivy's DB
(`trivy-fs`, the dependency scan, is in the zero-setup default; when Trivy cannot download the DB
and none is cached, it is skipped with a notice):
`db-repository` points at a mirror, `cache-dir` is the (date-keyed, cached) DB folder, and
`skip-db-update` makes a scan use only what the cache holds; with that set and no DB in the
cache, the scanner is skipped instead of failing. Note that Trivy's secret rules allow-list
documentation example keys (AKIA…EXAMPLE), so they stay silent on the example app's fake key.
"""

from __future__ import annotations

import re
from pathlib import Path

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.errors import ScannerError, ScannerTimeout, ScannerUnavailable
from pipeline.scanners.base import (
    ActionInput,
    CommandScanner,
    Invocation,
    Options,
    ScanContext,
    ScannerOutput,
    ScannerSpec,
    SkipKind,
    SkipReason,
)
from pipeline.scanners.schema import BOOLEAN, STRING

INSTALL = "install Trivy's official release (https://trivy.dev/latest/getting-started/installation/); the actions do"
HOMEPAGE = "https://trivy.dev"
# How Trivy says it could not fetch its DB ("init error: DB error: failed to download vulnerability DB").
DB_DOWNLOAD_FAILED = re.compile(r"failed to download vulnerability DB|DB error", re.IGNORECASE)
CACHE_OPTION = {"cache-dir": STRING}
DB_OPTIONS = {**CACHE_OPTION, "db-repository": STRING, "skip-db-update": BOOLEAN}
DB_INPUTS = (
    ActionInput("trivy-cache-dir", "cache-dir"),
    ActionInput("trivy-db-repository", "db-repository"),
    ActionInput("trivy-skip-db-update", "skip-db-update", boolean=True),
)


def cache_dir(ctx: ScanContext, options: Options) -> Path:
    configured = options.get("cache-dir") or ctx.env.get("TRIVY_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "trivy"


class TrivyScanner(CommandScanner):
    executable = "trivy"
    subcommand: tuple[str, ...]
    report_format = "sarif"

    def target(self, ctx: ScanContext) -> str:
        return "."

    def extra_arguments(self, ctx: ScanContext, options: Options) -> tuple[str, ...]:
        return ()

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        report = ctx.folder(self.spec.name) / f"{self.spec.name}.{self.report_format}"
        skip_dirs = tuple(arg for glob in ctx.exclusions(self.spec).globs() for arg in ("--skip-dirs", glob))
        argv = (
            executable, *self.subcommand, "--cache-dir", str(cache_dir(ctx, options)), "--quiet",
            "--format", self.report_format, "--output", str(report),
            *skip_dirs, *self.extra_arguments(ctx, options), self.target(ctx),
        )
        return (Invocation(argv=argv, cwd=ctx.source, report=report),)


class TrivyConfig(TrivyScanner):
    spec = ScannerSpec(
        name="trivy-config", title="Trivy config", category=Category.IAC,
        tool_ids=(ToolId.SARIF,), install=INSTALL, timeout=600, homepage=HOMEPAGE, options=CACHE_OPTION,
        expected_seconds=1.0, memory_mb=300,
        runner_setup=("trivy",),
    )
    subcommand = ("config", "--skip-check-update")


class TrivySecret(TrivyScanner):
    spec = ScannerSpec(
        name="trivy-secret", title="Trivy secret", category=Category.SECRETS,
        tool_ids=(ToolId.SARIF,), install=INSTALL, timeout=600, homepage=HOMEPAGE, options=CACHE_OPTION,
        expected_seconds=0.5, memory_mb=300,
        runner_setup=("trivy",),
    )
    subcommand = ("fs", "--scanners", "secret")


class TrivyVulnerabilities(TrivyScanner):
    """The scans that need the vulnerability DB; Trivy's JSON keeps package details SARIF drops.

    When Trivy cannot download its DB (offline, a registry that refuses) and none is cached, the
    scanner is unavailable rather than failed: skipped with a notice when only the zero-setup default
    enabled it, a missing scanner (exit 3) when it was asked for. Trivy itself decides whether the
    network answers, so a slow network is never mistaken for none.
    """

    report_format = "json"

    def applicable(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        database = cache_dir(ctx, options) / "db" / "trivy.db"
        if database.is_file():
            return None
        fill = f"trivy image --download-db-only --cache-dir {database.parent.parent}"
        if options.get("skip-db-update"):
            missing = f"skip-db-update is on, yet {database} does not exist"
            return SkipReason(SkipKind.NOT_CONFIGURED, f"{missing}; fill the cache with `{fill}`")
        return None

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        try:
            return super().run(ctx, options, deadline)
        except ScannerTimeout:
            raise
        except ScannerError as exc:
            if not DB_DOWNLOAD_FAILED.search(str(exc)):
                raise
            database = cache_dir(ctx, options) / "db"
            raise ScannerUnavailable(
                f"Trivy could not download its vulnerability DB (offline?) and {database} holds none; fill it with "
                f"`trivy image --download-db-only --cache-dir {database.parent}` or set db-repository to a mirror",
            ) from None

    def extra_arguments(self, ctx: ScanContext, options: Options) -> tuple[str, ...]:
        arguments: tuple[str, ...] = ("--scanners", "vuln")
        if options.get("db-repository"):
            arguments += ("--db-repository", str(options.get("db-repository")))
        if options.get("skip-db-update"):
            arguments += ("--skip-db-update",)
        return arguments


class TrivyFilesystem(TrivyVulnerabilities):
    spec = ScannerSpec(
        name="trivy-fs", title="Trivy fs", category=Category.SCA,
        tool_ids=(ToolId.TRIVY,), install=INSTALL, timeout=900, homepage=HOMEPAGE,
        expected_seconds=10, memory_mb=500,
        options=DB_OPTIONS, action_inputs=DB_INPUTS, runner_setup=("trivy", "trivy-db"),
    )
    subcommand = ("fs",)


class TrivyImage(TrivyVulnerabilities):
    spec = ScannerSpec(
        name="trivy-image", title="Trivy image", category=Category.IMAGE,
        tool_ids=(ToolId.TRIVY,), install=INSTALL, timeout=900, homepage=HOMEPAGE,
        expected_seconds=60, memory_mb=800,
        options=DB_OPTIONS, action_inputs=DB_INPUTS, runner_setup=("trivy", "trivy-db"),
    )
    subcommand = ("image",)

    def applicable(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if not ctx.image:
            return SkipReason(SkipKind.NOTHING_TO_SCAN, "no --image given")
        return super().applicable(ctx, options)

    def target(self, ctx: ScanContext) -> str:
        assert ctx.image is not None  # noqa: S101 - applicable() refused a scan without one
        return ctx.image


class TrivyRootfs(TrivyVulnerabilities):
    """The installed OS packages of the machine Tollgate runs on, matched against Trivy's DB (`trivy rootfs /`).

    Opt-in like the host audit (a repository's CI runner is rarely the point); it complements the
    host scan's package inventory (pipeline/scanners/host_packages.sh) where Trivy and its DB are
    available. Kernel filesystems are skipped; the findings are Trivy findings like any other.
    """

    spec = ScannerSpec(
        name="trivy-rootfs", title="Trivy rootfs", category=Category.HOST,
        tool_ids=(ToolId.TRIVY,), install=INSTALL, timeout=1800, homepage=HOMEPAGE, enabled=False,
        expected_seconds=60, memory_mb=800,
        options=DB_OPTIONS,
    )
    subcommand = ("rootfs",)
    SKIPPED = ("/proc", "/sys", "/dev", "/run")

    def target(self, ctx: ScanContext) -> str:
        return "/"

    def extra_arguments(self, ctx: ScanContext, options: Options) -> tuple[str, ...]:
        skipped = (*self.SKIPPED, str(ctx.work_dir))
        return (*super().extra_arguments(ctx, options), *(arg for path in skipped for arg in ("--skip-dirs", path)))


CONFIG = TrivyConfig()
SECRET = TrivySecret()
FS = TrivyFilesystem()
IMAGE = TrivyImage()
ROOTFS = TrivyRootfs()
SCANNERS = (CONFIG, SECRET, FS, IMAGE, ROOTFS)
