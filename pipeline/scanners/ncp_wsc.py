"""NCP Web Security Checker: NAVER Cloud's DAST service, driven through its signed API (pipeline.ncp_wsc).

For each DAST target (cleared by the scope guard, and guarded again as the StartUrl it sends):
1. createJob with the configured `vuln-items`, `user-agent`, `speed`, `exclude-urls` and the
   headers held by the variable `headers-env` names (a JSON object or `Name: value` lines);
2. getJobs every `poll-seconds` until the job ends, each change of its state printed on stderr;
   at the scanner's timeout the wait stops, and the job keeps running in NAVER Cloud: a later
   `tollgate scan --dast-engine ncp-wsc --wsc-instance N` attaches to it;
3. getReport, written as JSON for the ncp-wsc parser.
With `instance` (or `--wsc-instance N`) no job is created: the runner attaches to that job, waits
for it and reads its report. A job that ends cancelled, stopped, expired or failed is a ScannerError.

The options are checked in `readiness`, before any scanner starts, so a bad VulnItems stops the
scan with exit 2 and no request is ever sent. The keys come from $NCP_ACCESS_KEY and
$NCP_SECRET_KEY (or the variables `access-key-env`/`secret-key-env` name); without them the
scanner is skipped as not configured.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline import termination
from pipeline.atomic import write_atomic
from pipeline.errors import ScannerError
from pipeline.ncp_wsc import endpoints
from pipeline.ncp_wsc.endpoints import HOSTS
from pipeline.ncp_wsc.errors import WHAT
from pipeline.ncp_wsc.jobs import JobRecord, Outcome
from pipeline.ncp_wsc.signing import ACCESS_KEY_ENV, SECRET_KEY_ENV, credentials_from_env, require_credentials
from pipeline.ncp_wsc.validation import SPEEDS, USER_AGENTS, VULN_ITEMS, JobSpec, job_spec, parse_headers
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
from pipeline.scanners.schema import SECONDS, STRING, STRINGS
from pipeline.scope import Allowlist, HostPattern
from pipeline.secret_mask import secret_from

if TYPE_CHECKING:  # the HTTP client (requests) loads only when a scan talks to the server
    from pipeline.ncp_wsc.client import WscClient

DEFAULT_POLL_SECONDS = 30.0
CONSOLE_TIP = "the NAVER Cloud console (Web Security Checker) shows the job and why it ended"


def _notify(message: str) -> None:
    print(f"tollgate: ncp-wsc: {message}", file=sys.stderr, flush=True)


class NcpWsc(Scanner):
    spec = ScannerSpec(
        name="ncp-wsc",
        title="NCP Web Security Checker",
        category=Category.DAST,
        tool_ids=(ToolId.NCP_WSC,),
        install="an API key of a NAVER Cloud sub account allowed to use Web Security Checker, "
                f"in ${ACCESS_KEY_ENV} and ${SECRET_KEY_ENV}",
        timeout=7200,  # the service crawls, then scans; both are slow at speed "1",
        homepage="https://www.ncloud.com/product/security/webSecurityChecker",
        expected_seconds=1800, memory_mb=100, uses_core=False,
        enabled=False,
        options={
            "endpoint": {"enum": list(HOSTS)},
            "base-url": STRING,
            "vuln-items": {"type": "array", "minItems": 1, "items": {"enum": list(VULN_ITEMS)}},
            "user-agent": {"enum": list(USER_AGENTS)},
            "speed": {"enum": [*SPEEDS, *map(int, SPEEDS)]},
            "exclude-urls": STRINGS,
            "headers-env": STRING,
            "instance": {"type": "integer", "minimum": 1},
            "poll-seconds": SECONDS,
            "access-key-env": STRING,
            "secret-key-env": STRING,
        },
        action_inputs=(ActionInput("ncp-endpoint", "endpoint"),),
        dast_engine=True,
    )

    def __init__(self, notify: Callable[[str], None] = _notify) -> None:
        self.notify = notify

    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if not ctx.dast_targets and options.get("instance") is None:
            return SkipReason(SkipKind.NOTHING_TO_SCAN, "no DAST target (--dast-target) and no job (--wsc-instance)")
        access_env, secret_env = key_variables(options)
        if credentials_from_env(ctx.env, access_env, secret_env) is None:
            return SkipReason(SkipKind.NOT_CONFIGURED, f"no NAVER Cloud API key (set ${access_env} and ${secret_env})")
        api_base(options)
        self.jobs(ctx, options)  # a bad option is a ConfigError here, before any scanner starts
        return None

    def jobs(self, ctx: ScanContext, options: Options) -> tuple[JobSpec, ...]:
        """The createJob requests: one per target, none when attaching to an existing job."""
        if options.get("instance") is not None:
            return ()
        allowlist = Allowlist(tuple(HostPattern(host=t.host, port=t.port) for t in ctx.dast_targets))
        headers_env = options.get("headers-env")
        headers_text = (secret_from(ctx.env, headers_env) or "") if headers_env else ""
        headers = parse_headers(headers_text, f"${headers_env}") if headers_text.strip() else None
        return tuple(
            job_spec(target.url, allowlist, vuln_items=options.get("vuln-items", ("ALL",)),
                     user_agent=options.get("user-agent", "PC Chrome"), speed=str(options.get("speed", "1")),
                     exclude_urls=options.get("exclude-urls", ()), headers=headers)
            for target in ctx.dast_targets
        )

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        credentials = require_credentials(ctx.env, *key_variables(options))
        from pipeline.ncp_wsc.client import WscClient  # noqa: PLC0415 - lazy: requests

        client = WscClient(api_base(options), credentials, deadline)
        instances = [int(options.get("instance"))] if options.get("instance") is not None else []
        for spec in self.jobs(ctx, options):
            instances.append(client.create_job(spec))
            self.notify(f"job {instances[-1]} created for {spec.start.url}")
        poll = float(options.get("poll-seconds", DEFAULT_POLL_SECONDS))
        folder = ctx.folder(self.spec.name)
        reports, notes = [], []
        for instance in instances:
            job = self.wait_for(client, instance, poll, deadline)
            report = folder / f"wsc-{instance}.json"
            write_atomic(report, json.dumps(client.get_report(instance), ensure_ascii=False, indent=1))
            reports.append(ReportFile(report, ToolId.NCP_WSC))
            notes.append(f"job {instance} ({job.start_url or 'attached'}): {job.activity}")
        return ScannerOutput(reports=tuple(reports), notes=tuple(notes))

    def wait_for(self, client: WscClient, instance: int, poll: float, deadline: float) -> JobRecord:
        """Poll until the job completes; ScannerError if it ends otherwise, ScannerTimeout at the deadline."""
        shown = ""
        while True:
            job = client.find_job(instance)
            if job.activity != shown:
                shown = job.activity
                self.notify(f"job {instance}: {shown}")
            if job.outcome is Outcome.COMPLETE:
                return job
            if job.outcome is not Outcome.RUNNING:
                raise ScannerError(f"{WHAT}: job {instance} ended {job.outcome.value} ({job.activity}); "
                                   "there is no report to read", CONSOLE_TIP)
            if time.monotonic() + poll >= deadline:
                raise ScannerTimeout(f"{WHAT}: job {instance} was still {job.activity} at the timeout; it keeps "
                                     f"running in NAVER Cloud: read it later with --wsc-instance {instance}")
            termination.pause(poll, WHAT)


def key_variables(options: Options) -> tuple[str, str]:
    return options.get("access-key-env", ACCESS_KEY_ENV), options.get("secret-key-env", SECRET_KEY_ENV)


def api_base(options: Options) -> str:
    return endpoints.base_url(options.get("endpoint"), options.get("base-url"))


SCANNER = NcpWsc()
SCANNERS = (SCANNER,)
