"""The plan step: what the runner must prepare before the scan, from the scan's own reading of the config.

The action installs and starts what the EFFECTIVE configuration runs, not only what the `scanners`
input names: a `.tollgate.yml` that enables dependency-check gets its CLI and data cache, one with
`scan.dast.targets` gets a ZAP daemon. So the inputs go through the scan step's own translation
(`scan_step`) and the scan flow's own planning (`plan_scan`, `selected`): config discovery, the
policy, the baseline and the scope guard, exactly as the scan will read them, before anything is
installed. Each scanner's spec declares what it needs (`ScannerSpec.runner_setup`); a scanner that
would have no target (a DAST engine without targets, the image scan without an image) needs nothing,
and neither does ZAP when the user runs the daemon (`scan.scanners.zap.url` or `$ZAP_URL`).

Outputs: one `<setup>=true|false` per setup any scanner declares (`checkov`, `dependency-check`,
`trivy-db`, `zap`), for the `if:` of the install, cache and start steps.
"""

from __future__ import annotations

from pipeline.action.env import Env, require, runner_temp, text, write_outputs
from pipeline.action.out_dir import OUT_ROOT
from pipeline.action.scan import scan_step
from pipeline.errors import ExitCode
from pipeline.flows.scan import ScanPlan, needs_target, plan_scan, selected
from pipeline.scanners import catalog
from pipeline.scanners.base import ScannerSpec


def planned(env: Env) -> ScanPlan:
    """The scan the scan step will run, read and checked; nothing is written."""
    return plan_scan(scan_step(env, runner_temp(env) / OUT_ROOT / "plan").request)


def has_target(plan: ScanPlan, spec: ScannerSpec) -> bool:
    if not needs_target(spec):
        return True
    return bool(plan.targets) if spec.dast_engine else bool(plan.request.image)


def user_runs_daemon(plan: ScanPlan, spec: ScannerSpec, env: Env) -> bool:
    """A ZAP the user runs (`scan.scanners.zap.url`, `$ZAP_URL`) is used as it is; none is started."""
    return "zap" in spec.runner_setup and bool(plan.config.settings(spec.name).options.get("url")
                                                or text(env, "ZAP_URL"))


def runner_needs(plan: ScanPlan, env: Env) -> frozenset[str]:
    needs: set[str] = set()
    for name in selected(plan):
        spec = catalog.scanner_for(name).spec
        if has_target(plan, spec) and not user_runs_daemon(plan, spec, env):
            needs.update(spec.runner_setup)
    return frozenset(needs)


def setups() -> tuple[str, ...]:
    """Every setup a scanner declares: each is an output, true or false."""
    return tuple(sorted({setup for spec in catalog.specs() for setup in spec.runner_setup}))


def command_plan(env: Env) -> int:
    require(env)
    plan = planned(env)
    needs = runner_needs(plan, env)
    scanners = ", ".join(selected(plan)) or "none"
    print(f"tollgate: the scan runs {scanners}; the runner prepares {', '.join(sorted(needs)) or 'nothing more'}")
    write_outputs({setup: str(setup in needs).lower() for setup in setups()}, env)
    return ExitCode.PASSED
