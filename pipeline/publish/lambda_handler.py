"""The findings-importer Lambda: a report written to S3 under `reports/` becomes Security Hub findings.

Triggered by S3 ObjectCreated events, directly or (as terraform/modules/findings-importer wires
it) through an SQS queue whose messages are S3 event notifications. For each object it reads the
report from S3 (never from the invoke payload, which AWS caps at 6 MB), normalizes it with the
parser registry, and imports it with exactly the lifecycle of `tollgate publish securityhub`.
`tollgate publish s3` writes the objects (pipeline.publish.s3): a Tollgate results file is a report.

**Rate.** Security Hub's BatchImportFindings (10/s, burst 30) and GetFindings (3/s, burst 6)
quotas are per account and region. The function runs with reserved concurrency 1, and one
module-level budget (`BUDGET`) paces every import of the warm instance, so the queue absorbs an
organisation's bursts instead of the quota. The consumer runs at the sustained rate without a
burst (`CONSUMER_BURST`): a queue that is always busy gains nothing from one, and the account's
burst stays free for other callers. `TOLLGATE_IMPORT_RATE` and `TOLLGATE_IMPORT_BURST` change it,
for instance to leave room for other importers of the account; `TOLLGATE_REFRESH_DAYS` (default 30)
is how old Security Hub's copy of an unchanged finding must be before it is re-sent.

**Scope.** The repository comes from the object key, `reports/<owner>/<repo>/<anything>`.
The key is authoritative because each repository's GitHub OIDC role may write only under
its own prefix, while metadata is whatever the writer sent; a `tollgate-repository`
metadata value that disagrees with the key rejects the object. Branch, environment and
commit come from the user metadata `tollgate-branch`, `tollgate-environment` and
`tollgate-commit` (`x-amz-meta-…` on upload). `tollgate-categories` (comma-separated) names
categories the scan covered even when it found nothing there, so their fixed findings are
archived; by default only the categories present in the report are in scope.
`tollgate-source-root` is the checkout path the scanner saw, stripped from absolute paths
so that locations (and so identities) are repository-relative.

**Verdict.** The repository's policy is the object `reports/<owner>/<repo>/.tollgate.yml` when it
exists (written under the same prefix, so by the same role), else the default policy. The verdict
flow decides, as it does for `tollgate gate`; a Lambda has no earlier run on disk, so no baseline
applies (Security Hub's own lifecycle tracks what is new). The verdict is tagged on the object
(`tollgate-verdict`) and returned with the counts.

**Outcome.** The object is tagged `tollgate-status=imported`, or `tollgate-status=rejected`
with a `tollgate-reason` when the report is malformed, unsupported, too large or badly
placed; a rejected object is logged and never retried, and the other objects of the event
still import. A Security Hub failure (throttling that outlived the retries included) raises
after every object was tried, so the Lambda's retries and DLQ take over; from SQS, only the
messages with a failed object are returned in `batchItemFailures`, become visible again after
the visibility timeout, and go to the queue's DLQ after its maxReceiveCount. Re-importing is
idempotent by finding Id, so a retried or twice-delivered message never duplicates a finding.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import BotoCoreError, ClientError

from normalizers.errors import NormalizerError
from normalizers.model import Category, Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline import secret_mask
from pipeline.config_file import DEFAULT_CONFIG_FILE
from pipeline.errors import ConfigError, PublishError
from pipeline.flows.normalize import outcome_from_parsed
from pipeline.flows.verdict import GateInputs, VerdictCounts, decide
from pipeline.policy import Policy, parse_policy
from pipeline.publish.lifecycle import DEFAULT_REFRESH_INTERVAL
from pipeline.publish.ratelimit import IMPORT_RATE, Rate
from pipeline.publish.securityhub import PublishRequest, PublishSettings, RateBudget, aws_session, publish

LOG = logging.getLogger("tollgate.importer")
LOG.setLevel(logging.INFO)

REPORTS_PREFIX = "reports/"
STATUS_TAG = "tollgate-status"
REASON_TAG = "tollgate-reason"
VERDICT_TAG = "tollgate-verdict"
MAX_REPORT_BYTES = int(os.environ.get("TOLLGATE_MAX_REPORT_BYTES", str(512 * 1024 * 1024)))
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_TAG_VALUE_UNSAFE = re.compile(r"[^\w .:/=+\-@]")  # S3 tag values allow only these characters
_TAG_VALUE_MAX = 256


class RejectedReport(Exception):
    """The object cannot be imported as it is; retrying would not help."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version_id: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def address(self) -> dict[str, str]:
        """Bucket, Key and (for versioned buckets) VersionId: the exact object the event named."""
        found = {"Bucket": self.bucket, "Key": self.key}
        return {**found, "VersionId": self.version_id} if self.version_id else found


