"""The gate step, and the verdict as step outputs.

The gate runs after the SARIF upload and publishing, so a failing pull request still shows its
alerts. It fails the job on a failed gate unless `fail-job` is false, and always on a failed
scanner: the scan step's exit code reaches it through `TOLLGATE_SCAN_EXIT_CODE`, and a gate that
saw nothing must not pass. Annotations are written only when the scanned folder is the repository
root, since GitHub reads their paths from there. `evaluate_results` and `verdict_outputs` give
`publish` the verdict of merged results, and `scan` the counts of its own.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from normalizers.model import Severity
from pipeline.action.env import Env, flag, text, words
from pipeline.action.verbs import policy_argv, run_verb
from pipeline.errors import ConfigError, ExitCode

if TYPE_CHECKING:
    from pipeline.gate import GateVerdict


def command_gate(env: Env) -> int:
    results = words(env, "TOLLGATE_RESULTS")
    if not results:
        raise ConfigError("input results: no results file", "did the scan step run?")
    policy = policy_argv(text(env, "TOLLGATE_CONFIG"), text(env, "TOLLGATE_FAIL_ON"), text(env, "TOLLGATE_BASELINE"))
    gate = run_verb(["gate", *results, *annotations_argv(text(env, "TOLLGATE_PATH_PREFIX")), *policy])
    scan = int(text(env, "TOLLGATE_SCAN_EXIT_CODE", "0"))
    if scan == ExitCode.TOOL_FAILED:
        print("tollgate: error: a scanner failed; its error is in the scan step's log", file=sys.stderr)
        return ExitCode.TOOL_FAILED
    if gate == ExitCode.GATE_FAILED and not flag(env, "TOLLGATE_FAIL_JOB", True):
        print("tollgate: the gate failed; fail-job is false, so the job goes on")
        return ExitCode.PASSED
    return gate


def annotations_argv(path_prefix: str) -> list[str]:
    """Annotations name files relative to the scanned folder; GitHub reads them from the repository root."""
    if path_prefix:
        print(f"tollgate: no annotations: findings are relative to {path_prefix}/, and annotations need "
              "paths from the repository root; the SARIF upload carries the locations")
        return []
    return ["--annotations"]


def evaluate_results(results: Sequence[Path], config: str, fail_on: str, baseline: str) -> GateVerdict:
    """The verdict `tollgate gate` reaches for these results (its own reading of every file)."""
    from datetime import datetime, timezone  # noqa: PLC0415

    from pipeline.commands.gate import read_baseline, read_results  # noqa: PLC0415
    from pipeline.gate import evaluate  # noqa: PLC0415
    from pipeline.policy import Policy, load_policy  # noqa: PLC0415

    _, findings = read_results([str(p) for p in results])
    policy = (load_policy(config) if config else Policy()).with_fail_on(fail_on or None)
    baseline_path = baseline or policy.baseline
    known = read_baseline(baseline_path) if baseline_path else None
    return evaluate(findings, policy, known, today=datetime.now(timezone.utc).date())


def verdict_outputs(verdict: GateVerdict) -> dict[str, str]:
    counts = Counter(finding.severity for finding in verdict.open)
    outputs = {severity.value.lower(): str(counts.get(severity, 0)) for severity in Severity}
    return outputs | {
        "total": str(len(verdict.open)), "new": str(len(verdict.new)), "failing": str(len(verdict.failing)),
        "verdict": "passed" if verdict.passed else "failed",
    }
