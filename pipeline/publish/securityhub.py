"""Publish Tollgate findings to AWS Security Hub with the lifecycle of docs/design.md.

One publish is: look up what Security Hub already holds for the repository (GetFindings,
≤3 TPS), plan the import (normalizers → ASFF → `lifecycle.plan_import`), then send
batches of ≤100 findings and ≤6 MB at ≤10 TPS (burst 30) from a few threads, so the pipe
stays full when each call takes longer than the pacing interval.

- **Lookup.** One query for the repository's Tollgate findings (ProductArn, GeneratorId
  prefix, the repository ProductField) serves both needs: the stored `CreatedAt`/`UpdatedAt`
  of this run's Ids and the active findings of the scope that this run no longer reports.
  Looking up by Id instead would cost one call per 20 Ids (the per-filter value limit) and
  still need the scope query for archiving. Results are filtered here as well, because
  moto ignores filters and a server's filters are not a safety boundary.
- **Faults.** Throttles and 5xx are retried by botocore's adaptive mode first. Every
  response's `FailedCount`/`FailedFindings` is read: transient failures (and batches whose
  call failed transiently after botocore gave up) are re-batched and re-sent for a few
  rounds with backoff; anything else is reported by Id with its error code. Re-sending is
  safe because an Id is imported at most once: the same Id overwrites, never duplicates.
- **Validation.** Each finding passes `normalizers.asff_validator.validate_finding` (the
  per-finding half of `validate_batch`; batching guarantees the batch half) inside the
  sending threads, so it overlaps network time; a refused finding is reported, never sent.
- **Secrets.** Nothing here logs credentials, the client config or request headers.

boto3 is imported only inside `aws_session`, and this module only by the publish command, so
the CLI's start-up never pays for either (botocore comes with normalizers.asff_validator).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from normalizers.asff_validator import validate_finding
from normalizers.emit.asff import AsffContext, emit_asff, product_arn
from normalizers.model import Finding, Scope
from pipeline.errors import PublishError
from pipeline.publish.batching import MAX_FINDING_BYTES, plan_batches
from pipeline.publish.lifecycle import (
    DEFAULT_REFRESH_INTERVAL,
    PRODUCT_FIELD_REPOSITORY,
    TOLLGATE_GENERATOR_PREFIX,
    AsffFinding,
    ImportPlan,
    PublishScope,
    format_timestamp,
    plan_import,
)
from pipeline.publish.ratelimit import GET_FINDINGS_RATE, IMPORT_RATE, Rate, TokenBucket
from pipeline.publish.verify import FindingReader, Verification

if TYPE_CHECKING:
    import boto3

LOG = logging.getLogger(__name__)

# FailedFindings ErrorCodes and call errors worth another try; anything else is permanent.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "LimitExceededException",
        "RequestLimitExceeded",
        "InternalError",
        "InternalException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# Call errors that will fail every batch the same way: stop at once, with a tip.
FATAL_ERROR_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "InvalidAccessException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
FATAL_TIP = (
    "check that Security Hub is enabled in this account and region, and that the role may call "
    "securityhub:BatchImportFindings on the account's default product ARN and securityhub:GetFindings"
)


@dataclass(frozen=True)
class PublishSettings:
    region: str
    endpoint_url: str | None = None
    import_rate: Rate = IMPORT_RATE
    get_findings_rate: Rate = GET_FINDINGS_RATE
    max_attempts: int = 8  # botocore's adaptive retries, per call
    rounds: int = 5  # re-sends of transient FailedFindings
    round_backoff_seconds: float = 1.0
    workers: int = 4
    refresh_interval: timedelta = DEFAULT_REFRESH_INTERVAL  # an unchanged finding is re-sent only this old
    verify: bool = False  # read back what was accepted (pipeline.publish.verify)


@dataclass(frozen=True)
class RateBudget:
    """The account's request budgets. One per process by default; a long-lived consumer (the importer
    Lambda, whose reserved concurrency is 1) keeps one for every import, so they share the quota."""

    imports: TokenBucket
    reads: TokenBucket

    @classmethod
    def of(cls, settings: PublishSettings) -> RateBudget:
        return cls(TokenBucket(settings.import_rate), TokenBucket(settings.get_findings_rate))


@dataclass(frozen=True)
class FailedFinding:
    id: str
    code: str
    message: str

    def line(self) -> str:
        return f"tollgate: failed: {self.id}: {self.code}: {self.message}"


@dataclass(frozen=True)
class PublishOutcome:
    imported: int
    updated: int
    archived: int
    failed: tuple[FailedFinding, ...]
    requests: int
    warnings: tuple[str, ...] = ()
    unchanged: int = 0  # reported again but not re-sent (fresh in Security Hub)
    accepted_ids: tuple[str, ...] = ()  # sent and not refused: what a read-back must find
    verification: Verification | None = None

    def summary_line(self) -> str:
        return (
            f"tollgate: security hub: {self.imported} imported, {self.updated} updated, "
            f"{self.archived} archived, {len(self.failed)} failed, {self.unchanged} unchanged "
            f"({self.requests} BatchImportFindings calls)"
        )


@dataclass(frozen=True)
class BatchResult:
    transient: tuple[tuple[AsffFinding, FailedFinding], ...] = ()
    permanent: tuple[FailedFinding, ...] = ()


@dataclass(frozen=True)
class PublishRequest:
    """What to publish: findings of one scope, and the categories this run scanned."""

    findings: tuple[Finding, ...]
    scope: Scope
    categories: frozenset[str] = field(default_factory=frozenset)
    account: str | None = None

    def scanned_categories(self) -> frozenset[str]:
        return self.categories | {finding.category.value for finding in self.findings}


def error_code(exc: Exception) -> str:
    response: Mapping[str, Any] = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(exc).__name__)


def classify_response(batch: Sequence[AsffFinding], response: Mapping[str, Any]) -> BatchResult:
    """Split a BatchImportFindings response's failures into transient (to resend) and permanent."""
    failures = {str(f.get("Id", "")): f for f in response.get("FailedFindings") or ()}
    failed_count = int(response.get("FailedCount", len(failures)))
    if failed_count > len(failures):
        # Failures we cannot attribute: resend the whole batch, which is idempotent by Id.
        message = f"FailedCount is {failed_count} but {len(failures)} FailedFindings were listed"
        return _whole_batch(batch, "UnattributedFailure", message, transient=True)
    by_id = {f["Id"]: f for f in batch}
    transient: list[tuple[AsffFinding, FailedFinding]] = []
    permanent: list[FailedFinding] = []
    for finding_id, failure in failures.items():
        reason = FailedFinding(
            finding_id, str(failure.get("ErrorCode") or "Unknown"), str(failure.get("ErrorMessage") or "")
        )
        finding = by_id.get(finding_id)
        if finding is not None and reason.code in TRANSIENT_ERROR_CODES:
            transient.append((finding, reason))
        else:
            permanent.append(reason)
    return BatchResult(transient=tuple(transient), permanent=tuple(permanent))


