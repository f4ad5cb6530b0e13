"""`tollgate scan`: run every available scanner at once, then normalize, gate, report and publish.

1. The DAST targets pass the scope guard first: a refused host stops the scan before any
   scanner starts, so no request ever reaches it.
2. Each enabled scanner says whether it can run (installed? configured? anything to scan?).
   One that cannot is reported as skipped with the reason, and the install command if missing.
3. The rest run concurrently, one thread each driving a subprocess or an API, each with its own
   timeout. Scanners are processes, so the scan costs little more than the slowest one.
4. Their reports go through the parsers (the scanner names the parser; nothing is guessed), then
   one merged result is written as Tollgate results JSON, SARIF and ASFF, gated against the policy
   in `.tollgate.yml`, rendered as the job summary and HTML report, and published when configured.

Exit code: 3 when a scanner failed or timed out (the other results are still written), else 1
when the gate failed, else 0.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import orjson

from normalizers.errors import NormalizerError
from normalizers.model import ParseResult, Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.atomic import write_atomic
from pipeline.config import ScanConfig, ScannerSettings
from pipeline.errors import ConfigError, ExitCode, PublishError, TollgateError
from pipeline.gate import Baseline, GateVerdict, baseline_from_document, evaluate
from pipeline.normalize import (
    NormalizeOutcome,
    NormalizeRequest,
    outcome_from_parsed,
    sarif_options_for,
    write_outputs,
)
from pipeline.policy import Policy, load_policy
from pipeline.scanners.base import ScanContext, Scanner, ScannerTimeout
from pipeline.scanners.progress import Progress, RunStatus, ScannerRun
from pipeline.scanners.registry import DAST_ENGINES, ScannerName, scanner_for
from pipeline.scope import Allowlist, GuardedTarget

if TYPE_CHECKING:
    from pipeline.publish.securityhub import PublishOutcome

ASFF_ACCOUNT_PLACEHOLDER = "000000000000"


@dataclass(frozen=True)
class ScanRequest:
    source: Path
    out_dir: Path
    config: ScanConfig
    scope: Scope
    image: str | None = None
    dast_targets: tuple[str, ...] = ()  # added to the config's targets
    dast_allow: tuple[str, ...] = ()  # added to the config's allowlist
    only: frozenset[ScannerName] = frozenset()
    skip: frozenset[ScannerName] = frozenset()
    dast_engines: frozenset[ScannerName] = frozenset()  # when given, the only DAST engines that run
    timeout: float | None = None  # overrides every scanner's timeout
    policy_path: Path | None = None
    fail_on: str | None = None  # overrides the policy's fail-on
    baseline: Path | None = None  # overrides the policy's baseline
    publish: bool = True
    # The repository files that DAST, image and host findings point to in SARIF; None keeps SarifOptions' default.
    dast_location: str | None = None
    image_location: str | None = None
    host_location: str | None = None


@dataclass(frozen=True)
class ScanOutputs:
    results: Path
    sarif: Path
    asff: Path
    summary: Path
    html: Path

    @classmethod
    def under(cls, folder: Path) -> ScanOutputs:
        return cls(folder / "results.json", folder / "tollgate.sarif", folder / "asff.json",
                   folder / "summary.md", folder / "report.html")


@dataclass(frozen=True)
class ScanOutcome:
    runs: tuple[ScannerRun, ...]
    normalized: NormalizeOutcome
    verdict: GateVerdict
    outputs: ScanOutputs
    warnings: tuple[str, ...] = ()
    published: str | None = None  # the publisher's summary line
    exit_code: int = ExitCode.PASSED


def guard_targets(request: ScanRequest) -> tuple[GuardedTarget, ...]:
    """Every DAST target through the allowlist; ConfigError before a single request is sent."""
    allowlist = Allowlist.parse((*request.config.dast_allow, *request.dast_allow))
    urls = dict.fromkeys((*request.config.dast_targets, *request.dast_targets))
    return tuple(allowlist.guard(url) for url in urls)


def scan_context(request: ScanRequest, targets: tuple[GuardedTarget, ...]) -> ScanContext:
    if not request.source.is_dir():
        raise ConfigError(f"{request.source}: not a directory to scan")
    work_dir = request.out_dir.resolve() / "raw"
    work_dir.mkdir(parents=True, exist_ok=True)
    source = request.source.resolve()
    exclude = request.config.exclude
    if work_dir.is_relative_to(source):  # never scan our own reports (they quote secrets back)
        exclude += (request.out_dir.resolve().relative_to(source).as_posix(),)
    return ScanContext(source=source, work_dir=work_dir, image=request.image, dast_targets=targets,
                       exclude=tuple(dict.fromkeys(exclude)), env=dict(os.environ), config_path=request.policy_path)


def selected(request: ScanRequest) -> list[ScannerName]:
    """--only, else the enabled scanners less --skip; --dast-engine then names the DAST engines that run."""
    if request.only:
        chosen = set(request.only)
    else:
        chosen = {name for name in ScannerName if request.config.settings(name).enabled and name not in request.skip}
    if request.dast_engines:
        chosen = chosen.difference(DAST_ENGINES) | (request.dast_engines - request.skip)
    return [name for name in ScannerName if name in chosen]


@dataclass(frozen=True)
class Executed:
    run: ScannerRun
    parsed: tuple[ParseResult, ...] = ()


def run_scanners(request: ScanRequest, ctx: ScanContext, progress: Progress) -> tuple[Executed, ...]:
    """Skip what cannot run, run the rest concurrently; results in ScannerName order."""
    ready: list[tuple[Scanner, ScannerSettings]] = []
    done: list[Executed] = []
    for name in selected(request):
        scanner, settings = scanner_for(name), request.config.settings(name)
        reason = scanner.readiness(ctx, settings.options)
        if reason is None:
            ready.append((scanner, settings))
            continue
        detail = f"{reason.kind.value}: {reason.message}"
        skipped = ScannerRun(name, scanner.spec.title, RunStatus.SKIPPED, detail=detail)
        progress.finished(skipped)
        done.append(Executed(skipped))
    if ready:
        with ThreadPoolExecutor(max_workers=len(ready), thread_name_prefix="tollgate-scan") as pool:
            futures = [pool.submit(run_one, scanner, settings, ctx, request, progress) for scanner, settings in ready]
            done.extend(future.result() for future in futures)
    order = list(ScannerName)
    return tuple(sorted(done, key=lambda executed: order.index(executed.run.name)))


def run_one(scanner: Scanner, settings: ScannerSettings, ctx: ScanContext, request: ScanRequest,
            progress: Progress) -> Executed:
    """One scanner, start to parsed reports, on a worker thread; every failure becomes its run's status."""
    spec = scanner.spec
    timeout = request.timeout or settings.timeout or spec.timeout
    progress.started(spec.name)
    started = time.monotonic()
    try:
        output = scanner.run(ctx, settings.options, started + timeout)
        options = ParseOptions(source_root=str(ctx.source))
        parsed = tuple(parse_report(Report.from_path(str(r.path)), options, r.tool_id) for r in output.reports)
    except ScannerTimeout as exc:
        return _finish(progress, ScannerRun(spec.name, spec.title, RunStatus.TIMED_OUT, time.monotonic() - started,
                                            detail=f"{exc} (timeout {timeout:g}s)"))
    except (TollgateError, NormalizerError, OSError) as exc:
        tip = getattr(exc, "tip", None)
        detail = f"{exc}" + (f" (tip: {tip})" if tip else "")
        return _finish(progress, ScannerRun(spec.name, spec.title, RunStatus.FAILED, time.monotonic() - started,
                                            detail=detail))
    run = ScannerRun(spec.name, spec.title, RunStatus.COMPLETED, time.monotonic() - started, reports=output.reports,
                     findings=sum(len(p.findings) for p in parsed), notes=output.notes)
    return _finish(progress, run, parsed)


