"""Checkov: IaC checks (Terraform, Dockerfile, Kubernetes, CloudFormation, GitHub Actions).

Checkov pins old boto3 and packaging, so it lives in a virtualenv of its own (`make checkov`);
$TOLLGATE_CHECKOV names that binary, else `checkov` on PATH. `--skip-download` keeps it off its
SaaS platform. It exits 1 when a check fails, which is success here.

Without a `frameworks` option, the framework families with no file to read are skipped
(`--skip-framework`): each costs start-up work even with nothing to scan, and a tree without YAML
or JSON has no Kubernetes, CloudFormation or CI pipelines. Frameworks not in the table (secrets
and any Checkov adds) always run, so skipping can only drop work that finds nothing.
"""

from __future__ import annotations

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners.base import CommandScanner, Invocation, Options, ScanContext, ScannerSpec, find_files, which
from pipeline.scanners.hadolint import is_dockerfile
from pipeline.scanners.schema import STRINGS

CHECKOV_ENV = "TOLLGATE_CHECKOV"
# Checkov framework -> the file name endings it reads (lower case); skipped when the tree has none.
STRUCTURED = (".yml", ".yaml", ".json", ".template")  # YAML/JSON documents: what they are is in their content
FRAMEWORK_FILES: dict[str, tuple[str, ...]] = {
    "terraform": (".tf", ".hcl"),
    "terraform_json": (".tf.json",),
    "terraform_plan": (".json",),
    "bicep": (".bicep",),
    **dict.fromkeys(("ansible", "argo_workflows", "arm", "azure_pipelines", "bitbucket_pipelines",
                     "circleci_pipelines", "cloudformation", "github_actions", "gitlab_ci", "helm", "json", "yaml",
                     "kubernetes", "kustomize", "openapi", "serverless"), STRUCTURED),
}


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
        else:
            absent = absent_frameworks(ctx)
            argv += ("--skip-framework", ",".join(absent)) if absent else ()
        for regex in ctx.exclusions(self.spec).regexes():
            argv += ("--skip-path", regex)
        env = (("CKV_SKIP_PACKAGE_UPDATE_CHECK", "1"),)
        return (Invocation(argv=argv, cwd=ctx.source, report=folder / "results_sarif.sarif", env=env),)


def absent_frameworks(ctx: ScanContext) -> tuple[str, ...]:
    """The frameworks in FRAMEWORK_FILES with no file to read, and `dockerfile` without a Dockerfile."""
    endings = {ending for found in FRAMEWORK_FILES.values() for ending in found}
    present = {ending for path in find_files(ctx, lambda name: name.lower().endswith(tuple(endings)), limit=100_000)
               for ending in endings if path.name.lower().endswith(ending)}
    absent = [name for name, found in FRAMEWORK_FILES.items() if not present.intersection(found)]
    if not find_files(ctx, is_dockerfile, limit=1):
        absent.append("dockerfile")
    return tuple(absent)


SCANNER = Checkov()
SCANNERS = (SCANNER,)