def split_valid(batch: Sequence[AsffFinding]) -> tuple[list[AsffFinding], tuple[FailedFinding, ...]]:
    """Findings the validator accepts, and a permanent failure for each one it refuses.

    moto accepts anything and Security Hub answers some mistakes only with FailedFindings,
    so the limits botocore does not check are checked here (normalizers.asff_validator).
    """
    valid: list[AsffFinding] = []
    invalid: list[FailedFinding] = []
    for finding in batch:
        problems = validate_finding(dict(finding))
        if problems:
            prefix = f"{finding.get('Id')}: "
            message = "; ".join(problem.removeprefix(prefix) for problem in problems)
            invalid.append(FailedFinding(str(finding.get("Id", "")), "InvalidFinding", message))
        else:
            valid.append(finding)
    return valid, tuple(invalid)


def _whole_batch(batch: Sequence[AsffFinding], code: str, message: str, transient: bool) -> BatchResult:
    reasons = [(f, FailedFinding(f["Id"], code, message)) for f in batch]
    if transient:
        return BatchResult(transient=tuple(reasons))
    return BatchResult(permanent=tuple(reason for _, reason in reasons))


class SecurityHubPublisher:
    """Sends planned findings; counts its BatchImportFindings calls in `requests`."""

    def __init__(self, client: Any, settings: PublishSettings, sleep: Callable[[float], None] = time.sleep,
                 budget: RateBudget | None = None) -> None:
        self._client = client
        self._settings = settings
        self._sleep = sleep
        budget = budget or RateBudget.of(settings)
        self._import_bucket = budget.imports
        self._read_bucket = budget.reads
        self._lock = threading.Lock()
        self.requests = 0

    @property
    def refresh_interval(self) -> timedelta:
        return self._settings.refresh_interval

    def stored_findings(self, scope: PublishScope) -> list[AsffFinding]:
        """Every Tollgate finding Security Hub holds for the repository, active or archived."""
        filters = {
            "ProductArn": [{"Value": scope.product_arn, "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": TOLLGATE_GENERATOR_PREFIX, "Comparison": "PREFIX"}],
            "ProductFields": [{"Key": PRODUCT_FIELD_REPOSITORY, "Value": scope.repository, "Comparison": "EQUALS"}],
        }
        stored: list[AsffFinding] = []
        page_arguments: dict[str, Any] = {"Filters": filters, "MaxResults": 100}
        while True:
            self._read_bucket.acquire()
            try:
                page = self._client.get_findings(**page_arguments)
            except (BotoCoreError, ClientError) as exc:
                raise PublishError(f"GetFindings failed: {error_code(exc)}: {exc}", FATAL_TIP) from None
            stored += [finding for finding in page.get("Findings", ()) if scope.owns(finding)]
            if not page.get("NextToken"):
                return stored
            page_arguments["NextToken"] = page["NextToken"]

    def import_findings(self, findings: Sequence[AsffFinding]) -> list[FailedFinding]:
        """Send everything; returns the findings that were not imported, with reasons."""
        plan = plan_batches(findings)
        failed = [
            FailedFinding(o.id, "FindingTooLarge", f"{o.size} bytes serialized, over the {MAX_FINDING_BYTES} limit")
            for o in plan.oversized
        ]
        batches = plan.batches
        retry: list[tuple[AsffFinding, FailedFinding]] = []
        for round_number in range(self._settings.rounds):
            if round_number:
                self._sleep(self._settings.round_backoff_seconds * 2 ** (round_number - 1))
                batches = plan_batches(finding for finding, _ in retry).batches
            retry = []
            for result in self._send_all(batches):
                retry += result.transient
                failed += result.permanent
            if not retry:
                break
        return failed + [reason for _, reason in retry]

    def _send_all(self, batches: Sequence[Sequence[AsffFinding]]) -> list[BatchResult]:
        pool = ThreadPoolExecutor(max_workers=max(1, self._settings.workers), thread_name_prefix="tollgate-publish")
        try:
            futures = [pool.submit(self._send_batch, batch) for batch in batches]
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # a fatal error stops the batches not yet sent

    def _send_batch(self, batch: Sequence[AsffFinding]) -> BatchResult:
        """Validate (in the worker, so it overlaps other batches' network time), then send."""
        valid, invalid = split_valid(batch)
        if not valid:
            return BatchResult(permanent=invalid)
        result = self._call(valid)
        return BatchResult(transient=result.transient, permanent=(*invalid, *result.permanent))

    def _call(self, batch: Sequence[AsffFinding]) -> BatchResult:
        self._import_bucket.acquire()
        with self._lock:
            self.requests += 1
        try:
            response = self._client.batch_import_findings(Findings=list(batch))
        except ClientError as exc:
            code = error_code(exc)
            if code in FATAL_ERROR_CODES:
                raise PublishError(f"BatchImportFindings refused: {code}: {exc}", FATAL_TIP) from None
            return _whole_batch(batch, code, str(exc), transient=code in TRANSIENT_ERROR_CODES)
        except ParamValidationError as exc:
            return _whole_batch(batch, "ParamValidationError", str(exc), transient=False)
        except BotoCoreError as exc:  # connection errors that outlived botocore's retries
            return _whole_batch(batch, type(exc).__name__, str(exc), transient=True)
        return classify_response(batch, response)


