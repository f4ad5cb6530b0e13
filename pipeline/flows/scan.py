"""`tollgate scan`: run every available scanner at once, then normalize, gate, report and publish.

1. The DAST targets pass the scope guard first: a refused host stops the scan before any
   scanner starts, so no request ever reaches it.
2. Each enabled scanner says whether it can run (installed? configured? anything to scan?).
   One that cannot is reported as skipped with the reason, and the install command if missing.
3. The rest run concurrently, one thread each driving a subprocess or an API, each with its own
   timeout: the longest expected first, at most one per core (pipeline/scanners/schedule.py), so the
   scan costs little more than the slowest one or than the CPU work of all of them. Each one's wall and
   CPU seconds go to the results' metrics (`timing/...`) and to the cache folder, for the next schedule;
   `--debug` prints the schedule.
4. Their reports go through the parsers (the scanner names the parser; nothing is guessed), then
   one merged result is written as Tollgate results JSON, SARIF and ASFF, gated against the policy
   in `.tollgate.yml`, rendered as the job summary and HTML report, and published when configured.
   Dockerfiles with findings get a proposed fix under `remediation/` (pipeline/remediation); with
   `--remediate-build` each is built and rescanned where a Docker engine answers, and without one
   the step is missing (exit 3), like a scanner that was asked for and could not run.

Fail closed: a scanner asked for by name (`--only`, `--dast-engine`, the action's `scanners`) or
enabled by the user's `.tollgate.yml` must run. When it cannot (not installed, not configured, data
it needs unavailable, or a DAST or image scanner without a target), the verdict is "failed:
incomplete" and names it. Only scanners that the zero-setup default enables may be skipped, with a
notice. A source scanner with nothing to read (Bandit where there is no Python) saw all there was.

Exit code: 3 when a scanner failed, timed out or was missing (the other results are still written),
else 1 when the gate failed, else 0.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from normalizers.errors import NormalizerError
from normalizers.model import Category, ParseResult, Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.atomic import write_atomic
from pipeline.ci_scope import require_publishable
from pipeline.config import OptionOverride, ScanConfig, ScannerSettings, load_scan_config
from pipeline.config_file import discover
from pipeline.errors import ConfigError, ExitCode, PublishError, ScannerTimeout, ScannerUnavailable, TollgateError
from pipeline.flows.normalize import (
    NormalizeOutcome,
    NormalizeRequest,
    outcome_from_parsed,
    sarif_options_for,
    with_epss,
    with_vex,
    write_outputs,
)
from pipeline.flows.publish import PublishFlowOutcome
from pipeline.flows.verdict import GateInputs, GateSettings, decide, read_gate_inputs
from pipeline.gate import GateVerdict
from pipeline.publish.eligibility import eligibility_from
from pipeline.remediation.propose import METRIC_PREFIX, propose, write_remediations
from pipeline.remediation.rebuild import Rescan, Rescanner, rebuild_and_rescan
from pipeline.report.render import compile_templates, render_html, render_summary
from pipeline.report.view import build_view
from pipeline.run_manifest import manifest_run
from pipeline.scanners import catalog, durations, machine, schedule
from pipeline.scanners.base import ScanContext, Scanner, ScannerName, ScannerSpec, SkipKind
from pipeline.scanners.durations import Measured
from pipeline.scanners.progress import Progress, RunStatus, ScannerRun
from pipeline.scope import Allowlist, GuardedTarget, within_scope

ASFF_ACCOUNT_PLACEHOLDER = "000000000000"
TIMING_PREFIX = "timing/"  # timing/<scanner>/wall-seconds and .../cpu-seconds in the results' metrics


@dataclass(frozen=True)
class ScanRequest:
    source: Path
    out_dir: Path
    scope: Scope
    config: Path | None = None  # an explicit .tollgate.yml; else PATH's, else the working directory's
    options: tuple[OptionOverride, ...] = ()  # scanner options set by a flag or an action input
    image: str | None = None
    dast_targets: tuple[str, ...] = ()  # added to the config's targets
    dast_allow: tuple[str, ...] = ()  # added to the config's allowlist
    only: frozenset[ScannerName] = frozenset()  # these run, even if disabled, and must
    skip: frozenset[ScannerName] = frozenset()
    dast_engines: frozenset[ScannerName] = frozenset()  # when given, the only DAST engines that run
    timeout: float | None = None  # overrides every scanner's timeout
    fail_on: str | None = None  # overrides the policy's fail-on
    baseline: Path | None = None  # overrides the policy's baseline
    publish: bool = True
    step_summary: bool = True  # append the summary to $GITHUB_STEP_SUMMARY when it is set
    # The scanners' own reports and logs quote what they found, secrets included: removed after
    # normalizing unless kept on purpose, for debugging a parser.
    keep_raw: bool = False
    # The repository files that DAST, image and host findings point to in SARIF; None keeps SarifOptions' default.
    dast_location: str | None = None
    image_location: str | None = None
    host_location: str | None = None
    ocsf_out: Path | None = None  # a copy of the output folder's ocsf.json
    cyclonedx_out: Path | None = None  # the SBOM, written only when asked for
    vex: tuple[Path, ...] = ()  # VEX documents, added to the policy's
    epss: Path | None = None  # an EPSS snapshot, instead of the policy's
    gitlab_dir: Path | str | None = None  # also write GitLab security reports there
    remediate_build: bool = False  # build each proposed Dockerfile and rescan it (pipeline.remediation.rebuild)
    debug: bool = False  # also print the scanners' schedule


@dataclass(frozen=True)
class ScanOutputs:
    results: Path
    sarif: Path
    asff: Path
    summary: Path
    html: Path
    ocsf: Path

    @classmethod
    def under(cls, folder: Path) -> ScanOutputs:
        return cls(folder / "results.json", folder / "tollgate.sarif", folder / "asff.json",
                   folder / "summary.md", folder / "report.html", folder / "ocsf.json")


@dataclass(frozen=True)
class ScanPlan:
    """The request with its configuration read: everything is checked before a scanner starts."""

    request: ScanRequest
    config: ScanConfig
    config_file: Path | None
    gate: GateInputs
    targets: tuple[GuardedTarget, ...]
    allowlist: Allowlist


@dataclass(frozen=True)
class ScanOutcome:
    config_file: Path | None
    runs: tuple[ScannerRun, ...]
    normalized: NormalizeOutcome
    verdict: GateVerdict
    outputs: ScanOutputs
    warnings: tuple[str, ...] = ()
    published: str | None = None  # the publisher's summary line
    exit_code: int = ExitCode.PASSED


def plan_scan(request: ScanRequest) -> ScanPlan:
    """Read and check the configuration, the policy, the baseline, the scope (when publishing) and the DAST
    targets, in that order."""
    if not request.source.is_dir():
        raise ConfigError(f"{request.source}: not a directory to scan")
    unknown = sorted((request.only | request.skip | request.dast_engines) - set(catalog.names()))
    if unknown:
        raise ConfigError(f"unknown scanner {', '.join(unknown)}", f"scanners: {', '.join(catalog.names())}")
    config_file = discover(request.config, request.source)
    config = load_scan_config(config_file).with_options(request.options)
    gate = read_gate_inputs(GateSettings(config=config_file, fail_on=request.fail_on, baseline=request.baseline,
                                         vex=request.vex, epss=request.epss))
    if config.securityhub is not None and request.publish:
        require_publishable(request.scope)  # before a scanner runs, not after the whole scan
    allowlist = Allowlist.parse((*config.dast_allow, *request.dast_allow))
    return ScanPlan(request, config, config_file, gate, guard_targets(request, config, allowlist), allowlist)


def guard_targets(request: ScanRequest, config: ScanConfig, allowlist: Allowlist) -> tuple[GuardedTarget, ...]:
    """Every DAST target through the allowlist; ConfigError before a single request is sent."""
    urls = dict.fromkeys((*config.dast_targets, *request.dast_targets))
    return tuple(allowlist.guard(url) for url in urls)


def scan_context(plan: ScanPlan) -> ScanContext:
    request = plan.request
    work_dir = request.out_dir.resolve() / "raw"
    work_dir.mkdir(parents=True, exist_ok=True)
    source = request.source.resolve()
    exclude = plan.config.exclude
    if work_dir.is_relative_to(source):  # never scan our own reports (they quote secrets back)
        exclude += (request.out_dir.resolve().relative_to(source).as_posix(),)
    return ScanContext(source=source, work_dir=work_dir, image=request.image, dast_targets=plan.targets,
                       exclude=tuple(dict.fromkeys(exclude)), source_exclude=plan.config.source_exclude,
                       env=dict(os.environ), config_path=plan.config_file, dast_allow=plan.allowlist)


def selected(plan: ScanPlan) -> list[ScannerName]:
    """--only, else the enabled scanners less --skip; --dast-engine then names the DAST engines that run."""
    request = plan.request
    if request.only:
        chosen = set(request.only)
    else:
        chosen = {name for name in catalog.names() if plan.config.settings(name).enabled and name not in request.skip}
    if request.dast_engines:
        chosen = chosen.difference(catalog.dast_engines()) | (request.dast_engines - request.skip)
    return [name for name in catalog.names() if name in chosen]


def required(plan: ScanPlan, name: ScannerName) -> bool:
    """Asked for by name, or enabled by the user's configuration: it must run. Only a scanner that runs
    because the zero-setup default enables it may be skipped when it cannot run here."""
    request = plan.request
    return name in request.only or name in request.dast_engines or plan.config.settings(name).required


def missing_scanners(plan: ScanPlan, runs: tuple[ScannerRun, ...]) -> tuple[str, ...]:
    """The scanners whose results are missing: any that crashed or timed out, and the required ones that
    did not run. A source scanner with nothing to read (Bandit in a repository without Python) saw
    everything there was; a DAST or image scanner without a target saw nothing."""
    return tuple(f"{run.name}: {run.detail}" for run in runs
                 if run.status in (RunStatus.FAILED, RunStatus.TIMED_OUT) or _required_and_skipped(plan, run))


def _required_and_skipped(plan: ScanPlan, run: ScannerRun) -> bool:
    blind = run.skip is not SkipKind.NOTHING_TO_SCAN or needs_target(catalog.scanner_for(run.name).spec)
    return run.status is RunStatus.SKIPPED and required(plan, run.name) and blind


def needs_target(spec: ScannerSpec) -> bool:
    return spec.dast_engine or spec.category is Category.IMAGE


@dataclass(frozen=True)
class Executed:
    run: ScannerRun
    parsed: tuple[ParseResult, ...] = ()


def run_scanners(plan: ScanPlan, ctx: ScanContext, progress: Progress, history: Mapping[str, Measured],
                 meanwhile: Callable[[], None] = lambda: None) -> tuple[Executed, ...]:
    """Skip what cannot run, run the rest concurrently, longest expected first; results in catalog order.
    `meanwhile` runs on this thread once the first scanners are under way."""
    ready: list[tuple[Scanner, ScannerSettings]] = []
    done: list[Executed] = []
    for name in selected(plan):
        scanner, settings = catalog.scanner_for(name), plan.config.settings(name)
        reason = scanner.readiness(ctx, settings.options)
        if reason is None:
            ready.append((scanner, settings))
            continue
        detail = f"{reason.kind.value}: {reason.message}"
        skipped = ScannerRun(name, scanner.spec.title, RunStatus.SKIPPED, detail=detail, skip=reason.kind)
        progress.finished(skipped)
        done.append(Executed(skipped))
    if ready:
        planned = schedule.plan((scanner.spec for scanner, _ in ready), history, machine.usable_cores(),
                                machine.available_memory_mb())
        if plan.request.debug:
            for line in planned.lines():
                progress.note(line)
        by_name = {scanner.spec.name: (scanner, settings) for scanner, settings in ready}
        done.extend(dispatch(planned, lambda name: run_one(*by_name[name], ctx, plan.request, progress), meanwhile))
    else:
        meanwhile()
    order = list(catalog.names())
    return tuple(sorted(done, key=lambda executed: order.index(executed.run.name)))


def dispatch(planned: schedule.Schedule, run: Callable[[str], Executed],
             meanwhile: Callable[[], None] = lambda: None) -> list[Executed]:
    """Start each scanner in the schedule's order as soon as it leaves room (schedule.Schedule.room); the
    ones that take no core at once. `meanwhile` runs once the first are under way, while this thread would
    only wait. Returns what each did, in the order they were started."""
    waiting = [slot for slot in planned.order if slot.uses_core]
    with ThreadPoolExecutor(max_workers=len(planned.order), thread_name_prefix="tollgate-scan") as pool:
        started = [(pool.submit(run, slot.name), slot) for slot in planned.order if not slot.uses_core]
        running = dict(started)

        def start_what_fits() -> None:
            while waiting and planned.room(running.values()):
                slot = waiting.pop(0)
                future = pool.submit(run, slot.name)
                started.append((future, slot))
                running[future] = slot

        start_what_fits()
        meanwhile()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                del running[future]
            start_what_fits()
        return [future.result() for future, _ in started]


def run_one(scanner: Scanner, settings: ScannerSettings, ctx: ScanContext, request: ScanRequest,
            progress: Progress) -> Executed:
    """One scanner, start to parsed reports, on a worker thread; every failure becomes its run's status."""
    spec = scanner.spec
    timeout = request.timeout or settings.timeout or spec.timeout
    progress.started(spec.name)
    started, thread_cpu = time.monotonic(), time.thread_time()
    try:
        output = scanner.run(ctx, settings.options, started + timeout)
        options = ParseOptions(source_root=str(ctx.source))
        parsed = tuple(labelled(parse_report(Report.from_path(str(r.path)), options, r.tool_id), spec.title)
                       for r in output.reports)
        if spec.dast_engine:
            parsed = tuple(within_scope(result, ctx.dast_scope) for result in parsed)
    except ScannerUnavailable as exc:
        return _finish(progress, ScannerRun(spec.name, spec.title, RunStatus.SKIPPED, time.monotonic() - started,
                                            detail=f"{SkipKind.NOT_CONFIGURED.value}: {exc}",
                                            skip=SkipKind.NOT_CONFIGURED))
    except ScannerTimeout as exc:
        return _finish(progress, ScannerRun(spec.name, spec.title, RunStatus.TIMED_OUT, time.monotonic() - started,
                                            detail=f"{exc} (timeout {timeout:g}s)"))
    except (TollgateError, NormalizerError, OSError) as exc:
        tip = getattr(exc, "tip", None)
        detail = f"{exc}" + (f" (tip: {tip})" if tip else "")
        return _finish(progress, ScannerRun(spec.name, spec.title, RunStatus.FAILED, time.monotonic() - started,
                                            detail=detail))
    # Its processes' CPU, and this thread's: an in-process scanner's work and the parsing of its reports.
    cpu = output.cpu_seconds + time.thread_time() - thread_cpu
    run = ScannerRun(spec.name, spec.title, RunStatus.COMPLETED, time.monotonic() - started, reports=output.reports,
                     findings=sum(f.is_problem for p in parsed for f in p.findings),
                     passes=sum(not f.is_problem for p in parsed for f in p.findings), notes=output.notes,
                     cpu_seconds=cpu)
    return _finish(progress, run, parsed)