def _finish(progress: Progress, run: ScannerRun, parsed: tuple[ParseResult, ...] = ()) -> Executed:
    progress.finished(run)
    return Executed(run, parsed)


def gate_inputs(request: ScanRequest) -> tuple[Policy, Baseline | None]:
    """The policy and baseline, read before any scanner runs: a bad policy must not cost a scan."""
    policy = (load_policy(request.policy_path) if request.policy_path else Policy()).with_fail_on(request.fail_on)
    baseline_path = str(request.baseline) if request.baseline else policy.baseline
    return policy, load_baseline(baseline_path) if baseline_path else None


def load_baseline(path: str) -> Baseline:
    try:
        document = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ConfigError(f"baseline {path}: cannot read it ({exc.strerror})") from None
    except orjson.JSONDecodeError:
        raise ConfigError(f"baseline {path}: not JSON") from None
    return baseline_from_document(document, path)


def write_reports(outcome: NormalizeOutcome, verdict: GateVerdict, request: ScanRequest, outputs: ScanOutputs,
                  ) -> list[str]:
    """Results JSON, SARIF, ASFF, job summary and HTML; the summary is also appended to $GITHUB_STEP_SUMMARY."""
    from pipeline.report.render import render_html, render_summary  # noqa: PLC0415 - lazy: Jinja2
    from pipeline.report.view import build_view  # noqa: PLC0415

    hub = request.config.securityhub
    sarif_options = sarif_options_for(str(request.source), dast_location=request.dast_location,
                                      image_location=request.image_location, host_location=request.host_location)
    normalize_request = NormalizeRequest(
        reports=(), scope=request.scope, account=(hub.account if hub and hub.account else ASFF_ACCOUNT_PLACEHOLDER),
        region=(hub.region if hub and hub.region else "us-east-1"), json_out=str(outputs.results),
        sarif_out=str(outputs.sarif), asff_out=str(outputs.asff), sarif_options=sarif_options,
    )
    warnings = write_outputs(outcome, normalize_request)
    view = build_view(request.scope, verdict, server_url=os.environ.get("GITHUB_SERVER_URL", "https://github.com"),
                      metrics=outcome.results.metrics)
    summary = render_summary(view)
    write_atomic(outputs.summary, summary)
    write_atomic(outputs.html, render_html(view))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(summary)
    return warnings


