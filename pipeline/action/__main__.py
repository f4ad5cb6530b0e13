"""`python -I -m pipeline.action COMMAND`: the command table, and the one place errors become exit codes.

`-I` keeps the workspace off `sys.path`, so a `pipeline/` folder in the user's repository cannot
stand in for Tollgate's. A Tollgate error prints one line (and its tip) and exits with its own code;
an unreadable report or file is a usage error (2). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from normalizers.errors import NormalizerError
from pipeline import secret_mask, termination
from pipeline.action.dependency_check import command_install_dependency_check
from pipeline.action.env import Env, command_mask
from pipeline.action.gate import command_gate
from pipeline.action.guards import command_guard
from pipeline.action.plan import command_plan
from pipeline.action.publish import command_publish, command_securityhub, command_summary
from pipeline.action.scan import command_scan
from pipeline.action.trivy_install import command_install_trivy
from pipeline.action.zap_daemon import command_start_zap, command_stop_zap
from pipeline.errors import ExitCode, TollgateError
from pipeline.termination import Terminated

COMMANDS: dict[str, Callable[[Env], int]] = {
    "mask": command_mask,
    "guard": command_guard,
    "plan": command_plan,
    "scan": command_scan,
    "gate": command_gate,
    "publish": command_publish,
    "securityhub": command_securityhub,
    "summary": command_summary,
    "start-zap": command_start_zap,
    "stop-zap": command_stop_zap,
    "install-dependency-check": command_install_dependency_check,
    "install-trivy": command_install_trivy,
}


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments != ["mask"]:  # `mask` prints each secret once, inside ::add-mask::, so the runner hides it
        secret_mask.install(os.environ if env is None else env)
    if len(arguments) != 1 or arguments[0] not in COMMANDS:
        print(f"usage: python -m pipeline.action {{{','.join(COMMANDS)}}}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        with termination.handled():  # SIGTERM and SIGINT unwind through every finally
            return COMMANDS[arguments[0]](os.environ if env is None else env)
    except Terminated as exc:
        print(f"tollgate: error: terminated by {exc}", file=sys.stderr)
        return exc.exit_code
    except TollgateError as exc:
        print(f"tollgate: error: {exc}", file=sys.stderr)
        if exc.tip:
            print(f"tollgate: tip: {exc.tip}", file=sys.stderr)
        return int(exc.exit_code)
    except (NormalizerError, OSError) as exc:
        print(f"tollgate: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE


if __name__ == "__main__":
    sys.exit(main())
