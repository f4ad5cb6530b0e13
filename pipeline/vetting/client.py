"""`tollgate firewall install`: ask for vetting, wait for the answers, install from the vetted repository.

1. **Ask.** Each version's status is read from the table. SECURE is answered at once; BLOCKED
   too. Anything else (no item, FAILED, REQUESTED or CHECK) starts an execution of the state
   machine: its check step claims the version, so it ends at once when another execution is
   alive and takes over from one that died. The execution name is the version's key hashed, with
   the attempt it follows and the day, so clients asking together start one execution.
2. **Wait.** The table is polled every `poll_seconds` until every version has a final answer or
   `timeout_seconds` passed; each change of status is printed with the time waited. The FAILED
   item found when asking belongs to an earlier attempt and is waited past until a new attempt
   claims the version (its `requested_at` changes).
3. **Answer.** Any BLOCKED version: its reasons are printed and nothing is installed (exit 1).
   Any FAILED version or a timeout: exit 3, with the reason or the versions still pending.
   Otherwise the installer runs against the vetted repository with a CodeArtifact token
   (pipeline/vetting/installer.py); its failure is exit 3.

The client needs only `dynamodb:GetItem`, `states:StartExecution` and read access to the vetted
repositories (the module's client policy): it never writes the table.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from pipeline.errors import ExitCode, TollgateError
from pipeline.firewall.model import Ecosystem
from pipeline.vetting import installer
from pipeline.vetting.codeartifact import CodeArtifact, Repository
from pipeline.vetting.installer import InstallCommand
from pipeline.vetting.model import PackageVersion, StatusRecord, VettingStatus
from pipeline.vetting.status_table import StatusTable
from pipeline.vetting.wanted import Wanted


class VettingError(TollgateError):
    """The vetting could not answer: AWS refused a call, a vetting FAILED, or the wait timed out."""

    exit_code = ExitCode.TOOL_FAILED


@dataclass(frozen=True)
class VettingBackend:
    table: StatusTable
    states: Any  # a boto3 Step Functions client
    state_machine_arn: str


@dataclass
class Waiting:
    """One version being waited for: what was last seen, and whether this client asked for it."""

    package: PackageVersion
    seen: StatusRecord | None
    asked: bool = False  # this client started an execution
    before: StatusRecord | None = None  # the item when it asked: a FAILED one is the last attempt's
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Answers:
    records: tuple[StatusRecord, ...]
    pending: tuple[PackageVersion, ...] = ()

    def with_status(self, status: VettingStatus) -> list[StatusRecord]:
        return [record for record in self.records if record.status is status]


@dataclass
class VettingClient:
    backend: VettingBackend
    out: TextIO | None = None  # None: the stderr of the moment
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def vet(self, packages: Sequence[PackageVersion], timeout_seconds: float, poll_seconds: float) -> Answers:
        started = self.clock()
        waiting = [self._ask(package) for package in packages]
        answered: list[StatusRecord] = []
        while True:
            still = []
            for item in waiting:
                if item.seen is not None and self._final(item):
                    answered.append(item.seen)
                else:
                    still.append(item)
            waiting = still
            if not waiting:
                return Answers(tuple(answered))
            elapsed = self.clock() - started
            if elapsed >= timeout_seconds:
                for item in waiting:
                    self.say(f"{item.package}: no answer after {elapsed:.0f} s "
                              f"(last status: {item.seen.status.value if item.seen else 'none'})")
                return Answers(tuple(answered), tuple(item.package for item in waiting))
            self.sleep(min(poll_seconds, max(timeout_seconds - elapsed, 0.0)))
            for item in waiting:
                self._refresh(item, started)

    def _ask(self, package: PackageVersion) -> Waiting:
        record = self._get(package)
        item = Waiting(package, record)
        if record is not None and record.status.final:
            self.say(f"{package}: {record.status.value} (answered earlier)")
            return item
        # Asked even when another vetting is under way: that execution ends at once if the other one
        # is alive (the check step's claim), and takes over if it died.
        item.asked, item.before = True, record
        self._start(package, record)
        why = {None: "", VettingStatus.FAILED: " again (the last vetting FAILED)"}.get(
            record.status if record else None, f" (another vetting is at {record.status.value if record else ''})")
        self.say(f"{package}: vetting requested{why}")
        return item

    def _final(self, item: Waiting) -> bool:
        record = item.seen
        if record is None:
            return False
        if record.status is VettingStatus.FAILED:
            # The FAILED item found when asking is the last attempt's answer, not this one's: a new attempt
            # claims the version afresh (a new requested_at). Compared, never timed: clocks differ.
            return not item.asked or item.before is None or record.requested_at != item.before.requested_at
        return record.status.final

    def _refresh(self, item: Waiting, started: float) -> None:
        record = self._get(item.package)
        if record is not None and (item.seen is None or (record.status, record.updated_at) != (
                item.seen.status, item.seen.updated_at)):
            if item.seen is None or record.status is not item.seen.status:
                self.say(f"{item.package}: {record.status.value} after {self.clock() - started:.0f} s")
            item.seen = record

    def _get(self, package: PackageVersion) -> StatusRecord | None:
        try:
            return self.backend.table.get(package)
        except (BotoCoreError, ClientError) as exc:
            raise VettingError(f"cannot read the vetting status of {package}: {_code(exc)}",
                               "the role needs dynamodb:GetItem on the status table (the module's client policy)"
                               ) from None

    def _start(self, package: PackageVersion, before: StatusRecord | None) -> None:
        # Clients that saw the same item on the same day ask with one name (Step Functions starts it once);
        # after a FAILED attempt the item's requested_at is new, and so is the name.
        digest = hashlib.sha256(package.key.encode()).hexdigest()[:32]
        name = f"{package.ecosystem.value}-{digest}-{before.requested_at if before else 0}-{int(self.clock()) // 86400}"
        try:
            self.backend.states.start_execution(stateMachineArn=self.backend.state_machine_arn, name=name,
                                                input=json.dumps(package.event()))
        except ClientError as exc:
            if _code(exc) == "ExecutionAlreadyExists":
                return  # another client asked for the same attempt
            raise VettingError(f"cannot start the vetting of {package}: {_code(exc)}",
                               "the role needs states:StartExecution on the state machine (the module's client "
                               "policy)") from None
        except BotoCoreError as exc:
            raise VettingError(f"cannot start the vetting of {package}: {exc}") from None

    def say(self, line: str) -> None:
        print(f"tollgate firewall: {line}", file=self.out or sys.stderr, flush=True)


def _code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(exc).__name__)


# ------------------------------------------------------------------------------------------------
# The whole install: vet, answer, install
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstallRequest:
    ecosystem: Ecosystem
    wanted: Wanted
    vetted: Repository
    timeout_seconds: float
    poll_seconds: float
    extra_arguments: tuple[str, ...] = ()


def install(request: InstallRequest, client: VettingClient, codeartifact: CodeArtifact,
            run_installer: Callable[[InstallCommand], int] = installer.run) -> int:
    """0 installed; 1 a version is BLOCKED (nothing installed); VettingError (3): FAILED, timeout, installer."""
    answers = client.vet(request.wanted.versions, request.timeout_seconds, request.poll_seconds)
    blocked = answers.with_status(VettingStatus.BLOCKED)
    for record in blocked:
        score = "n/a" if record.score is None else str(record.score)
        client.say(f"BLOCKED: {record.package} (score {score}): {record.detail}")
        for reason in record.reasons:
            client.say(f"  - {reason}")
    if blocked:
        client.say(f"{len(blocked)} of {len(request.wanted.versions)} versions are BLOCKED; nothing was installed")
        return ExitCode.GATE_FAILED
    failed = answers.with_status(VettingStatus.FAILED)
    if failed or answers.pending:
        for record in failed:
            client.say(f"FAILED: {record.package}: {record.detail}")
        pending = ", ".join(str(package) for package in answers.pending)
        raise VettingError(
            f"{len(failed)} vettings failed, {len(answers.pending)} not answered in {request.timeout_seconds:.0f} s"
            + (f" ({pending})" if pending else "") + "; nothing was installed",
            "run it again: a FAILED or unfinished vetting is asked for again" + (
                "; a longer --timeout waits longer" if answers.pending else ""))
    client.say(f"{len(answers.records)} versions vetted (SECURE); installing from {request.vetted.name}")
    try:
        token = codeartifact.token(request.vetted)
        endpoint = codeartifact.endpoint(request.vetted, request.ecosystem.value)
    except (BotoCoreError, ClientError) as exc:
        raise VettingError(f"cannot reach the vetted repository {request.vetted.name}: {_code(exc)}",
                           "the role needs codeartifact:GetAuthorizationToken, GetRepositoryEndpoint and "
                           "ReadFromRepository, and sts:GetServiceBearerToken (the module's client policy)") from None
    arguments = (*request.wanted.installer_arguments, *request.extra_arguments)
    status = run_installer(installer.command_for(request.ecosystem, endpoint, token, arguments))
    if status != 0:
        tool = "pip" if request.ecosystem is Ecosystem.PYPI else "npm"
        raise VettingError(f"{tool} exited with {status}",
                           "a dependency that was not vetted is not in the vetted repository: vet a lockfile or "
                           "requirements file that pins every dependency")
    return ExitCode.PASSED
