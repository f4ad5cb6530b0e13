"""The folder each action writes to: `$RUNNER_TEMP/tollgate/<action>`, never the workspace.

A second step of the same action in one job gets `<action>-2`, so no step overwrites another's results.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.action.env import Env, runner_temp

SIDECAR = "scanned.json"  # the categories a scan completed, for `publish` and `securityhub`
OUT_ROOT = "tollgate"  # $RUNNER_TEMP/tollgate/<action>: where every action writes


def fresh_out_dir(env: Env, action: str) -> Path:
    """$RUNNER_TEMP/tollgate/<action>, or <action>-2, -3, … when an earlier step of the job used it."""
    root = runner_temp(env) / OUT_ROOT
    candidates = (root / (action if n == 1 else f"{action}-{n}") for n in range(1, 1000))
    folder = next(c for c in candidates if not c.exists())
    folder.mkdir(parents=True)
    return folder
