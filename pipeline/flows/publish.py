"""The publish flows: Tollgate results files -> Security Hub (with the finding lifecycle), or -> the report
bucket, whose importer Lambda publishes them with the same lifecycle.

`tollgate publish securityhub|s3` and the action's `securityhub` step come here; the importer Lambda,
which starts from a report in S3, calls `pipeline.publish.securityhub.publish` after normalizing.
Both flows first ask `pipeline.publish.eligibility` whether this run may change Security Hub at all:
a pull-request run, or a branch that is neither the default one nor a named environment, is a
no-op with one line (docs/security-hub.md). boto3 is imported only when a publish runs.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from normalizers.model import Scope
from normalizers.results import Results, results_to_dict
from pipeline.ci_scope import require_publishable
from pipeline.errors import ConfigError, PublishError
from pipeline.flows.results_files import combine_results, load_results
from pipeline.publish.eligibility import Eligibility, eligibility_from
from pipeline.publish.lifecycle import DEFAULT_REFRESH_INTERVAL
from pipeline.publish.ratelimit import IMPORT_RATE, Rate
from pipeline.publish.s3 import DEFAULT_PREFIX, Upload

if TYPE_CHECKING:
    from pipeline.publish.securityhub import PublishOutcome

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class PublishFlowRequest:
    results: tuple[Path, ...]
    region: str | None  # required; None is reported as the error it is
    endpoint_url: str | None = None
    account: str | None = None  # default: the caller's, from STS
    scope_environment: str | None = None  # scopes identity and archiving; the branch never does
    categories: frozenset[str] = frozenset()  # scanned even when nothing is left there, so fixed ones archive
    import_rate: Rate = IMPORT_RATE
    refresh_interval: timedelta = DEFAULT_REFRESH_INTERVAL
    env: Mapping[str, str] | None = None  # the CI variables that say pull request and default branch; None: ours
    verify: bool = False  # read back what landed; a missing finding fails like one not imported


@dataclass(frozen=True)
class S3FlowRequest:
    results: tuple[Path, ...]
    bucket: str
    prefix: str = DEFAULT_PREFIX
    endpoint_url: str | None = None
    region: str | None = None
    scope_environment: str | None = None
    categories: frozenset[str] = frozenset()
    env: Mapping[str, str] | None = None


@dataclass(frozen=True)
class PublishFlowOutcome:
    """What the run did: nothing (with the reason), a Security Hub import, or an upload to the bucket."""

    eligibility: Eligibility
    outcome: PublishOutcome | None = None
    uploaded: Upload | None = None
    findings: int = 0  # in the uploaded results


@dataclass(frozen=True)
class _Prepared:
    results: Results
    scope: Scope
    eligibility: Eligibility


def _prepare(paths: tuple[Path, ...], scope_environment: str | None, env: Mapping[str, str] | None) -> _Prepared:
    if not paths:
        raise ConfigError("no results file to publish", "did the scan step run?")
    results = combine_results(load_results(paths))
    scope = results.scope
    require_publishable(scope)
    if scope_environment:
        scope = dataclasses.replace(scope, environment=scope_environment)
    return _Prepared(results, scope, eligibility_from(os.environ if env is None else env, scope))


def publish_results(request: PublishFlowRequest) -> PublishFlowOutcome:
    """Publish; the caller shows the outcome, then `require_imported` decides the exit."""
    from pipeline.publish.securityhub import PublishRequest, PublishSettings, publish  # noqa: PLC0415 - lazy

    if not request.region:
        raise ConfigError("no AWS region", "pass --region or set AWS_REGION")
    if request.account is not None and not _ACCOUNT.match(request.account):
        raise ConfigError(f"--account must be a 12-digit AWS account id, got {request.account!r}")
    prepared = _prepare(request.results, request.scope_environment, request.env)
    if not prepared.eligibility.publish:
        return PublishFlowOutcome(prepared.eligibility)
    outcome = publish(
        PublishRequest(findings=prepared.results.findings, scope=prepared.scope, categories=request.categories,
                       account=request.account),
        PublishSettings(region=request.region, endpoint_url=request.endpoint_url, import_rate=request.import_rate,
                        refresh_interval=request.refresh_interval, verify=request.verify),
    )
    return PublishFlowOutcome(prepared.eligibility, outcome)


def upload_results(request: S3FlowRequest, now: datetime | None = None) -> PublishFlowOutcome:
    """One results object (every file combined) under `<prefix><owner>/<repo>/`, for the importer."""
    from pipeline.publish.s3 import plan_upload, upload  # noqa: PLC0415 - lazy: botocore only when publishing
    from pipeline.publish.securityhub import aws_session  # noqa: PLC0415

    prepared = _prepare(request.results, request.scope_environment, request.env)
    if not prepared.eligibility.publish:
        return PublishFlowOutcome(prepared.eligibility)
    results = dataclasses.replace(prepared.results, scope=prepared.scope)
    categories = request.categories | {finding.category.value for finding in results.findings}
    target = plan_upload(request.bucket, request.prefix, prepared.scope, categories, now or datetime.now(timezone.utc))
    client = aws_session().client("s3", endpoint_url=request.endpoint_url, region_name=request.region)
    upload(client, target, orjson.dumps(results_to_dict(results)))
    return PublishFlowOutcome(prepared.eligibility, uploaded=target, findings=len(results.findings))


def require_imported(result: PublishFlowOutcome) -> None:
    """PublishError (exit 3) when any finding was not imported, or was imported but not found on reading back."""
    outcome = result.outcome
    if outcome is None:
        return
    if outcome.failed:
        raise PublishError(f"{len(outcome.failed)} findings were not imported into Security Hub")
    if outcome.verification is not None and outcome.verification.missing:
        raise PublishError(f"{len(outcome.verification.missing)} imported findings were not found in Security Hub "
                           f"through {outcome.verification.api}")
