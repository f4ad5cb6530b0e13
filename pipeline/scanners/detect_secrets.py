"""detect-secrets: hardcoded secrets. `-n` (no verification) keeps it offline; it prints its baseline.

It reads only files under its working directory, so it runs from the source root.
"""

from __future__ import annotations

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners.base import CommandScanner, Invocation, Options, ScanContext, ScannerSpec


class DetectSecrets(CommandScanner):
    spec = ScannerSpec(
        name="detect-secrets",
        title="detect-secrets",
        category=Category.SECRETS,
        tool_ids=(ToolId.DETECT_SECRETS,),
        install="pip install detect-secrets",
        timeout=600,
        homepage="https://github.com/Yelp/detect-secrets",
        expected_seconds=0.5, memory_mb=150,
    )
    executable = "detect-secrets"

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        report = ctx.folder(self.spec.name) / "detect-secrets.json"
        argv: tuple[str, ...] = (executable, "scan", "--all-files", "-n", ".")
        regex = ctx.exclusions(self.spec).regex()
        if regex:
            argv += ("--exclude-files", regex)
        return (Invocation(argv=argv, cwd=ctx.source, report=report, stdout_is_report=True),)


SCANNER = DetectSecrets()
SCANNERS = (SCANNER,)