def outcome_of(
    plan: ImportPlan, failed: Iterable[FailedFinding], requests: int, warnings: Sequence[str]
) -> PublishOutcome:
    failures = tuple(failed)
    failed_ids = {f.id for f in failures}
    return PublishOutcome(
        imported=len(plan.new_ids - failed_ids),
        updated=len(plan.updated_ids - failed_ids),
        archived=len(plan.archived_ids - failed_ids),
        failed=failures,
        requests=requests,
        warnings=(*warnings, *(f"the emitter produced Id {i} twice; kept the first" for i in plan.duplicate_ids)),
        unchanged=len(plan.unchanged_ids),
        accepted_ids=tuple(finding["Id"] for finding in plan.findings if finding["Id"] not in failed_ids),
    )


def publish_asff(
    findings: Sequence[AsffFinding], scope: PublishScope, publisher: SecurityHubPublisher, now: datetime,
    warnings: Sequence[str] = (),
) -> PublishOutcome:
    plan = plan_import(findings, publisher.stored_findings(scope), scope, now, publisher.refresh_interval)
    LOG.info("publishing %d findings (%d new, %d archived, %d unchanged not sent)", len(plan.findings),
             len(plan.new_ids), len(plan.archived_ids), len(plan.unchanged_ids))
    failed = publisher.import_findings(plan.findings)
    return outcome_of(plan, failed, publisher.requests, warnings)


