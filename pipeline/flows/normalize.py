"""The normalize flow: reports in, one merged Results out, as SARIF, ASFF, OCSF, an SBOM and the results file."""

from __future__ import annotations

import dataclasses
import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import orjson

from normalizers.dedupe import merge_duplicates
from normalizers.emit.asff import AsffContext, asff_parts
from normalizers.emit.gitlab import emit_gitlab
from normalizers.emit.ocsf import OcsfContext, emit_ocsf
from normalizers.emit.sarif import SarifOptions, dockerfile_from_line, emit_sarif
from normalizers.epss import EpssError, EpssSnapshot, load_snapshot, mark_epss
from normalizers.kev import load_catalog, mark_known_exploited
from normalizers.merge import merge_across_tools
from normalizers.model import Finding, ParseResult, Scope, Skipped
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.redact import redact_text
from normalizers.results import Results, results_to_dict
from normalizers.tool_id import ToolId
from pipeline import forked
from pipeline.atomic import STDOUT, replaceable, write_atomic
from pipeline.errors import ConfigError
from pipeline.vex import VexStatement, apply_vex, load_vex

# From this many findings on, the ASFF file is written by a forked child while this process writes the other
# outputs (measured in docs/development.md); below it, forking costs about what the second core saves.
FORK_MIN_FINDINGS = 2_000


@dataclass(frozen=True)
class NormalizeRequest:
    reports: tuple[str, ...]
    scope: Scope
    account: str = "000000000000"
    region: str = "us-east-1"
    tool: ToolId | None = None
    source_root: str | None = None
    sarif_out: str | None = None
    asff_out: str | None = None
    json_out: str | None = None
    ocsf_out: str | None = None
    cyclonedx_out: str | None = None
    vex: tuple[Path, ...] = ()  # VEX documents whose not_affected and fixed statements suppress
    epss: Path | None = None  # FIRST's EPSS snapshot; None: the one `tollgate db update` fetched, if any
    gitlab_dir: str | None = None  # GitLab security reports (gl-*-report.json) go here
    sarif_options: SarifOptions = field(default_factory=SarifOptions)


def sarif_options_for(source_root: str, *, dast_location: str | None = None, image_location: str | None = None,
                      host_location: str | None = None) -> SarifOptions:
    """The files that findings without a source line point to (the defaults where none is given),
    image findings on the Dockerfile's FROM line; for `tollgate normalize` and `tollgate scan` alike."""
    defaults = SarifOptions()
    options = SarifOptions(dast_location=dast_location or defaults.dast_location,
                           image_location=image_location or defaults.image_location,
                           host_location=host_location or defaults.host_location)
    return with_dockerfile_line(options, source_root)


def with_dockerfile_line(options: SarifOptions, source_root: str) -> SarifOptions:
    """Point image findings at the Dockerfile's final FROM line when the file is there to read."""
    dockerfile = Path(source_root, options.image_location)
    if options.image_from_line is not None or not dockerfile.is_file():
        return options
    line = dockerfile_from_line(dockerfile.read_text(encoding="utf-8", errors="replace"))
    return dataclasses.replace(options, image_from_line=line)


