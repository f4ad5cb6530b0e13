"""The verdict: the one place that reads the policy and baseline, takes the day, and decides.

`tollgate gate`, `tollgate report`, `tollgate scan`, every action step and the importer Lambda
reach their verdict here, so they cannot disagree: the same `.tollgate.yml` is found the same way
(`config_file.discover`), a bad baseline is the same `ConfigError` everywhere, and the day that
decides whether a suppression has expired is today in UTC, wherever the runner's clock is set.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from normalizers.epss import EpssSnapshot, mark_epss
from normalizers.errors import NormalizerError
from normalizers.model import Finding, Reconciliation, Scope, Severity
from pipeline.config_file import discover
from pipeline.errors import ConfigError
from pipeline.flows.normalize import read_epss
from pipeline.flows.results_files import combine_results, load_results, read_json
from pipeline.gate import Baseline, GateVerdict, baseline_from_document, evaluate
from pipeline.policy import Policy, load_policy
from pipeline.vex import VexStatement, apply_vex, load_vex


@dataclass(frozen=True)
class GateSettings:
    """What a front door may say about the gate; everything left None is found or defaulted here."""

    config: Path | None = None  # an explicit .tollgate.yml
    scan_root: Path | None = None  # the scanned folder, whose .tollgate.yml comes before the working directory's
    fail_on: str | None = None  # replaces the policy's default threshold
    baseline: Path | None = None  # replaces the policy's baseline
    vex: tuple[Path, ...] = ()  # VEX documents, added to the policy's
    epss: Path | None = None  # an EPSS snapshot, instead of the policy's


@dataclass(frozen=True)
class GateInputs:
    policy: Policy
    baseline: Baseline | None
    config: Path | None  # the .tollgate.yml they came from, if any
    vex: tuple[VexStatement, ...] = ()  # the policy's and the front door's VEX statements
    epss: EpssSnapshot | None = None  # the front door's, else the policy's, else the fetched one


@dataclass(frozen=True)
class VerdictRequest:
    results: tuple[Path, ...]
    gate: GateSettings = GateSettings()


@dataclass(frozen=True)
class Evaluation:
    scope: Scope
    verdict: GateVerdict
    metrics: tuple[tuple[str, str], ...] = ()  # scan-level facts of every results file, for the reports
    reconciliation: tuple[Reconciliation, ...] = ()  # per report: raw records against kept findings


@dataclass(frozen=True)
class VerdictCounts:
    """The numbers every front door shows: open findings by severity, new, failing, and the verdict."""

    by_severity: tuple[tuple[Severity, int], ...]
    total: int
    new: int
    failing: int
    passed: bool

    @classmethod
    def of(cls, verdict: GateVerdict) -> VerdictCounts:
        counts = Counter(finding.severity for finding in verdict.open)
        return cls(by_severity=tuple((s, counts.get(s, 0)) for s in Severity), total=len(verdict.open),
                   new=len(verdict.new), failing=len(verdict.failing), passed=verdict.passed)


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def read_gate_inputs(settings: GateSettings) -> GateInputs:
    """The policy and baseline; a scan reads them before any scanner runs, so a bad one costs no scan."""
    config = discover(settings.config, settings.scan_root)
    policy = (load_policy(config) if config else Policy()).with_fail_on(settings.fail_on)
    baseline_path = settings.baseline or (Path(policy.baseline) if policy.baseline else None)
    vex = load_vex((*policy.vex, *settings.vex))
    epss = read_epss(settings.epss or (Path(policy.epss) if policy.epss else None))
    return GateInputs(policy, read_baseline(baseline_path) if baseline_path else None, config, vex, epss)


def read_baseline(path: Path) -> Baseline:
    """A previous results file or SARIF log; any problem with it is a ConfigError naming it."""
    try:
        return baseline_from_document(read_json(path), str(path))
    except OSError as exc:
        raise ConfigError(f"baseline {path}: cannot read it ({exc.strerror})") from None
    except NormalizerError as exc:
        raise ConfigError(f"baseline {path}: {str(exc).removeprefix(f'{path}: ')}") from None


def decide(findings: Sequence[Finding], inputs: GateInputs, missing: Sequence[str] = ()) -> GateVerdict:
    if inputs.epss is not None:  # results normalized without the snapshot are scored here
        findings = mark_epss(findings, inputs.epss)
    vex = apply_vex(findings, inputs.vex)
    verdict = evaluate(vex.findings, inputs.policy, inputs.baseline, today=today_utc(), missing=missing)
    return dataclasses.replace(verdict, stale_vex=tuple(s.label for s in vex.stale))


def evaluate_results(request: VerdictRequest) -> Evaluation:
    """Results files -> one verdict, the way every front door reaches it."""
    inputs = read_gate_inputs(request.gate)
    combined = combine_results(load_results(request.results))
    return Evaluation(combined.scope, decide(combined.findings, inputs, combined.missing), combined.metrics,
                      combined.reconciliation)
