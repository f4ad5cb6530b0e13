"""The `tollgate` command line: one module per verb, imported only when that verb runs.

Start-up stays cheap (`tollgate --help` imports no boto3, jinja2 or ZAP client) because
each verb's module, and everything heavy it needs, is imported only for that verb.
Every error leaves through `_fatal`: one line, a tip where there is one, and a
traceback only with `--debug`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn, Protocol

from normalizers import __version__
from normalizers.errors import NormalizerError
from pipeline import secret_mask, termination
from pipeline.errors import ExitCode, TollgateError
from pipeline.termination import Terminated

# verb -> (module, one-line summary). Each module has add_arguments(parser) and run(args) -> int.
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("pipeline.commands.scan", "run the scanners, then normalize, gate, report and publish"),
    "normalize": ("pipeline.commands.normalize", "turn scanner reports into SARIF, ASFF and a results file"),
    "gate": ("pipeline.commands.gate", "pass or fail results against the policy and a baseline"),
    "publish": ("pipeline.commands.publish", "publish results to Security Hub, directly or via the report bucket"),
    "report": ("pipeline.commands.report", "write the job summary, HTML or PDF report"),
    "firewall": ("pipeline.commands.firewall", "supply-chain firewall: check packages, serve the API"),
    "db": ("pipeline.commands.db", "refresh the CISA KEV catalog and FIRST EPSS snapshot (offline: say what is used)"),
}

EPILOG = """exit codes:
  0  passed
  1  the gate failed
  2  usage, config or input error
  3  a scanner or publisher failed"""


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _root_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tollgate",
        description="Tollgate: DevSecOps orchestration for GitHub Actions.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tollgate {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    return parser


def _print_root_help(parser: argparse.ArgumentParser) -> None:
    parser.print_help()
    print("\ncommands:")
    for verb, (_, summary) in COMMANDS.items():
        print(f"  {verb:<10} {summary}")
    print("\nRun 'tollgate COMMAND --help' for a command's options.")


def _fatal(message: str, code: int, tip: str | None = None) -> int:
    print(f"tollgate: error: {message}", file=sys.stderr)
    if tip:
        print(f"tollgate: tip: {tip}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    secret_mask.install(os.environ)  # before anything can print: every line out is masked
    root = _root_parser()
    debug = "--debug" in argv
    verb_index = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if verb_index is None:
        if "-h" in argv or "--help" in argv:
            _print_root_help(root)
            return ExitCode.PASSED
        root.parse_args(argv)  # --version prints and exits; anything else is a usage error
        _print_root_help(root)
        return ExitCode.USAGE
    verb = argv[verb_index]
    if verb not in COMMANDS:
        return _fatal(f"unknown command {verb!r}", ExitCode.USAGE, f"commands: {', '.join(COMMANDS)}")
    module_name, summary = COMMANDS[verb]
    parser = argparse.ArgumentParser(prog=f"tollgate {verb}", description=summary, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    try:
        module: CommandModule = importlib.import_module(module_name)
        module.add_arguments(parser)
        args = parser.parse_args(argv[:verb_index] + argv[verb_index + 1 :])
        with termination.handled():  # SIGTERM and SIGINT unwind through every finally
            return module.run(args)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM or SIGINT caught as Terminated
        code = exc.exit_code if isinstance(exc, Terminated) else 130
        return _fatal("interrupted" if code == 130 else f"terminated by {exc}", code)
    except Exception as exc:  # the one place every error becomes one line and an exit code
        if debug:
            traceback.print_exc()
        return _fatal(*_describe(exc))


def _describe(exc: Exception) -> tuple[str, int, str | None]:
    """(message, exit code, tip) for an error; unexpected ones are labelled as internal."""
    if isinstance(exc, TollgateError):
        return str(exc), exc.exit_code, exc.tip
    if isinstance(exc, NormalizerError):
        return str(exc), ExitCode.USAGE, None
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "), ExitCode.USAGE, None
    return (f"internal error: {exc.__class__.__name__}: {exc}", ExitCode.TOOL_FAILED,
            "re-run with --debug and report the traceback")


def entry() -> NoReturn:
    """The `tollgate` command. What is still alive when `main` returns (the imported modules) lives until the
    process ends: frozen, it is spared the interpreter's last collection, a walk over all of it (50 ms of a scan)."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