@dataclass(frozen=True)
class NormalizeOutcome:
    results: Results
    parsed: tuple[ParseResult, ...]
    warnings: tuple[str, ...] = ()
    kev_catalog: str = ""  # which KEV catalog marked the findings, and how old it is
    epss: str = ""  # which EPSS snapshot scored them, if one did

    def summary_line(self) -> str:
        problems = [f for f in self.results.findings if f.is_problem]
        counts = Counter(f.severity.value for f in problems if f.active)
        by_severity = ", ".join(f"{counts[s]} {s.lower()}" for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"))
        known_exploited = sum(1 for f in self.results.findings if f.kev)
        passes = len(self.results.findings) - len(problems)
        return (
            f"tollgate: {len(problems)} findings from {len(self.parsed)} reports "
            f"({by_severity}); {f'{passes} passed checks; ' if passes else ''}{len(self.results.skipped)} "
            f"records skipped; "
            f"{known_exploited} known exploited ({self.kev_catalog})"
            + (f"; {sum(1 for f in self.results.findings if f.epss)} scored by {self.epss}" if self.epss else "")
        )


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Normalizing builds millions of acyclic objects (dicts, tuples, frozen dataclasses), and the cycle
    collector's passes over them cost a third of a 50,000-finding run while finding nothing to free;
    reference counting still frees everything as it goes. The collector's state is restored after."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def normalize_reports(request: NormalizeRequest) -> NormalizeOutcome:
    options = ParseOptions(source_root=request.source_root)
    statements = load_vex(request.vex)  # a bad VEX document stops the run before any report is read
    snapshot = read_epss(request.epss)  # and so does a bad EPSS snapshot
    with cycle_collection_paused():
        parsed = tuple(parse_report(Report.from_path(path), options, request.tool) for path in request.reports)
        return with_vex(with_epss(outcome_from_parsed(parsed, request.scope), snapshot), statements)


def read_epss(path: Path | None) -> EpssSnapshot | None:
    """The EPSS snapshot given, else the fetched one; a bad given file is a ConfigError (exit 2)."""
    try:
        return load_snapshot(path)
    except EpssError as exc:
        raise ConfigError(str(exc), "give FIRST's epss_scores-current.csv.gz (gzip or plain CSV)") from None


def with_epss(outcome: NormalizeOutcome, snapshot: EpssSnapshot | None) -> NormalizeOutcome:
    """Findings with a scored CVE carry its EPSS probability and percentile."""
    if snapshot is None:
        return outcome
    findings = tuple(mark_epss(outcome.results.findings, snapshot))
    return dataclasses.replace(outcome, results=dataclasses.replace(outcome.results, findings=findings),
                               epss=snapshot.notice())


def with_vex(outcome: NormalizeOutcome, statements: tuple[VexStatement, ...]) -> NormalizeOutcome:
    """Findings a not_affected or fixed statement covers become inactive with its reason; stale ones are warned."""
    if not statements:
        return outcome
    vex = apply_vex(outcome.results.findings, statements)
    stale = [f"stale VEX statement, it matches no finding: {s.label}" for s in vex.stale]
    return dataclasses.replace(outcome, results=dataclasses.replace(outcome.results, findings=vex.findings),
                               warnings=(*outcome.warnings, *stale))


def outcome_from_parsed(parsed: tuple[ParseResult, ...], scope: Scope) -> NormalizeOutcome:
    catalog = load_catalog()
    reported = [f for result in parsed for f in result.findings]
    # Each report's duplicates were merged as it was parsed: only two reports can still share an identity.
    unique = merge_duplicates(reported) if len(parsed) > 1 else reported
    findings: list[Finding] = mark_known_exploited(merge_across_tools(unique), catalog)
    skipped: list[Skipped] = [s for result in parsed for s in result.skipped]
    warnings = [redact_text(f"{s.tool}: skipped {s.record or 'a record'}: {s.reason}") for s in skipped]
    results = Results(
        scope=scope,
        findings=tuple(findings),
        skipped=tuple(skipped),
        sources=tuple(result.source for result in parsed),
        metrics=tuple(metric for result in parsed for metric in result.metrics),
        reconciliation=tuple(result.reconciliation for result in parsed if result.reconciliation),
    )
    return NormalizeOutcome(results=results, parsed=parsed, warnings=tuple(warnings),
                            kev_catalog=catalog.notice(datetime.now(timezone.utc).date()))


def write_outputs(outcome: NormalizeOutcome, request: NormalizeRequest) -> list[str]:
    """Write every requested output atomically; returns warnings raised by the emitters."""
    with cycle_collection_paused():
        return _write_outputs(outcome, request)


def _write_outputs(outcome: NormalizeOutcome, request: NormalizeRequest) -> list[str]:
    warnings: list[str] = []
    findings = outcome.results.findings
    with _asff_writer(findings, request) as write_asff:
        if request.json_out:
            write_atomic(request.json_out, orjson.dumps(results_to_dict(outcome.results)))
        if request.sarif_out:
            sarif = emit_sarif(findings, request.sarif_options)
            warnings += sarif.warnings
            for index, document in enumerate(sarif.documents):
                write_atomic(numbered_path(request.sarif_out, index), orjson.dumps(document))
        if request.ocsf_out:
            write_atomic(request.ocsf_out, orjson.dumps(emit_ocsf(findings, OcsfContext(scope=request.scope))))
        if request.cyclonedx_out:
            from normalizers.emit.cyclonedx import SbomContext, emit_cyclonedx  # noqa: PLC0415 - lazy: 90 ms of imports

            write_atomic(request.cyclonedx_out, emit_cyclonedx(findings, SbomContext(scope=request.scope)))
        if write_asff:  # as late as the warnings' order allows: a forked writer works on meanwhile
            warnings += write_asff()
        if request.gitlab_dir:
            gitlab = emit_gitlab(findings, request.scope)
            warnings += gitlab.warnings
            for name, report in gitlab.reports.items():
                write_atomic(Path(request.gitlab_dir, name), orjson.dumps(report))
    return warnings


@contextmanager
def _asff_writer(findings: tuple[Finding, ...],
                 request: NormalizeRequest) -> Iterator[Callable[[], list[str]] | None]:
    """What writes the requested ASFF file and returns its warnings: a forked child, started at once and busy
    while this process writes the other outputs, when that pays; else this process, when called."""
    path = request.asff_out
    if not path:
        yield None
        return

    def write() -> list[str]:
        warnings: list[str] = []
        context = AsffContext(account=request.account, region=request.region, scope=request.scope)
        write_atomic(path, asff_parts(findings, context, warnings))
        return warnings

    if not _fork_pays(findings, path, request):
        yield write
        return
    with forked.in_child(write) as result:
        yield result


def _fork_pays(findings: tuple[Finding, ...], path: str, request: NormalizeRequest) -> bool:
    """Enough findings, fork at hand, and an ASFF file of its own: written alongside stdout, a device or another
    output, the two processes' bytes would interleave."""
    if len(findings) < FORK_MIN_FINDINGS or not forked.available() or path == STDOUT or not replaceable(Path(path)):
        return False
    target = Path(path).resolve()
    others = (request.json_out, request.sarif_out, request.ocsf_out, request.cyclonedx_out)
    if target in {Path(other).resolve() for other in others if other and other != STDOUT}:
        return False
    return not request.gitlab_dir or target.parent != Path(request.gitlab_dir).resolve()


def numbered_path(path: str, index: int) -> str:
    """The first SARIF file keeps its name; overflow files (over GitHub's 20 runs) get .2, .3 …"""
    if index == 0:
        return path
    stem, dot, suffix = path.rpartition(".")
    return f"{stem}.{index + 1}.{suffix}" if dot else f"{path}.{index + 1}"