def created_objects(event: dict[str, Any]) -> list[S3Object]:
    """The reports an S3 event notification names (a test event or another kind names none)."""
    objects = []
    for record in event.get("Records") or ():
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        key = unquote_plus(s3["object"]["key"])  # S3 events URL-encode keys, spaces as '+'
        if key.endswith("/" + DEFAULT_CONFIG_FILE):  # a repository's policy, read beside its reports
            continue
        objects.append(S3Object(s3["bucket"]["name"], key, s3["object"].get("versionId")))
    return objects


def scope_of(key: str, metadata: dict[str, str]) -> Scope:
    parts = key.split("/")
    if not key.startswith(REPORTS_PREFIX) or len(parts) < 4 or not all(map(_GITHUB_NAME.match, parts[1:3])):
        raise RejectedReport(f"the key must be {REPORTS_PREFIX}<owner>/<repo>/<file>")
    repository = f"{parts[1]}/{parts[2]}"
    claimed = metadata.get("tollgate-repository")
    if claimed and claimed.strip("/") != repository:
        raise RejectedReport(f"metadata names repository {claimed} but the key is under {repository}")
    return Scope(
        repository=repository,
        environment=metadata.get("tollgate-environment") or None,
        branch=metadata.get("tollgate-branch") or None,
        commit=metadata.get("tollgate-commit") or None,
    )


def categories_of(metadata: dict[str, str]) -> frozenset[str]:
    names = {name.strip() for name in metadata.get("tollgate-categories", "").split(",") if name.strip()}
    known = {category.value for category in Category}
    if names - known:
        raise RejectedReport(f"unknown categories in metadata: {', '.join(sorted(names - known))}")
    return frozenset(names)


def tag_value(text: str) -> str:
    return _TAG_VALUE_UNSAFE.sub(" ", text)[:_TAG_VALUE_MAX]


def tag_object(s3: Any, target: S3Object, status: str, reason: str | None = None, verdict: str | None = None) -> None:
    """Set Tollgate's tags, keeping the object's other tags; a tagging failure is only logged."""
    ours = {STATUS_TAG: status, **({REASON_TAG: tag_value(reason)} if reason else {}),
            **({VERDICT_TAG: verdict} if verdict else {})}
    try:
        existing = s3.get_object_tagging(**target.address()).get("TagSet", [])
        kept = [tag for tag in existing if tag["Key"] not in (STATUS_TAG, REASON_TAG, VERDICT_TAG)]
        tag_set = kept + [{"Key": key, "Value": value} for key, value in ours.items()]
        s3.put_object_tagging(**target.address(), Tagging={"TagSet": tag_set})
    except (BotoCoreError, ClientError) as exc:
        LOG.error("could not tag %s as %s: %s", target.uri, status, exc)


def read_report(s3: Any, target: S3Object) -> tuple[Report, dict[str, str]]:
    response = s3.get_object(**target.address())
    if int(response.get("ContentLength", 0)) > MAX_REPORT_BYTES:
        response["Body"].close()
        raise RejectedReport(f"the report is larger than {MAX_REPORT_BYTES} bytes")
    return Report(source=target.uri, raw=response["Body"].read()), dict(response.get("Metadata") or {})


