"""OWASP dependency-check: SCA against the NVD.

The NVD data lives in `data-dir` (cache it, date-keyed, in CI). The NVD API key is read from the
environment variable named by `nvd-api-key-env` (default NVD_API_KEY) and handed over in a
0600 properties file, never on the command line, where `ps` would show it. `no-update` reuses
the cached data as is; `nvd-datafeed` points at a mirror of the NVD feed.
"""

from __future__ import annotations

import os
from pathlib import Path

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners.base import ActionInput, CommandScanner, Invocation, Options, ScanContext, ScannerSpec, which
from pipeline.scanners.schema import BOOLEAN, STRING
from pipeline.secret_mask import secret_from

EXECUTABLE_ENV = "TOLLGATE_DEPENDENCY_CHECK"
EXECUTABLES = ("dependency-check.sh", "dependency-check")


class DependencyCheck(CommandScanner):
    spec = ScannerSpec(
        name="dependency-check",
        title="dependency-check",
        category=Category.SCA,
        tool_ids=(ToolId.DEPENDENCY_CHECK_JSON,),
        install="download the CLI from https://github.com/jeremylong/DependencyCheck/releases and put "
        "bin/dependency-check.sh on PATH (or set TOLLGATE_DEPENDENCY_CHECK)",
        timeout=3600,
        homepage="https://owasp.org/www-project-dependency-check/",
        expected_seconds=300, memory_mb=2000,
        enabled=False,
        options={"data-dir": STRING, "nvd-api-key-env": STRING, "no-update": BOOLEAN, "nvd-datafeed": STRING},
        action_inputs=(
            ActionInput("dependency-check-data-dir", "data-dir"),
            ActionInput("nvd-datafeed", "nvd-datafeed"),
        ),
        runner_setup=("dependency-check",),
    )
    executable = EXECUTABLES[0]

    def locate(self, ctx: ScanContext, options: Options) -> str | None:
        configured = ctx.env.get(EXECUTABLE_ENV)
        candidates = (configured,) if configured else EXECUTABLES
        return next((found for name in candidates if (found := which(name, ctx))), None)

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        folder = ctx.folder(self.spec.name)
        data_dir = Path(options.get("data-dir") or folder / "data")
        argv: tuple[str, ...] = (
            executable, "--scan", str(ctx.source), "--project", ctx.source.name or "source",
            "--format", "JSON", "--out", str(folder), "--data", str(data_dir),
        )
        for glob in ctx.exclusions(self.spec).folder_globs():
            argv += ("--exclude", glob)
        if options.get("no-update"):
            argv += ("--noupdate",)
        if options.get("nvd-datafeed"):
            argv += ("--nvdDatafeed", str(options.get("nvd-datafeed")))
        api_key = secret_from(ctx.env, str(options.get("nvd-api-key-env", "NVD_API_KEY")))
        secret_files: tuple[Path, ...] = ()
        if api_key:
            secret_files = (write_secret_properties(folder / "nvd.properties", api_key),)
            argv += ("--propertyfile", str(secret_files[0]))
        return (Invocation(argv=argv, cwd=ctx.source, report=folder / "dependency-check-report.json",
                           secret_files=secret_files),)


def write_secret_properties(path: Path, api_key: str) -> Path:
    """A properties file only the current user can read; the key never reaches argv or the log."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"nvd.api.key={api_key}\n")
    return path


SCANNER = DependencyCheck()
SCANNERS = (SCANNER,)
