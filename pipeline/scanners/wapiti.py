"""Wapiti: the DAST engine that runs anywhere (Debian `wapiti` 3.0.x, or PyPI `wapiti3` 3.2.x).

One run per DAST target, each already cleared by the scope guard (pipeline.scope), with
`--scope folder` so the crawler stays under the target. The default modules leave out `ssrf`,
which makes the target call an outside endpoint, and the brute-force modules. Wapiti keeps its
session under ~/.wapiti, so HOME points at the scanner's folder and every run starts fresh.

`--scope` bounds the crawl, not the requests: modules such as http_headers and csp follow
redirects wherever they lead, and Wapiti cannot be told not to. So every request goes through
Tollgate's scope proxy (`-p`, pipeline/scope_proxy.py), which refuses, and counts, whatever is
outside the DAST allowlist; NO_PROXY is emptied so no host bypasses it.
"""

from __future__ import annotations

import dataclasses
import hashlib

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners.base import (
    CommandScanner,
    Invocation,
    Options,
    ScanContext,
    ScannerOutput,
    ScannerSpec,
    SkipKind,
    SkipReason,
)
from pipeline.scanners.schema import STRINGS
from pipeline.scope import GuardedTarget
from pipeline.scope_proxy import scope_proxy

DEFAULT_MODULES = ("xss", "sql", "csp", "http_headers", "cookieflags", "exec", "file", "redirect", "permanentxss")


class Wapiti(CommandScanner):
    spec = ScannerSpec(
        name="wapiti",
        title="Wapiti",
        category=Category.DAST,
        tool_ids=(ToolId.WAPITI,),
        install="apt-get install --no-install-recommends wapiti (or pip install wapiti3 in its own venv)",
        timeout=900,
        homepage="https://wapiti-scanner.github.io",
        expected_seconds=60, memory_mb=200,
        options={
            "modules": STRINGS,
            "depth": {"type": "integer", "minimum": 0},
            "max-scan-time": {"type": "integer", "minimum": 1},
        },
        dast_engine=True,
    )
    executable = "wapiti"

    def applicable(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if ctx.dast_targets:
            return None
        return SkipReason(SkipKind.NOTHING_TO_SCAN, "no DAST target (--dast-target or scan.dast.targets)")

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        with scope_proxy(ctx.dast_scope) as proxy:
            output = super().run(dataclasses.replace(ctx, dast_proxy=proxy.url), options, deadline)
        note = proxy.refusals.note(self.spec.title)
        return dataclasses.replace(output, notes=(*output.notes, note)) if note else output

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        return tuple(self.invocation_for(ctx, options, executable, target) for target in ctx.dast_targets)

    def invocation_for(
        self, ctx: ScanContext, options: Options, executable: str, target: GuardedTarget
    ) -> Invocation:
        folder = ctx.folder(self.spec.name)
        home = folder / "home"
        home.mkdir(exist_ok=True)
        report = folder / f"wapiti-{hashlib.sha256(target.url.encode()).hexdigest()[:12]}.json"
        argv: tuple[str, ...] = (
            executable, "-u", target.url, "--scope", "folder",
            "-d", str(options.get("depth", 2)), "--max-scan-time", str(options.get("max-scan-time", 300)),
            "-m", ",".join(options.get("modules", DEFAULT_MODULES)),
            "--flush-session", "--no-bugreport", "-f", "json", "-o", str(report),
        )
        if ctx.dast_proxy:
            argv += ("-p", ctx.dast_proxy)
        no_bypass = tuple((name, "") for name in ("NO_PROXY", "no_proxy"))
        return Invocation(argv=argv, cwd=folder, report=report, env=(("HOME", str(home)), *no_bypass))


SCANNER = Wapiti()
SCANNERS = (SCANNER,)
