"""Bandit: Python SAST. It exits 1 when it finds something, which is success here."""

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


class Bandit(CommandScanner):
    spec = ScannerSpec(
        name="bandit",
        title="Bandit",
        category=Category.SAST,
        tool_ids=(ToolId.SARIF,),
        install='pip install "bandit[sarif]"',
        timeout=600,
        ok_exit_codes=frozenset({0, 1}),
        homepage="https://bandit.readthedocs.io",
        expected_seconds=0.5, memory_mb=150,
    )
    executable = "bandit"

    def applicable(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if find_files(ctx, lambda name: name.endswith(".py"), limit=1):
            return None
        return SkipReason(SkipKind.NOTHING_TO_SCAN, "no Python files")

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        report = ctx.folder(self.spec.name) / "bandit.sarif"
        excluded = ",".join(ctx.exclusions(self.spec).path_fragments())
        argv = (executable, "-r", ".", "-f", "sarif", "-o", str(report), "-q")
        return (Invocation(argv=argv + (("-x", excluded) if excluded else ()), cwd=ctx.source, report=report),)


SCANNER = Bandit()
SCANNERS = (SCANNER,)
