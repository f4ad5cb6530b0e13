"""Running a `tollgate` verb from a step, and the folder each action writes to.

A verb runs in this process through the CLI's own entry point, so its parser, errors and exit
codes are exactly the CLI's; the argv is announced first, so the step's log shows what ran.
Every action writes under `$RUNNER_TEMP/tollgate/<action>` (never into the workspace); a second
step of the same action in one job gets `<action>-2`, so no step overwrites another's results.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.action.env import Env, runner_temp

SIDECAR = "scanned.json"  # the categories a scan completed, for `publish` and `securityhub`
OUT_ROOT = "tollgate"  # $RUNNER_TEMP/tollgate/<action>: where every action writes


def announce(argv: Sequence[str]) -> None:
    print(f"tollgate: running {shlex.join(['tollgate', *argv])}", flush=True)


def run_verb(argv: Sequence[str]) -> int:
    """One `tollgate` verb through the CLI's own entry point (its parser, errors and exit codes)."""
    from pipeline.cli import main  # noqa: PLC0415 - the CLI imports each verb lazily too

    announce(argv)
    sys.stdout.flush()
    return main(list(argv))


def policy_argv(config: str, fail_on: str, baseline: str) -> list[str]:
    argv = ["--policy", config] if config else []
    argv += ["--fail-on", fail_on] if fail_on else []
    return argv + (["--baseline", baseline] if baseline else [])


def fresh_out_dir(env: Env, action: str) -> Path:
    """$RUNNER_TEMP/tollgate/<action>, or <action>-2, -3, … when an earlier step of the job used it."""
    root = runner_temp(env) / OUT_ROOT
    candidates = (root / (action if n == 1 else f"{action}-{n}") for n in range(1, 1000))
    folder = next(c for c in candidates if not c.exists())
    folder.mkdir(parents=True)
    return folder