def publish(outcome: NormalizeOutcome, request: ScanRequest, runs: tuple[ScannerRun, ...]) -> PublishOutcome | None:
    hub = request.config.securityhub
    if hub is None or not request.publish:
        return None
    from pipeline.publish.securityhub import (  # noqa: PLC0415 - lazy: boto3 only when publishing
        PublishRequest,
        PublishSettings,
    )
    from pipeline.publish.securityhub import publish as publish_to_hub  # noqa: PLC0415

    region = hub.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("scan.publish.securityhub: no region", "set region there or $AWS_REGION")
    scanned = frozenset(scanner_for(r.name).spec.category.value for r in runs if r.status is RunStatus.COMPLETED)
    return publish_to_hub(PublishRequest(outcome.results.findings, request.scope, scanned, hub.account),
                          PublishSettings(region=region, endpoint_url=hub.endpoint_url))


def run_scan(request: ScanRequest, stream: TextIO | None = None) -> ScanOutcome:
    targets = guard_targets(request)  # first: a refused target stops everything
    policy, baseline = gate_inputs(request)
    ctx = scan_context(request, targets)
    with Progress.for_stream(stream or sys.stderr) as progress:
        executed = run_scanners(request, ctx, progress)
    runs = tuple(e.run for e in executed)
    normalized = outcome_from_parsed(tuple(p for e in executed for p in e.parsed), request.scope)
    verdict = evaluate(normalized.results.findings, policy, baseline, today=date.today())
    outputs = ScanOutputs.under(request.out_dir)
    warnings = [*normalized.warnings, *write_reports(normalized, verdict, request, outputs)]
    failed = any(r.status in (RunStatus.FAILED, RunStatus.TIMED_OUT) for r in runs)
    published = None
    try:
        result = publish(normalized, request, runs)
    except PublishError as exc:
        failed = True
        warnings.append(f"publish failed: {exc}" + (f" (tip: {exc.tip})" if exc.tip else ""))
    else:
        if result is not None:
            published, failed = result.summary_line(), failed or bool(result.failed)
            warnings += [*result.warnings, *(failure.line() for failure in result.failed)]
    code = ExitCode.TOOL_FAILED if failed else (ExitCode.PASSED if verdict.passed else ExitCode.GATE_FAILED)
    return ScanOutcome(runs, normalized, verdict, outputs, tuple(warnings), published, code)