def aws_session(session: boto3.session.Session | None = None) -> boto3.session.Session:
    """The given session, else boto3's default one when a caller set it up, else a new one."""
    import boto3  # noqa: PLC0415 - boto3 loads only when a publish runs, never for `tollgate --help`

    return session or boto3.DEFAULT_SESSION or boto3.session.Session()


def client_for(session: boto3.session.Session, service: str, settings: PublishSettings) -> Any:
    config = Config(
        region_name=settings.region,
        retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
        max_pool_connections=max(10, settings.workers),
    )
    return session.client(service, endpoint_url=settings.endpoint_url, config=config)


def caller_account(session: boto3.session.Session, settings: PublishSettings) -> str:
    try:
        return str(client_for(session, "sts", settings).get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise PublishError(
            f"could not find the AWS account: STS GetCallerIdentity failed ({error_code(exc)})",
            "configure AWS credentials (e.g. aws-actions/configure-aws-credentials with OIDC) or pass --account",
        ) from None


def publish(
    request: PublishRequest, settings: PublishSettings, session: boto3.session.Session | None = None,
    now: datetime | None = None, budget: RateBudget | None = None,
) -> PublishOutcome:
    """Emit ASFF for the request's findings and publish them with the full lifecycle."""
    session = aws_session(session)
    account = request.account or caller_account(session, settings)
    moment = now or datetime.now(timezone.utc)
    context = AsffContext(account, settings.region, request.scope, now=format_timestamp(moment))
    emission = emit_asff(request.findings, context)
    scope = PublishScope(
        product_arn=product_arn(account, settings.region),
        repository=request.scope.repository,
        categories=request.scanned_categories(),
        environment=request.scope.environment,
    )
    budget = budget or RateBudget.of(settings)
    client = client_for(session, "securityhub", settings)
    outcome = publish_asff(emission.findings, scope, SecurityHubPublisher(client, settings, budget=budget), moment,
                           emission.warnings)
    if not settings.verify:
        return outcome
    reader = FindingReader(client, budget.reads, backoff_seconds=settings.round_backoff_seconds)
    return dataclasses.replace(outcome, verification=reader.verify(outcome.accepted_ids, scope.product_arn))
