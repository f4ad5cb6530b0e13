"""The Lambda entry points of the vetting state machine (terraform/modules/package-vetting/vetting.asl.json).

One package (the same zip as the findings importer), one handler per step, each deployed as its
own function with its own role. The state machine's input is `PackageVersion.event()`; each step
adds its result under its own key (`check`, `fetch`, `intake`, `copy`) and the failure path gets
`error` ({"Error", "Cause"}) from the Catch.

| handler | does | status written |
|---|---|---|
| `check` | claims the version (else `duplicate`), runs the firewall (`tollgate firewall check`) | REQUESTED, CHECK |
| `block` | records the reasons and imports them into Security Hub | BLOCKED |
| `fetch` | pulls the version into intake: endpoint (default) or SSM Run Command | - |
| `await_intake` | is it Published in intake yet? `ready`, `waiting` or `timeout` | - |
| `copy` | CopyPackageVersions intake -> vetted | SECURE |
| `fail` | records why the vetting did not finish | FAILED |

Configuration is the environment (TOLLGATE_VETTING_*), read at each call; a missing variable
fails the step with its name. The firewall reads `TOLLGATE_VETTING_FIREWALL_CONFIG` (the
text of a .tollgate.yml; its `firewall:` section), caches registry answers under /tmp, and is
offline (cache only) when `TOLLGATE_VETTING_OFFLINE=1`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.config_file import load_section
from pipeline.errors import ConfigError, PublishError
from pipeline.firewall.config import firewall_config_from_section
from pipeline.firewall.engine import Firewall
from pipeline.firewall.model import DeclaredPackage
from pipeline.firewall.registry import Registry, Status
from pipeline.firewall.reputation import RiskLevel
from pipeline.publish.lambda_handler import account_of
from pipeline.publish.securityhub import PublishSettings
from pipeline.vetting import aws
from pipeline.vetting.blocked_finding import MANIFEST, publish_blocked, verdict_records
from pipeline.vetting.codeartifact import PUBLISHED, CodeArtifact, Repository
from pipeline.vetting.intake import SSM_TERMINAL_FAILURES, EndpointFetcher, InstallFailed, SsmFetcher
from pipeline.vetting.model import PackageVersion, VettingStatus
from pipeline.vetting.status_table import DAY, StatusTable

LOG = logging.getLogger("tollgate.vetting")
LOG.setLevel(logging.INFO)

PREFIX = "TOLLGATE_VETTING_"
DEFAULT_CACHE_DIR = "/tmp/tollgate-registry"  # noqa: S108 - Lambda's only writable place
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
MAX_REASONS = 20


class CheckUnavailable(Exception):
    """The firewall could not read the registry and found nothing else: retry later, never BLOCKED for it."""


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(PREFIX + name, default)
    if value is None or value == "":
        raise ConfigError(f"{PREFIX}{name} is not set")
    return value


def now() -> int:
    return int(time.time())


def table() -> StatusTable:
    days = int(env("TTL_DAYS", "90"))
    return StatusTable(aws.client("dynamodb"), env("TABLE"), final_ttl=days * DAY)


def repository(package: PackageVersion, role: str) -> Repository:
    """The intake or vetted repository of the package's ecosystem (TOLLGATE_VETTING_REPOSITORIES)."""
    names = json.loads(env("REPOSITORIES"))
    return Repository(env("DOMAIN"), env("DOMAIN_OWNER"), str(names[package.ecosystem.value][role]))


def firewall() -> Firewall:
    """The engine for the current configuration; kept across warm invocations (its indexes take a while)."""
    return _firewall(os.environ.get(PREFIX + "FIREWALL_CONFIG", ""), os.environ.get(PREFIX + "OFFLINE") == "1")


@functools.lru_cache(maxsize=2)
def _firewall(text: str, offline: bool) -> Firewall:
    section = (load_section(text, PREFIX + "FIREWALL_CONFIG", "firewall") if text.strip() else None) or {}
    registry = dict(section.get("registry") or {})
    registry.setdefault("cache-dir", DEFAULT_CACHE_DIR)
    config = firewall_config_from_section({**section, "registry": registry}, PREFIX + "FIREWALL_CONFIG",
                                          Path(DEFAULT_CACHE_DIR))
    return Firewall(config, Registry(replace(config.registry, offline=config.registry.offline or offline)))


def allowed_levels() -> frozenset[str]:
    levels = frozenset(level.strip() for level in env("ALLOWED_RISK_LEVELS", RiskLevel.GREEN.value).split(","))
    if RiskLevel.RED.value in levels or not levels <= {RiskLevel.GREEN.value, RiskLevel.YELLOW.value}:
        raise ConfigError(f"{PREFIX}ALLOWED_RISK_LEVELS must be Green or Green,Yellow, never Red")
    return levels


# ------------------------------------------------------------------------------------------------
# Steps
# ------------------------------------------------------------------------------------------------


