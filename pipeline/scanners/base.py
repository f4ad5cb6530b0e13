"""The runner interface: one `Scanner` per tool, behind which `tollgate scan` runs them all.

A scanner says whether it can run here (`readiness`: installed? configured? anything to scan?),
runs the tool with an argv list (never a shell string) and a deadline, and hands back the reports
it wrote, each tagged with the `ToolId` of the parser that reads it. Reports land in the scanner's
own folder under the work dir, so concurrent scanners never share a file.

Two families share the interface:
- `CommandScanner`: a subprocess (Semgrep, Bandit, Checkov, detect-secrets, hadolint, Trivy,
  Wapiti, dependency-check). It builds an `Invocation` and says which exit codes are success;
  Bandit, hadolint and Checkov exit 1 when they find something, which is not a failure.
- API scanners (SonarQube, ZAP) talk HTTP to a server the user runs and poll until `deadline`.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import math
import os
import select
import shutil
import signal
import subprocess
import sysconfig
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline import termination
from pipeline.errors import ScannerError, ScannerTimeout
from pipeline.scanners.exclusion import Exclusions
from pipeline.scope import Allowlist, GuardedTarget, HostPattern
from pipeline.secret_mask import mask_file

LOG_TAIL_LINES = 12


ScannerName = str  # as users write it: `semgrep`, `trivy-config`; the catalog knows every one


@dataclass(frozen=True)
class ActionInput:
    """An action input that sets one of the scanner's options (`trivy-cache-dir` -> `cache-dir`)."""

    input: str
    option: str
    boolean: bool = False

    @property
    def variable(self) -> str:
        """The step's environment variable that carries the input."""
        return "TOLLGATE_" + self.input.upper().replace("-", "_")


@dataclass(frozen=True)
class ScannerSpec:
    """Everything about one scanner except how it runs; the config schema, the embedded defaults,
    the action's inputs and the docs are derived from these."""

    name: ScannerName
    title: str  # the tool's own name, e.g. "Semgrep"
    category: Category
    tool_ids: tuple[ToolId, ...]  # the parsers that read its reports
    install: str  # the command that installs it, shown when it is missing
    timeout: float  # default seconds; `.tollgate.yml` or --timeout override it
    homepage: str
    ok_exit_codes: frozenset[int] = frozenset({0})
    # In the zero-setup default. Only such a scanner may be skipped when it cannot run; one the
    # user enabled or asked for fails the scan instead.
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict, compare=False)  # option -> its JSON Schema
    defaults: Mapping[str, Any] = field(default_factory=dict, compare=False)  # option -> embedded default
    action_inputs: tuple[ActionInput, ...] = ()
    dast_engine: bool = False
    # What the composite actions prepare on the runner before it runs (pipeline/action/plan.py): `checkov`
    # (its own venv), `dependency-check` (the CLI, its data cache), `trivy-db` (the DB cache), `zap` (a daemon).
    runner_setup: tuple[str, ...] = ()
    # For the scan's schedule (pipeline/scanners/schedule.py): the wall seconds a small repository takes, used
    # until a scan has measured it here; its peak memory; and whether it keeps a core busy (a scanner that
    # polls a server, like ZAP or SonarQube, takes no core and runs beside the others).
    expected_seconds: float = 10.0
    memory_mb: int = 300
    uses_core: bool = True


