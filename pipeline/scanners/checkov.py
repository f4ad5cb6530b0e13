"""Checkov: IaC checks (Terraform, Dockerfile, Kubernetes, CloudFormation, GitHub Actions).

Checkov pins old boto3 and packaging, so it lives in a virtualenv of its own (`make checkov`);
$TOLLGATE_CHECKOV names that binary, else `checkov` on PATH. `--skip-download` keeps it off its
SaaS platform. It exits 1 when a check fails, which is success here.
"""

from __future__ import annotations

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners.base import CommandScanner, Invocation, Options, ScanContext, ScannerSpec, which
from pipeline.scanners.schema import STRINGS

CHECKOV_ENV = "TOLLGATE_CHECKOV"


class Checkov(CommandScanner):
    spec = ScannerSpec(
        name="checkov",
        title="Checkov",
        category=Category.IAC,
        tool_ids=(ToolId.SARIF,),
        install="make checkov (python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov; "
        "then export TOLLGATE_CHECKOV=$PWD/.venv-checkov/bin/checkov)",
        timeout=900,
        ok_exit_codes=frozenset({0, 1}),
        homepage="https://www.checkov.io",
        expected_seconds=3.0, memory_mb=600,
        options={"frameworks": STRINGS},
        runner_setup=("checkov",),
    )
    executable = "checkov"

    def locate(self, ctx: ScanContext, options: Options) -> str | None:
        configured = ctx.env.get(CHECKOV_ENV)
        if configured:
            return which(configured, ctx)
        return super().locate(ctx, options)

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        folder = ctx.folder(self.spec.name)
        argv: tuple[str, ...] = (
            executable, "-d", ".", "--skip-download", "--quiet", "--compact",
            "-o", "sarif", "--output-file-path", str(folder),
        )
        frameworks = options.get("frameworks")
        if frameworks:
            argv += ("--framework", ",".join(frameworks))
        for regex in ctx.exclusions(self.spec).regexes():
            argv += ("--skip-path", regex)
        env = (("CKV_SKIP_PACKAGE_UPDATE_CHECK", "1"),)
        return (Invocation(argv=argv, cwd=ctx.source, report=folder / "results_sarif.sarif", env=env),)


SCANNER = Checkov()
SCANNERS = (SCANNER,)
