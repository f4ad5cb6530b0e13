"""The guard step: which side effects this run may have, so a pull request never goes red for a reason
that is not its code.

- A pull request from a fork gets a read-only token and no OIDC token: the SARIF upload and the AWS
  steps would fail. Both are skipped, always, with a notice.
- Any other pull-request run skips the AWS steps (OIDC credentials, Security Hub) with a notice,
  unless the caller opts in with `aws-on-pull-request: true`, after making the role trust pull
  requests: the role module trusts none by default.

A fork's pull request is one whose head repository is not the base repository, or is gone. The
payload's `head.repo.fork` alone would be wrong both ways: it is also true for the pull requests
inside a repository that is itself a fork, whose token can write. The event is read as the runner
gives it: `$GITHUB_EVENT_NAME` and the payload at `$GITHUB_EVENT_PATH`; an unreadable payload of a
pull-request event counts as a fork, so the guard fails closed.

Outputs: `upload-sarif`, `securityhub` and `assume-role`, each true or false.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pipeline.action.env import Env, flag, text, write_outputs
from pipeline.errors import ConfigError, ExitCode

PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target", "pull_request_review",
                                 "pull_request_review_comment"})
SECURITYHUB_CHOICES = ("auto", "true", "false")


@dataclass(frozen=True)
class Event:
    pull_request: bool
    fork: bool

    @classmethod
    def from_env(cls, env: Env) -> Event:
        if text(env, "GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
            return cls(pull_request=False, fork=False)
        return cls(pull_request=True, fork=from_fork(read_payload(env)))


def read_payload(env: Env) -> dict[str, Any]:
    try:
        with open(text(env, "GITHUB_EVENT_PATH"), encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def from_fork(payload: dict[str, Any]) -> bool:
    pull_request = payload.get("pull_request") or {}
    head = ((pull_request.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pull_request.get("base") or {}).get("repo") or {}).get("full_name")
    return not head or not base or head != base


@dataclass(frozen=True)
class Guards:
    upload_sarif: bool
    securityhub: bool
    assume_role: bool
    notices: tuple[str, ...]


def decide(env: Env, event: Event) -> Guards:
    choice = text(env, "TOLLGATE_SECURITYHUB", "auto").lower()
    if choice not in SECURITYHUB_CHOICES:
        raise ConfigError(f"input securityhub: expected auto, true or false, got {choice!r}")
    role = text(env, "TOLLGATE_AWS_ROLE_ARN")
    upload = flag(env, "TOLLGATE_UPLOAD_SARIF", True)
    securityhub = choice == "true" or (choice == "auto" and bool(role))
    notices = []
    if upload and event.fork:
        upload = False
        notices.append("SARIF upload skipped: a pull request from a fork gets a read-only token; "
                       "its alerts appear once the change is merged and scanned")
    if securityhub and event.fork:
        securityhub = False
        notices.append("Security Hub skipped: a pull request from a fork gets no AWS credentials")
    elif securityhub and event.pull_request and not flag(env, "TOLLGATE_AWS_ON_PULL_REQUEST", False):
        securityhub = False
        notices.append("Security Hub skipped on a pull request; set aws-on-pull-request: true once the role "
                       "trusts pull requests")
    return Guards(upload, securityhub, securityhub and bool(role), tuple(notices))


def command_guard(env: Env) -> int:
    guards = decide(env, Event.from_env(env))
    for notice in guards.notices:
        print(f"::notice title=Tollgate::{notice}")
    write_outputs({"upload-sarif": str(guards.upload_sarif).lower(), "securityhub": str(guards.securityhub).lower(),
                   "assume-role": str(guards.assume_role).lower()}, env)
    return ExitCode.PASSED