@dataclass(frozen=True)
class ScanContext:
    """What every scanner may look at. Paths are absolute; DAST targets already passed the scope guard."""

    source: Path
    work_dir: Path
    image: str | None = None
    dast_targets: tuple[GuardedTarget, ...] = ()
    exclude: tuple[str, ...] = ()  # folder names or relative paths (globs) that no scanner reads
    # Also left out of SAST and secrets scans: tests, docs, examples, vendored and generated code.
    source_exclude: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    config_path: Path | None = None  # the .tollgate.yml in use; the supply-chain firewall reads its own section
    dast_allow: Allowlist | None = None  # the DAST allowlist the targets passed; engines are held to it
    dast_proxy: str | None = None  # Tollgate's scope proxy (pipeline/scope_proxy.py) while an engine runs

    @property
    def dast_scope(self) -> Allowlist:
        """The allowlist, or without one (a context built for one target) exactly the targets' hosts and ports."""
        if self.dast_allow is not None:
            return self.dast_allow
        return Allowlist(tuple(HostPattern(host=t.host, port=t.port) for t in self.dast_targets))

    def exclusions(self, spec: ScannerSpec) -> Exclusions:
        """What this scanner leaves out: `scan.exclude`, and for SAST and secrets `scan.source-exclude` too."""
        reads_source = spec.category in (Category.SAST, Category.SECRETS)
        return Exclusions.of(self.exclude + (self.source_exclude if reads_source else ()))

    def folder(self, name: ScannerName) -> Path:
        """The scanner's own folder for reports, logs and temp files; created on demand."""
        path = self.work_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Options:
    """One scanner's options from `.tollgate.yml` (kebab-case keys), already schema-checked."""

    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> Options:
        return cls(tuple(sorted(mapping.items())))

    def get(self, key: str, default: Any = None) -> Any:
        return next((value for name, value in self.values if name == key), default)


class SkipKind(str, enum.Enum):
    NOT_INSTALLED = "not installed"
    NOT_CONFIGURED = "not configured"
    NOTHING_TO_SCAN = "nothing to scan"


@dataclass(frozen=True)
class SkipReason:
    kind: SkipKind
    message: str


@dataclass(frozen=True)
class ReportFile:
    path: Path
    tool_id: ToolId


@dataclass(frozen=True)
class ScannerOutput:
    reports: tuple[ReportFile, ...]
    notes: tuple[str, ...] = ()  # facts worth printing, e.g. SonarQube's quality gate status
    # The tool's processes' (children included), or its own threads'; the calling thread's is the caller's to add.
    cpu_seconds: float = 0.0


@dataclass(frozen=True)
class Exited:
    code: int
    cpu_seconds: float  # user + system, the process and the children it waited for


@dataclass(frozen=True)
class Invocation:
    argv: tuple[str, ...]
    cwd: Path
    report: Path
    env: tuple[tuple[str, str], ...] = ()  # added to (or overriding) the inherited environment
    stdout_is_report: bool = False  # detect-secrets prints its baseline instead of writing a file
    secret_files: tuple[Path, ...] = ()  # credential files written for the tool: removed when the run ends


class Scanner(abc.ABC):
    spec: ScannerSpec

    @abc.abstractmethod
    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        """None when the scanner can run here; otherwise why not (with the install command)."""

    @abc.abstractmethod
    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        """Run to completion before `deadline` (time.monotonic()); ScannerError on failure."""

    def not_installed(self, what: str) -> SkipReason:
        return SkipReason(SkipKind.NOT_INSTALLED, f"{what} not found; install it with: {self.spec.install}")