def labelled(result: ParseResult, title: str) -> ParseResult:
    """The report's accounting under the scanner's name (an empty SARIF report names no tool)."""
    if result.reconciliation is None:
        return result
    return replace(result, reconciliation=replace(result.reconciliation, tool=title))


def _finish(progress: Progress, run: ScannerRun, parsed: tuple[ParseResult, ...] = ()) -> Executed:
    progress.finished(run)
    return Executed(run, parsed)


def write_reports(outcome: NormalizeOutcome, verdict: GateVerdict, plan: ScanPlan, outputs: ScanOutputs,
                  ) -> list[str]:
    """Results JSON, SARIF, ASFF, OCSF, job summary and HTML; the summary is also appended to $GITHUB_STEP_SUMMARY."""
    request = plan.request
    hub = plan.config.securityhub
    sarif_options = sarif_options_for(str(request.source), dast_location=request.dast_location,
                                      image_location=request.image_location, host_location=request.host_location)
    normalize_request = NormalizeRequest(
        reports=(), scope=request.scope, account=(hub.account if hub and hub.account else ASFF_ACCOUNT_PLACEHOLDER),
        region=(hub.region if hub and hub.region else "us-east-1"), json_out=str(outputs.results),
        sarif_out=str(outputs.sarif), asff_out=str(outputs.asff), sarif_options=sarif_options,
        ocsf_out=str(outputs.ocsf), cyclonedx_out=str(request.cyclonedx_out) if request.cyclonedx_out else None,
        gitlab_dir=str(request.gitlab_dir) if request.gitlab_dir else None,
    )
    warnings = write_outputs(outcome, normalize_request)
    if request.ocsf_out:
        write_atomic(request.ocsf_out, outputs.ocsf.read_bytes())
    view = build_view(request.scope, verdict, server_url=os.environ.get("GITHUB_SERVER_URL", "https://github.com"),
                      metrics=outcome.results.metrics, reconciliation=outcome.results.reconciliation)
    summary = render_summary(view)
    write_atomic(outputs.summary, summary)
    write_atomic(outputs.html, render_html(view))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY") if request.step_summary else None
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(summary)
    return warnings


