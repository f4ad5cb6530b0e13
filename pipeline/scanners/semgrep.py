"""Semgrep with Tollgate's own rule set (rules/semgrep.yml), offline and without telemetry.

Semgrep prefixes rule ids with the rules file's directory relative to its working directory,
so it runs from the rules folder: the ids stay `sql-injection-formatted-query` wherever Tollgate
is installed, and identities do not change between machines. Without
SEMGREP_ENABLE_VERSION_CHECK=0 every run stalls on a version check; it writes ~/.semgrep, so
HOME points at the scanner's own folder.
"""

from __future__ import annotations

from pathlib import Path

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners.base import CommandScanner, Invocation, Options, ScanContext, ScannerSpec

RULES = Path(__file__).parent / "rules" / "semgrep.yml"


class Semgrep(CommandScanner):
    spec = ScannerSpec(
        name="semgrep",
        title="Semgrep",
        category=Category.SAST,
        tool_ids=(ToolId.SARIF,),
        install="pip install semgrep",
        timeout=900,
        homepage="https://semgrep.dev",
        expected_seconds=2.0, memory_mb=600,
    )
    executable = "semgrep"

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        folder = ctx.folder(self.spec.name)
        home = folder / "home"
        home.mkdir(exist_ok=True)
        report = folder / "semgrep.sarif"
        excludes = [arg for pattern in ctx.exclusions(self.spec).semgrep_patterns() for arg in ("--exclude", pattern)]
        argv = (
            executable, "scan", "--config", RULES.name, "--metrics=off", "--disable-version-check",
            "--quiet", "--sarif", "--output", str(report), *excludes, str(ctx.source),
        )
        env = (("SEMGREP_ENABLE_VERSION_CHECK", "0"), ("SEMGREP_SEND_METRICS", "off"), ("HOME", str(home)))
        return (Invocation(argv=argv, cwd=RULES.parent, report=report, env=env),)


SCANNER = Semgrep()
SCANNERS = (SCANNER,)