def check(event: dict[str, Any], context: Any) -> dict[str, Any]:
    package = PackageVersion.from_event(event)
    status = table()
    if not status.request(package, now(), int(env("STALE_SECONDS", "3600"))):
        LOG.info("%s: answered or under way in another execution", package)
        return {"duplicate": True, "passed": False}
    status.record(package, VettingStatus.CHECK, now())
    declared = DeclaredPackage(package.name, package.ecosystem, MANIFEST, 1, spec=f"=={package.version}",
                               version=package.version)
    verdict = firewall().check(declared)
    hits = verdict.all_hits()
    if verdict.lookup is Status.UNKNOWN and verdict.score is None and not verdict.trusted and not hits:
        raise CheckUnavailable(f"{package}: {verdict.metadata}; nothing else flags it, so it is neither passed "
                               "nor blocked")
    score = verdict.score.points if verdict.score else None
    reasons = [f"{hit.rule.value} {hit.severity.value}: {hit.title}" for hit in hits]
    reasons += [f"{reason.detail}: +{reason.points}" for reason in (verdict.score.reasons if verdict.score else ())]
    passed = verdict.risk_level.value in allowed_levels()
    LOG.info("%s: %s (%s)", package, verdict.risk_level.value, "passed" if passed else "blocked")
    return {"duplicate": False, "passed": passed, "risk_level": verdict.risk_level.value, "score": score,
            "reasons": reasons[:MAX_REASONS], "findings": verdict_records(verdict), "metadata": verdict.metadata}


def block(event: dict[str, Any], context: Any) -> dict[str, Any]:
    package = PackageVersion.from_event(event)
    verdict = event["check"]
    table().record(package, VettingStatus.BLOCKED, now(), score=verdict.get("score"), reasons=verdict["reasons"],
                   detail=f"the firewall's risk level is {verdict['risk_level']}")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    outcome = publish_blocked(verdict["findings"], package, env("DOMAIN"), settings=PublishSettings(region=region),
                              account=account_of(context))
    if outcome.failed:
        raise PublishError(f"{len(outcome.failed)} findings of {package} were not imported: "
                           f"{outcome.failed[0].code}")
    return {"imported": outcome.imported, "updated": outcome.updated}


def fetch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    package = PackageVersion.from_event(event)
    intake = repository(package, "intake")
    codeartifact = CodeArtifact(aws.client("codeartifact"))
    endpoint = codeartifact.endpoint(intake, package.ecosystem.value)
    poll_seconds = int(env("POLL_SECONDS", "10"))
    if env("FETCH_MODE", "endpoint") == "ssm":
        key, _, value = env("SSM_TARGET").partition("=")
        fetcher = SsmFetcher(aws.client("ssm"), (key, value), intake.domain, intake.owner,
                             os.environ.get("AWS_REGION", "us-east-1"), os.environ.get(PREFIX + "SSM_OUTPUT_BUCKET"))
        return {"mode": "ssm", "command_id": fetcher.send(package, endpoint), "poll_seconds": poll_seconds}
    fetched = EndpointFetcher(endpoint, codeartifact.token(intake), int(env("MAX_BYTES", str(DEFAULT_MAX_BYTES)))
                              ).fetch(package)
    return {"mode": "endpoint", "files": list(fetched.files), "bytes": fetched.total_bytes,
            "poll_seconds": poll_seconds}


def await_intake(event: dict[str, Any], context: Any) -> dict[str, Any]:
    package = PackageVersion.from_event(event)
    polls = int((event.get("intake") or {}).get("polls", 0)) + 1
    command_id = (event.get("fetch") or {}).get("command_id")
    if command_id:
        state = SsmFetcher(aws.client("ssm"), ("", ""), "", "", "").state(command_id)
        if state in SSM_TERMINAL_FAILURES:
            raise InstallFailed(f"the SSM command {command_id} that pulls {package} ended {state}")
        if state != "Success":
            return _waiting(polls)
    status = CodeArtifact(aws.client("codeartifact")).status(repository(package, "intake"), package)
    return {"state": "ready", "polls": polls} if status == PUBLISHED else _waiting(polls)


def _waiting(polls: int) -> dict[str, Any]:
    return {"state": "timeout" if polls >= int(env("MAX_POLLS", "30")) else "waiting", "polls": polls}


def copy(event: dict[str, Any], context: Any) -> dict[str, Any]:
    package = PackageVersion.from_event(event)
    revision = CodeArtifact(aws.client("codeartifact")).copy(repository(package, "intake"),
                                                             repository(package, "vetted"), package)
    verdict = event.get("check") or {}
    table().record(package, VettingStatus.SECURE, now(), score=verdict.get("score"),
                   reasons=verdict.get("reasons") or (), detail=f"copied to the vetted repository ({revision})")
    return {"revision": revision}


def fail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    package = PackageVersion.from_event(event)
    error = event.get("error") or {}
    detail = f"{error.get('Error', 'unknown error')}: {_cause(error.get('Cause'))}"
    table().record(package, VettingStatus.FAILED, now(), detail=detail)
    LOG.warning("%s: vetting failed: %s", package, detail)
    return {"detail": detail}


def _cause(cause: Any) -> str:
    """A Lambda error's message (its Cause is the error document as JSON), or the Cause as it is."""
    try:
        document = json.loads(cause)
    except (TypeError, ValueError):
        return str(cause or "no cause given")
    return str(document.get("errorMessage", cause)) if isinstance(document, dict) else str(cause)