def publish(outcome: NormalizeOutcome, plan: ScanPlan, runs: tuple[ScannerRun, ...]) -> PublishFlowOutcome | None:
    """None when no publishing is configured; else what this run may do (pipeline.publish.eligibility) and did."""
    hub = plan.config.securityhub
    request = plan.request
    if hub is None or not request.publish:
        return None
    eligibility = eligibility_from(os.environ, request.scope)
    if not eligibility.publish:
        return PublishFlowOutcome(eligibility)
    from pipeline.publish.securityhub import (  # noqa: PLC0415 - lazy: boto3 only when publishing
        PublishRequest,
        PublishSettings,
    )
    from pipeline.publish.securityhub import publish as publish_to_hub  # noqa: PLC0415

    region = hub.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("scan.publish.securityhub: no region", "set region there or $AWS_REGION")
    scanned = frozenset(scanned_categories(runs))
    return PublishFlowOutcome(eligibility, publish_to_hub(
        PublishRequest(outcome.results.findings, request.scope, scanned, hub.account),
        PublishSettings(region=region, endpoint_url=hub.endpoint_url)))


def scanned_categories(runs: tuple[ScannerRun, ...]) -> tuple[str, ...]:
    """The categories a scanner completed: Security Hub archives the fixed findings of exactly these."""
    completed = {catalog.scanner_for(r.name).spec.category for r in runs if r.status is RunStatus.COMPLETED}
    return tuple(category.value for category in completed)


