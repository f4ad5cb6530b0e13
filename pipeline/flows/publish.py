"""The publish flow: Tollgate results files -> Security Hub, with the finding lifecycle.

`tollgate publish securityhub` and the action's `securityhub` step both come here; the importer
Lambda, which starts from a scanner report in S3 rather than results files, calls the same
`pipeline.publish.securityhub.publish` after normalizing. boto3 is imported only when a publish runs.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.ci_scope import require_publishable
from pipeline.errors import ConfigError, PublishError
from pipeline.flows.results_files import combine_results, load_results
from pipeline.publish.ratelimit import IMPORT_RATE, Rate

if TYPE_CHECKING:
    from pipeline.publish.securityhub import PublishOutcome

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class PublishFlowRequest:
    results: tuple[Path, ...]
    region: str | None  # required; None is reported as the error it is
    endpoint_url: str | None = None
    account: str | None = None  # default: the caller's, from STS
    scope_environment: str | None = None  # scopes identity and archiving instead of the branch
    categories: frozenset[str] = frozenset()  # scanned even when nothing is left there, so fixed ones archive
    import_rate: Rate = IMPORT_RATE


def publish_results(request: PublishFlowRequest) -> PublishOutcome:
    """Publish; the caller shows the outcome, then `require_imported` decides the exit."""
    from pipeline.publish.securityhub import PublishRequest, PublishSettings, publish  # noqa: PLC0415 - lazy

    if not request.results:
        raise ConfigError("no results file to publish", "did the scan step run?")
    if not request.region:
        raise ConfigError("no AWS region", "pass --region or set AWS_REGION")
    if request.account is not None and not _ACCOUNT.match(request.account):
        raise ConfigError(f"--account must be a 12-digit AWS account id, got {request.account!r}")
    results = combine_results(load_results(request.results))
    scope = results.scope
    require_publishable(scope)
    if request.scope_environment:
        scope = dataclasses.replace(scope, environment=request.scope_environment)
    outcome = publish(
        PublishRequest(findings=results.findings, scope=scope, categories=request.categories, account=request.account),
        PublishSettings(region=request.region, endpoint_url=request.endpoint_url, import_rate=request.import_rate),
    )
    return outcome


def require_imported(outcome: PublishOutcome) -> None:
    """PublishError (exit 3) when any finding was not imported."""
    if outcome.failed:
        raise PublishError(f"{len(outcome.failed)} findings were not imported into Security Hub")
