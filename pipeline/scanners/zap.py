"""ZAP: drive a running ZAP daemon through its API (python-owasp-zap-v2.4, module `zapv2`).

For each DAST target, already cleared by the scope guard:
1. a fresh session in protected mode, so ZAP attacks nothing outside the scope;
2. a context in scope whose include regexes are exactly the DAST allowlist (`Allowlist.url_regexes`:
   anchored, host and port escaped, a wildcard as DNS labels), plus the configured exclude regexes;
   a URL no include matches is outside the context, so nothing else is included;
3. an optional auth header, injected by a replacer rule that applies to the target's URLs only
   (the value comes from the environment variable `auth-header-env` names, "Name: value");
4. the spider in the context, then the ajax spider in scope when `ajax-spider` is on, with its
   "allowed resources" (scripts and stylesheets fetched from any host) switched off meanwhile;
5. a wait until the passive scanner has no records left;
6. in `mode: full`, an active scan of the context, in scope only (then the passive wait again);
7. the alerts of the session as a traditional-JSON report (`core.jsonreport()`).

ZAP's API has no switch for redirects: the spider never follows one itself (a Location is a new URL,
fetched only if it is in the context), and the active scan rules follow one only when its target is
in the scan's scope, and in protected mode in scope (zaproxy/zaproxy#2564). The context being that
scope is what holds redirects to the allowlist.

`zapv2` turns an API error into the first value of the error object (e.g. "url_not_found"),
so every scan id and "OK" is checked. The daemon URL comes from `url` or $ZAP_URL, the API key
from the variable `api-key-env` names (default ZAP_API_KEY).
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from collections.abc import Callable
from typing import Any

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline import termination
from pipeline.atomic import write_atomic
from pipeline.errors import ScannerError
from pipeline.scanners.base import (
    ActionInput,
    Options,
    ReportFile,
    ScanContext,
    Scanner,
    ScannerOutput,
    ScannerSpec,
    ScannerTimeout,
    SkipKind,
    SkipReason,
)
from pipeline.scanners.schema import BOOLEAN, SECONDS, STRING, STRINGS
from pipeline.scope import Allowlist, GuardedTarget
from pipeline.secret_mask import secret_from

AUTH_RULE = "tollgate-auth-header"
MODES = ("baseline", "full")


def daemon_url(ctx: ScanContext, options: Options) -> str | None:
    return options.get("url") or ctx.env.get("ZAP_URL") or None


class Zap(Scanner):
    spec = ScannerSpec(
        name="zap",
        title="ZAP",
        category=Category.DAST,
        tool_ids=(ToolId.ZAP_JSON,),
        install="pip install python-owasp-zap-v2.4, and run a ZAP daemon, e.g. docker run -p 8080:8080 "
        "ghcr.io/zaproxy/zaproxy:stable zap.sh -daemon -host 0.0.0.0 -port 8080 -config api.key=$ZAP_API_KEY "
        "-config api.addrs.addr.name=.* -config api.addrs.addr.regex=true; then set ZAP_URL",
        timeout=3600,
        homepage="https://www.zaproxy.org",
        expected_seconds=300, memory_mb=100, uses_core=False,
        options={
            "url": STRING,
            "api-key-env": STRING,
            "auth-header-env": STRING,
            "mode": {"enum": ["baseline", "full"]},
            "ajax-spider": BOOLEAN,
            "exclude": STRINGS,
            "spider-minutes": {"type": "integer", "minimum": 1},
            "scan-policy": STRING,
            "poll-seconds": SECONDS,
        },
        defaults={"mode": "baseline"},
        action_inputs=(ActionInput("zap-mode", "mode"),),
        dast_engine=True,
        runner_setup=("zap",),
    )

    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if not ctx.dast_targets:
            return SkipReason(SkipKind.NOTHING_TO_SCAN, "no DAST target (--dast-target or scan.dast.targets)")
        if importlib.util.find_spec("zapv2") is None:
            return self.not_installed("the ZAP API client (module zapv2)")
        if daemon_url(ctx, options) is None:
            return SkipReason(SkipKind.NOT_CONFIGURED, "no ZAP daemon (set $ZAP_URL or scan.scanners.zap.url)")
        return None

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        from zapv2 import ZAPv2  # noqa: PLC0415 - lazy: `tollgate --help` must not pay for the client

        url = daemon_url(ctx, options)
        api_key = secret_from(ctx.env, options.get("api-key-env", "ZAP_API_KEY"))
        zap = ZAPv2(apikey=api_key, proxies={"http": url, "https": url})
        session = ZapSession(zap, options, ctx.dast_scope, deadline)
        session.start()
        for target in ctx.dast_targets:
            session.scan(target, secret_from(ctx.env, options.get("auth-header-env", "ZAP_AUTH_HEADER")))
        report = ctx.folder(self.spec.name) / "zap-report.json"
        write_atomic(report, session.json_report())
        return ScannerOutput(reports=(ReportFile(report, ToolId.ZAP_JSON),), notes=(f"ZAP {session.version}",))


class ZapSession:
    def __init__(self, zap: Any, options: Options, scope: Allowlist, deadline: float) -> None:
        self.zap = zap
        self.options = options
        self.scope = scope
        self.deadline = deadline
        self.mode = options.get("mode", "baseline")
        self.version = ""
        if self.mode not in MODES:
            raise ScannerError(f"ZAP: mode must be one of {', '.join(MODES)}, got {self.mode!r}")

    def start(self) -> None:
        try:
            self.version = str(self.zap.core.version)
        except OSError as exc:  # requests' ConnectionError is an OSError
            raise ScannerError(f"ZAP: no daemon answers ({exc.__class__.__name__})",
                               "is ZAP running at $ZAP_URL?") from None
        expect_ok(self.zap.core.new_session(overwrite="true"), "core/action/newSession")
        expect_ok(self.zap.core.set_mode("protect"), "core/action/setMode")

    def scan(self, target: GuardedTarget, auth_header: str | None) -> None:
        context = f"tollgate-{hashlib.sha256(target.url.encode()).hexdigest()[:12]}"
        context_id = scan_id(self.zap.context.new_context(context), "context/action/newContext")
        for regex in self.scope.url_regexes:
            expect_ok(self.zap.context.include_in_context(context, regex), "context/action/includeInContext")
        for regex in self.options.get("exclude", ()):
            expect_ok(self.zap.context.exclude_from_context(context, regex), "context/action/excludeFromContext")
        expect_ok(self.zap.context.set_context_in_scope(context, "true"), "context/action/setContextInScope")
        if auth_header:
            self.add_auth_header(auth_header, target)
        try:
            self.spider(target, context)
            self.wait_for_passive_scan()
            if self.mode == "full":
                self.active_scan(target, context_id)
                self.wait_for_passive_scan()
        finally:
            if auth_header:
                self.zap.replacer.remove_rule(AUTH_RULE)
            self.zap.context.remove_context(context)

    def add_auth_header(self, header: str, target: GuardedTarget) -> None:
        name, separator, value = header.partition(":")
        if not separator or not name.strip():
            raise ScannerError("ZAP: the auth header must look like 'Name: value'")
        expect_ok(
            self.zap.replacer.add_rule(
                description=AUTH_RULE, enabled="true", matchtype="REQ_HEADER", matchregex="false",
                matchstring=name.strip(), replacement=value.strip(), url=target.origin_regex,
            ),
            "replacer/action/addRule",
        )

    def spider(self, target: GuardedTarget, context: str) -> None:
        minutes = str(self.options.get("spider-minutes", 5))
        expect_ok(self.zap.spider.set_option_max_duration(minutes), "spider/action/setOptionMaxDuration")
        started = self.zap.spider.scan(url=target.url, contextname=context, recurse="true")
        spider = scan_id(started, "spider/action/scan")
        self.wait("spider", lambda: self.zap.spider.status(spider) == "100")
        if self.options.get("ajax-spider", False):
            expect_ok(self.zap.ajaxSpider.set_option_max_duration(minutes), "ajaxSpider/action/setOptionMaxDuration")
            allowed = self.enabled_allowed_resources()
            try:
                self.set_allowed_resources(allowed, "false")
                expect_ok(self.zap.ajaxSpider.scan(url=target.url, inscope="true", contextname=context),
                          "ajaxSpider/action/scan")
                self.wait("ajax spider", lambda: self.zap.ajaxSpider.status == "stopped")
            finally:
                self.set_allowed_resources(allowed, "true")

    def enabled_allowed_resources(self) -> tuple[str, ...]:
        """The ajax spider's "allowed resources": regexes it fetches from any host (by default every
        .js and .css), which would take the browser's requests outside the context."""
        resources = self.zap.ajaxSpider.allowed_resources
        if not isinstance(resources, list):
            raise ScannerError(f"ZAP: ajaxSpider/view/allowedResources failed: {resources}")
        # ZAP writes `enabled` as a JSON boolean; older add-ons as the string "true"
        return tuple(str(r["regex"]) for r in resources
                     if isinstance(r, dict) and "regex" in r and str(r.get("enabled")).lower() == "true")

    def set_allowed_resources(self, regexes: tuple[str, ...], enabled: str) -> None:
        for regex in regexes:
            expect_ok(self.zap.ajaxSpider.set_enabled_allowed_resource(regex, enabled),
                      "ajaxSpider/action/setEnabledAllowedResource")

    def active_scan(self, target: GuardedTarget, context_id: str) -> None:
        scan = scan_id(
            self.zap.ascan.scan(url=target.url, recurse="true", inscopeonly="true", contextid=context_id,
                                scanpolicyname=self.options.get("scan-policy")),
            "ascan/action/scan",
        )
        self.wait("active scan", lambda: self.zap.ascan.status(scan) == "100")

    def wait_for_passive_scan(self) -> None:
        self.wait("passive scan", lambda: str(self.zap.pscan.records_to_scan) == "0")

    def wait(self, what: str, done: Callable[[], bool]) -> None:
        poll = float(self.options.get("poll-seconds", 2.0))
        while not done():
            if time.monotonic() + poll >= self.deadline:
                raise ScannerTimeout(f"ZAP: the {what} was still running at the timeout")
            termination.pause(poll, "ZAP")

    def json_report(self) -> str:
        report = str(self.zap.core.jsonreport())
        if not report.lstrip().startswith("{"):
            raise ScannerError(f"ZAP: core/other/jsonreport returned no JSON report: {report[:200]}")
        return report


def expect_ok(result: Any, endpoint: str) -> None:
    if result != "OK":
        raise ScannerError(f"ZAP: {endpoint} failed: {result}")


def scan_id(result: Any, endpoint: str) -> str:
    if not str(result).isdigit():
        raise ScannerError(f"ZAP: {endpoint} failed: {result}")
    return str(result)


SCANNER = Zap()
SCANNERS = (SCANNER,)