def rescanner(plan: ScanPlan, history: Mapping[str, Measured]) -> Rescanner:
    """The scan's own scanners on another folder or image, with their reports under OUT/raw/rescan."""
    def rescan(source: Path, image: str | None, scanners: tuple[str, ...]) -> Rescan:
        request = replace(plan.request, source=source, image=image, only=frozenset(scanners),
                          out_dir=plan.request.out_dir / "raw" / "rescan")
        sub = replace(plan, request=request)
        with Progress.for_stream(sys.stderr) as progress:
            executed = run_scanners(sub, scan_context(sub), progress, history)
        runs = tuple(e.run for e in executed)
        return Rescan(tuple(p for e in executed for p in e.parsed), missing_scanners(sub, runs))
    return rescan


def measured(runs: tuple[ScannerRun, ...]) -> tuple[tuple[str, Measured], ...]:
    """What each completed scanner took; a skipped, failed or stopped one says nothing about the next run."""
    return tuple((run.name, Measured(run.seconds, run.cpu_seconds))
                 for run in runs if run.status is RunStatus.COMPLETED)


def timing_metrics(runs: tuple[ScannerRun, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(metric for name, seconds in measured(runs) for metric in (
        (f"{TIMING_PREFIX}{name}/wall-seconds", f"{seconds.wall:.3f}"),
        (f"{TIMING_PREFIX}{name}/cpu-seconds", f"{seconds.cpu:.3f}")))


def run_scan(request: ScanRequest, stream: TextIO | None = None) -> ScanOutcome:
    plan = plan_scan(request)  # a bad config, policy, baseline or refused target stops everything
    # The outputs of this run are named last by outputs.json, and the scanners' raw reports (which quote
    # secrets) go on any exit that unwinds, a caught SIGTERM included (pipeline/termination.py).
    with manifest_run(request.out_dir, "scan"):
        ctx = scan_context(plan)
        try:
            return scan_and_report(plan, ctx, stream)
        finally:
            if not request.keep_raw:
                shutil.rmtree(ctx.work_dir, ignore_errors=True)


def scan_and_report(plan: ScanPlan, ctx: ScanContext, stream: TextIO | None) -> ScanOutcome:
    request = plan.request
    history_path = durations.durations_path()
    history = durations.load(history_path)
    with Progress.for_stream(stream or sys.stderr) as progress:
        # The report templates compile while the scanners run, not after the last one.
        executed = run_scanners(plan, ctx, progress, history.measured, meanwhile=compile_templates)
    runs = tuple(e.run for e in executed)
    not_saved = durations.save(history_path, history.measured, measured(runs))
    missing = missing_scanners(plan, runs)
    normalized = outcome_from_parsed(tuple(p for e in executed for p in e.parsed), request.scope)
    # Proposed Dockerfiles go beside the results; their diffs ride in the metrics to every report.
    proposals = write_remediations(request.out_dir, propose(request.source, normalized.results.findings))
    if request.remediate_build:
        rebuilt = rebuild_and_rescan([key.removeprefix(METRIC_PREFIX) for key, _ in proposals], request.source,
                                     request.out_dir, normalized.results.findings,
                                     completed=[r.name for r in runs if r.status is RunStatus.COMPLETED],
                                     rescan=rescanner(plan, history.measured))
        proposals, missing = (*proposals, *rebuilt.metrics), (*missing, *rebuilt.problems)
    normalized = replace(normalized, results=replace(normalized.results, missing=missing, metrics=(
        *normalized.results.metrics, *proposals, *timing_metrics(runs))))
    normalized = with_vex(with_epss(normalized, plan.gate.epss), plan.gate.vex)
    verdict = decide(normalized.results.findings, plan.gate, missing)
    outputs = ScanOutputs.under(request.out_dir)
    history_warnings = [warning for warning in (history.warning, not_saved) if warning]
    warnings = [*history_warnings, *normalized.warnings, *write_reports(normalized, verdict, plan, outputs)]
    failed = bool(missing) or any(r.status in (RunStatus.FAILED, RunStatus.TIMED_OUT) for r in runs)
    published = None
    try:
        result = publish(normalized, plan, runs)
    except PublishError as exc:
        failed = True
        warnings.append(f"publish failed: {exc}" + (f" (tip: {exc.tip})" if exc.tip else ""))
    else:
        if result is not None and result.outcome is None:
            published = result.eligibility.line()
        elif result is not None and result.outcome is not None:
            hub = result.outcome
            published, failed = hub.summary_line(), failed or bool(hub.failed)
            assumed = (result.eligibility.reason,) if result.eligibility.reason else ()
            warnings += [*assumed, *hub.warnings, *(failure.line() for failure in hub.failed)]
    code = ExitCode.TOOL_FAILED if failed else (ExitCode.PASSED if verdict.passed else ExitCode.GATE_FAILED)
    return ScanOutcome(plan.config_file, runs, normalized, verdict, outputs, tuple(warnings), published, code)
