"""The scan step: the action's inputs become a `ScanRequest`, then SARIF per category and the outputs.

The step translates and nothing more: its inputs go straight into the scan flow's request (the
scanner options that are action inputs, such as `trivy-cache-dir`, as option overrides declared by
each scanner's spec), so the action and `tollgate scan` read `.tollgate.yml`, the policy and the
baseline the same way. Security Hub archives the fixed findings of exactly the categories that were
scanned, so those go to a sidecar beside the results, for `publish` and `securityhub`.

A scanner the action names in `scanners`, or that `.tollgate.yml` enables, must run; the scan flow
fails closed (exit 3, verdict "failed: incomplete") when it cannot. The step itself exits 0: the gate
step decides, after the SARIF upload and publishing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from normalizers.model import Category
from pipeline.action.env import Env, flag, names, require, text, words, write_outputs
from pipeline.action.gate import verdict_outputs
from pipeline.action.out_dir import SIDECAR, fresh_out_dir
from pipeline.action.sarif_split import category_prefix, sarif_outputs, split_sarif, uri_prefix
from pipeline.atomic import write_atomic
from pipeline.ci_scope import resolve_scope
from pipeline.config import OptionOverride
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.scan import ScanRequest, run_scan, scanned_categories
from pipeline.report.console import print_outcome
from pipeline.run_manifest import manifest_run
from pipeline.scanners import catalog


@dataclass(frozen=True)
class ScanStep:
    """What the step needs besides the scan itself."""

    request: ScanRequest
    path: str


def option_overrides(env: Env) -> tuple[OptionOverride, ...]:
    """Each scanner's action inputs that are set, as the options they stand for."""
    overrides = []
    for spec in catalog.specs():
        for action_input in spec.action_inputs:
            if text(env, action_input.variable):
                value: str | bool = (flag(env, action_input.variable, False) if action_input.boolean
                                     else text(env, action_input.variable))
                overrides.append(OptionOverride(spec.name, action_input.option, value))
    return tuple(overrides)


def chosen(env: Env, variable: str, allowed: tuple[str, ...], what: str) -> frozenset[str]:
    given = names(env, variable)
    unknown = [name for name in given if name not in allowed]
    if unknown:
        raise ConfigError(f"input {what}: {', '.join(unknown)} not one of {', '.join(allowed)}")
    return frozenset(given)


def scan_step(env: Env, out_dir: Path) -> ScanStep:
    path = text(env, "TOLLGATE_PATH", ".")
    config = text(env, "TOLLGATE_CONFIG")
    baseline = text(env, "TOLLGATE_BASELINE")
    resolved = resolve_scope(env, repository=None, branch=None, commit=None,
                             environment=text(env, "TOLLGATE_ENVIRONMENT") or None, folder=Path(path))
    if resolved.warning:
        print(f"::warning::tollgate: {resolved.warning}", flush=True)
    request = ScanRequest(
        source=Path(path),
        out_dir=out_dir,
        scope=resolved.scope,
        config=Path(config) if config else None,
        options=option_overrides(env),
        image=text(env, "TOLLGATE_IMAGE") or None,
        dast_targets=words(env, "TOLLGATE_DAST_TARGETS"),
        dast_allow=words(env, "TOLLGATE_DAST_ALLOW"),
        # The dast action's `engine` is the one scanner it runs, as `scanners` names them for the others.
        only=(chosen(env, "TOLLGATE_SCANNERS", catalog.names(), "scanners")
              | chosen(env, "TOLLGATE_DAST_ENGINE", catalog.dast_engines(), "engine")),
        fail_on=text(env, "TOLLGATE_FAIL_ON") or None,
        baseline=Path(baseline) if baseline else None,
        publish=False,
        step_summary=flag(env, "TOLLGATE_SUMMARY", True),
    )
    return ScanStep(request, path)


def command_scan(env: Env) -> int:
    require(env)
    out_dir = fresh_out_dir(env, text(env, "TOLLGATE_ACTION", "all"))
    step = scan_step(env, out_dir)
    print(f"tollgate: scanning {step.path} ({', '.join(sorted(step.request.only)) or 'the enabled scanners'})",
          flush=True)
    with manifest_run(out_dir, "scan action"):  # outputs.json then also names the sidecar and the split SARIF
        outcome = run_scan(step.request)
        print_outcome(outcome)
        completed = set(scanned_categories(outcome.runs))
        categories = [category.value for category in Category if category.value in completed]
        write_atomic(out_dir / SIDECAR, json.dumps({"categories": categories}))
        sarif = split_sarif([outcome.outputs.sarif], out_dir / "sarif", uri_prefix(step.path, env),
                            category_prefix(env))
    write_outputs({
        "results": str(outcome.outputs.results), "sarif": str(outcome.outputs.sarif),
        "sarif-dir": str(out_dir / "sarif"), **sarif_outputs(sarif),
        "summary": str(outcome.outputs.summary), "html": str(outcome.outputs.html),
        "config": str(outcome.config_file or ""), "categories": ",".join(categories),
        "path-prefix": uri_prefix(step.path, env), "exit-code": str(int(outcome.exit_code)),
        **verdict_outputs(outcome.verdict),
    }, env)
    return ExitCode.PASSED  # the gate step decides, after SARIF upload and publishing