class CommandScanner(Scanner):
    """A scanner that is a subprocess (one per invocation: Wapiti runs once per DAST target)."""

    executable: str  # looked up on PATH

    def locate(self, ctx: ScanContext, options: Options) -> str | None:
        return which(self.executable, ctx)

    def applicable(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        """Whether there is anything for this tool to scan; most source scanners always have."""
        return None

    @abc.abstractmethod
    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        """The argv, working directory and report path of each run (one per DAST target for Wapiti)."""

    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        nothing_to_do = self.applicable(ctx, options)
        if nothing_to_do is None and self.locate(ctx, options) is None:
            return self.not_installed(f"{self.spec.title} ({self.executable})")
        return nothing_to_do

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        executable = self.locate(ctx, options)
        if executable is None:
            raise ScannerError(f"{self.spec.title}: {self.executable} disappeared from PATH", self.spec.install)
        log = ctx.folder(self.spec.name) / "output.log"
        log.unlink(missing_ok=True)
        invocations = self.invocations(ctx, options, executable)
        try:
            exits = tuple(self.run_one(invocation, ctx, log, deadline) for invocation in invocations)
        finally:  # success, failure or timeout: no credential file outlives the run, no secret stays in the log
            for invocation in invocations:
                for secret_file in invocation.secret_files:
                    secret_file.unlink(missing_ok=True)
            mask_file(log)
        reports = tuple(ReportFile(invocation.report, self.spec.tool_ids[0]) for invocation in invocations)
        return ScannerOutput(reports=reports, cpu_seconds=sum(exited.cpu_seconds for exited in exits))

    def run_one(self, invocation: Invocation, ctx: ScanContext, log: Path, deadline: float) -> Exited:
        invocation.report.unlink(missing_ok=True)  # a stale report must never pass for a fresh one
        exited = run_command(invocation, ctx.env, log, deadline)
        if exited.code not in self.spec.ok_exit_codes:
            raise ScannerError(f"{self.spec.title} exited with status {exited.code}: {log_tail(log)}")
        if not invocation.report.is_file() or invocation.report.stat().st_size == 0:
            raise ScannerError(f"{self.spec.title} wrote no report at {invocation.report}: {log_tail(log)}")
        return exited


def which(command: str, ctx: ScanContext) -> str | None:
    """`command` on PATH, or beside this Python: `pip install tollgate[scanners]` puts the tools there,
    and a venv's tollgate is often run without activating the venv."""
    search = os.pathsep.join(filter(None, (ctx.env.get("PATH"), sysconfig.get_path("scripts"))))
    return shutil.which(command, path=search)



def run_command(invocation: Invocation, base_env: Mapping[str, str], log: Path, deadline: float) -> Exited:
    """Run one argv in its own process group, stdout/stderr to `log`; kill the group at the deadline."""
    env = {**base_env, **dict(invocation.env)}
    stdout_path = invocation.report if invocation.stdout_is_report else log
    with open(log, "ab") as log_handle, open(stdout_path, "ab") as out_handle:
        process = subprocess.Popen(  # noqa: S603 - an argv list built by the runner, no shell
            list(invocation.argv),
            cwd=invocation.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out_handle,
            stderr=log_handle,
            start_new_session=True,  # its own group, so a timeout also kills its children
        )
        try:
            with termination.child(process):
                return reap(process, deadline)
        except subprocess.TimeoutExpired:
            kill_group(process)
            raise ScannerTimeout(f"{Path(invocation.argv[0]).name} ran past its timeout and was stopped") from None
        except BaseException:
            kill_group(process)  # Ctrl-C or a crash must not leave scanners running
            raise


def reap(process: subprocess.Popen[bytes], deadline: float) -> Exited:
    """Wait for the process with wait4, which also returns what that one process and its children used, so
    concurrent scanners' CPU stays apart. Where the kernel gives a pidfd (Linux 5.3+), sleep until the exit
    itself: the next scanner starts at once, not at the next poll. Elsewhere, poll as Popen.wait does."""
    pidfd = _pidfd(process.pid)
    delay = 0.0005
    try:
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                return Exited(process.returncode, usage.ru_utime + usage.ru_stime)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(process.args, 0)
            if pidfd is None:
                delay = min(delay * 2, remaining, 0.05)
                time.sleep(delay)
            else:
                _await_readable(pidfd, remaining)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _pidfd(pid: int) -> int | None:
    """None where there is none: not Linux, a kernel before 5.3, or a sandbox that refuses the call."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _await_readable(fd: int, seconds: float) -> None:
    """A pidfd turns readable when its process exits; poll, unlike select, takes any descriptor number."""
    waiting = select.poll()
    waiting.register(fd, select.POLLIN)
    waiting.poll(math.ceil(seconds * 1000))


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group may have exited already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a scanner's log, for an error message the user can act on."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "(no output)"
    tail = text.splitlines()[-lines:]
    return " | ".join(line.strip() for line in tail if line.strip()) or "(no output)"


def find_files(ctx: ScanContext, matches: Callable[[str], bool], limit: int = 1000) -> list[Path]:
    """Files under the source (relative paths, sorted) whose name `matches(name)`, skipping excludes."""
    excluded = Exclusions.of(ctx.exclude)
    found: list[Path] = []
    for root, dirs, files in os.walk(ctx.source):
        relative_root = Path(root).relative_to(ctx.source)
        dirs[:] = sorted(d for d in dirs if not excluded.excludes((relative_root / d).as_posix()))
        found.extend(relative_root / name for name in sorted(files) if matches(name))
        if len(found) >= limit:
            break
    return found[:limit]
