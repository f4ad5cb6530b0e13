"""The gate step, and the verdict as step outputs.

The gate runs after the SARIF upload and publishing, so a failing pull request still shows its
alerts. It fails the job on a failed gate unless `fail-job` is false, and always on a failed or
incomplete scan: the scan step's exit code reaches it through `TOLLGATE_SCAN_EXIT_CODE`, and a gate
that saw nothing must not pass. Annotations are written only when the scanned folder is the
repository root, since GitHub reads their paths from there. The verdict is the verdict flow's, the
one `tollgate gate` reaches.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.action.env import Env, flag, text, words
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.verdict import GateSettings, VerdictCounts, VerdictRequest, evaluate_results
from pipeline.gate import GateVerdict
from pipeline.report.console import print_annotations, print_verdict, warn_expired


def gate_settings(env: Env) -> GateSettings:
    """The policy inputs every step shares: `config`, `fail-on` and `baseline`."""
    config, baseline = text(env, "TOLLGATE_CONFIG"), text(env, "TOLLGATE_BASELINE")
    return GateSettings(config=Path(config) if config else None, fail_on=text(env, "TOLLGATE_FAIL_ON") or None,
                        baseline=Path(baseline) if baseline else None)


def verdict_request(env: Env, results: tuple[Path, ...]) -> VerdictRequest:
    if not results:
        raise ConfigError("input results: no results file", "did the scan step run?")
    return VerdictRequest(results, gate_settings(env))


def command_gate(env: Env) -> int:
    evaluation = evaluate_results(verdict_request(env, tuple(Path(p) for p in words(env, "TOLLGATE_RESULTS"))))
    verdict = evaluation.verdict
    warn_expired(verdict)
    if annotations_wanted(text(env, "TOLLGATE_PATH_PREFIX")):
        print_annotations(verdict)
    print_verdict(verdict)
    scan = int(text(env, "TOLLGATE_SCAN_EXIT_CODE", "0"))
    if scan == ExitCode.TOOL_FAILED:
        print("tollgate: error: a scanner failed or did not run; its error is in the scan step's log", file=sys.stderr)
        return ExitCode.TOOL_FAILED
    if not verdict.passed and not flag(env, "TOLLGATE_FAIL_JOB", True):
        print("tollgate: the gate failed; fail-job is false, so the job goes on")
        return ExitCode.PASSED
    return ExitCode.PASSED if verdict.passed else ExitCode.GATE_FAILED


def annotations_wanted(path_prefix: str) -> bool:
    """Annotations name files relative to the scanned folder; GitHub reads them from the repository root."""
    if path_prefix:
        print(f"tollgate: no annotations: findings are relative to {path_prefix}/, and annotations need "
              "paths from the repository root; the SARIF upload carries the locations")
        return False
    return True


def verdict_outputs(verdict: GateVerdict) -> dict[str, str]:
    counts = VerdictCounts.of(verdict)
    outputs = {severity.value.lower(): str(count) for severity, count in counts.by_severity}
    return outputs | {
        "total": str(counts.total), "new": str(counts.new), "failing": str(counts.failing),
        "verdict": "passed" if counts.passed else "failed",
    }
