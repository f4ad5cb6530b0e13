"""The publish action's commands: merge earlier scans, publish to Security Hub, write the summary.

`publish` reads the results of the Tollgate scans earlier in the job (the `results` input, else
every `results.json` under `$RUNNER_TEMP/tollgate`), merges their SARIF per category and gives
the combined verdict. The categories come from each scan's sidecar, so Security Hub archives the
fixed findings of exactly the categories that were scanned, never of one whose scanner was skipped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from normalizers.model import Category
from pipeline.action.env import Env, names, runner_temp, text, words, write_outputs
from pipeline.action.gate import evaluate_results, verdict_outputs
from pipeline.action.sarif_split import sarif_outputs, split_sarif
from pipeline.action.verbs import OUT_ROOT, SIDECAR, fresh_out_dir, policy_argv, run_verb
from pipeline.errors import ConfigError, ExitCode


def results_files(env: Env) -> list[Path]:
    """The results input, else every `results.json` an earlier Tollgate step of this job wrote."""
    given = [Path(p) for p in words(env, "TOLLGATE_RESULTS")]
    found = given or sorted((runner_temp(env) / OUT_ROOT).glob("*/results.json"))
    missing = [str(p) for p in found if not p.is_file()]
    if missing or not found:
        raise ConfigError(f"input results: {', '.join(missing) or 'no results.json under $RUNNER_TEMP/tollgate'}",
                          "run a Tollgate scan action earlier in this job, or pass its results output")
    return found


def merged_categories(results: Sequence[Path]) -> list[str]:
    scanned: set[str] = set()
    for path in results:
        sidecar = path.parent / SIDECAR
        if sidecar.is_file():
            scanned.update(json.loads(sidecar.read_text(encoding="utf-8")).get("categories", ()))
    return [category.value for category in Category if category.value in scanned]


def command_publish(env: Env) -> int:
    results = results_files(env)
    out_dir = fresh_out_dir(env, "publish")
    sarif = split_sarif([s for r in results for s in sorted((r.parent / "sarif").glob("*.sarif"))], out_dir / "sarif")
    verdict = evaluate_results(results, text(env, "TOLLGATE_CONFIG"), text(env, "TOLLGATE_FAIL_ON"),
                               text(env, "TOLLGATE_BASELINE"))
    write_outputs({
        "results": "\n".join(str(p) for p in results), "sarif-dir": str(out_dir / "sarif"), **sarif_outputs(sarif),
        "categories": ",".join(merged_categories(results)), **verdict_outputs(verdict),
    }, env)
    return ExitCode.PASSED


def command_securityhub(env: Env) -> int:
    results = words(env, "TOLLGATE_RESULTS")
    region = text(env, "TOLLGATE_AWS_REGION") or text(env, "AWS_REGION")
    argv = ["publish", "securityhub", *results] + (["--region", region] if region else [])
    argv += [arg for category in names(env, "TOLLGATE_CATEGORIES") for arg in ("--category", category)]
    scope_env = text(env, "TOLLGATE_ENVIRONMENT")
    return run_verb(argv + (["--scope-env", scope_env] if scope_env else []))


def command_summary(env: Env) -> int:
    destination = env.get("GITHUB_STEP_SUMMARY") or "-"
    argv = ["report", *words(env, "TOLLGATE_RESULTS"), "--summary", destination]
    return run_verb(argv + policy_argv(text(env, "TOLLGATE_CONFIG"), text(env, "TOLLGATE_FAIL_ON"),
                                       text(env, "TOLLGATE_BASELINE")))