def repository_policy(s3: Any, target: S3Object) -> Policy:
    """`reports/<owner>/<repo>/.tollgate.yml` when it exists, else the default policy."""
    key = "/".join([*target.key.split("/")[:3], DEFAULT_CONFIG_FILE])
    try:
        body = s3.get_object(Bucket=target.bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in ("NoSuchKey", "404", "AccessDenied"):
            return Policy()
        raise
    try:
        return parse_policy(body.decode("utf-8", errors="replace"), source=f"s3://{target.bucket}/{key}")
    except ConfigError as exc:
        raise RejectedReport(str(exc)) from None


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class Imported:
    status: str
    counts: VerdictCounts | None = None


def import_object(s3: Any, target: S3Object, settings: PublishSettings, account: str | None, session: Any,
                  *, budget: RateBudget | None = None) -> Imported:
    """Import one report. Raises PublishError when Security Hub refused findings."""
    try:
        report, metadata = read_report(s3, target)
        request_scope = scope_of(target.key, metadata)
        categories = categories_of(metadata)
        parsed = parse_report(report, ParseOptions(source_root=metadata.get("tollgate-source-root") or None))
        policy = repository_policy(s3, target)
    except (NormalizerError, RejectedReport) as exc:
        LOG.warning("rejected %s: %s", target.uri, exc)
        tag_object(s3, target, "rejected", str(exc))
        return Imported("rejected")
    findings = outcome_from_parsed((parsed,), request_scope).results.findings
    counts = VerdictCounts.of(decide(findings, GateInputs(policy, None, None)))
    request = PublishRequest(findings=findings, scope=request_scope, categories=categories, account=account)
    outcome = publish(request, settings, session=session, budget=budget)
    for line in (*outcome.warnings, *(failure.line() for failure in outcome.failed)):
        LOG.warning("%s: %s", target.uri, line)
    LOG.info("%s (%s, %d records skipped): %s", target.uri, parsed.tool_id, len(parsed.skipped),
             outcome.summary_line())
    if outcome.failed:
        raise PublishError(f"{len(outcome.failed)} findings were not imported")
    tag_object(s3, target, "imported", verdict="passed" if counts.passed else "failed")
    return Imported("imported", counts)


@dataclass(frozen=True)
class QueuedEvent:
    """One SQS message: its id (for batchItemFailures) and the S3 notification in its body."""

    message_id: str
    objects: tuple[S3Object, ...]


def queued_events(event: dict[str, Any]) -> list[QueuedEvent] | None:
    """The SQS messages of an SQS-triggered invocation; None for a direct S3 notification."""
    records = event.get("Records") or ()
    if not records or any(record.get("eventSource") != "aws:sqs" for record in records):
        return None
    queued = []
    for record in records:
        try:
            body = json.loads(record.get("body") or "{}")
        except ValueError:
            LOG.warning("message %s: not an S3 event notification; dropped", record.get("messageId"))
            body = {}
        queued.append(QueuedEvent(str(record.get("messageId")), tuple(created_objects(body))))
    return queued


CONSUMER_BURST = 1


def settings_from_environment(region: str) -> PublishSettings:
    try:
        rate = Rate(float(os.environ.get("TOLLGATE_IMPORT_RATE", IMPORT_RATE.per_second)),
                    int(os.environ.get("TOLLGATE_IMPORT_BURST", CONSUMER_BURST)))
        days = float(os.environ.get("TOLLGATE_REFRESH_DAYS", DEFAULT_REFRESH_INTERVAL.days))
    except ValueError as exc:
        raise ConfigError(f"the importer's TOLLGATE_* settings: {exc}") from None
    return PublishSettings(region=region, import_rate=rate, refresh_interval=timedelta(days=days))


BUDGET: RateBudget | None = None  # the warm instance's, shared by every invocation it serves


def shared_budget(settings: PublishSettings) -> RateBudget:
    global BUDGET  # noqa: PLW0603 - one budget per process is the point
    if BUDGET is None:
        BUDGET = RateBudget.of(settings)
    return BUDGET


def account_of(context: Any) -> str | None:
    """The Lambda's own account, from its ARN (arn:aws:lambda:region:ACCOUNT:function:name); saves an STS call."""
    arn = str(getattr(context, "invoked_function_arn", "") or "")
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else None


@dataclass
class Tally:
    statuses: dict[str, str]
    verdicts: dict[str, dict[str, Any]]
    errors: list[str]


class Importer:
    """Imports the objects of one invocation; one object's failure never stops the others."""

    def __init__(self, context: Any) -> None:
        self.session = aws_session()
        self.settings = settings_from_environment(os.environ.get("AWS_REGION") or self.session.region_name)
        self.budget = shared_budget(self.settings)
        self.s3 = self.session.client("s3")
        self.account = account_of(context)
        self.results = Tally({}, {}, [])

    def run(self, target: S3Object) -> bool:
        """True when the object is done (imported or rejected), False when it must be retried."""
        try:
            imported = import_object(self.s3, target, self.settings, self.account, self.session, budget=self.budget)
        except (PublishError, BotoCoreError, ClientError) as exc:
            self.results.statuses[target.uri] = "failed"
            self.results.errors.append(f"{target.uri}: {exc}")
            LOG.error("%s: %s", target.uri, exc)
            return False
        self.results.statuses[target.uri] = imported.status
        if imported.counts is not None:
            self.results.verdicts[target.uri] = counts_document(imported.counts)
        return True


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    secret_mask.install(os.environ)
    importer = Importer(context)
    queued = queued_events(event)
    if queued is not None:  # from SQS: report the failed messages, the queue retries them, then its DLQ
        failures = [message.message_id for message in queued
                    if not all([importer.run(target) for target in message.objects])]
        return {"objects": importer.results.statuses, "verdicts": importer.results.verdicts,
                "batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}
    for target in created_objects(event):
        importer.run(target)
    if importer.results.errors:
        raise PublishError("; ".join(importer.results.errors))
    return {"objects": importer.results.statuses, "verdicts": importer.results.verdicts}


def counts_document(counts: VerdictCounts) -> dict[str, Any]:
    return {"verdict": "passed" if counts.passed else "failed", "total": counts.total, "new": counts.new,
            "failing": counts.failing, **{s.value.lower(): n for s, n in counts.by_severity}}
