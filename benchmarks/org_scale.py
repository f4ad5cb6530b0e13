"""Organisation-scale benchmark of the central path: REPOS repositories x FINDINGS findings through
`tollgate publish s3` -> S3 event -> SQS -> the importer Lambda's handler -> Security Hub, on moto's
real server over HTTP, with Security Hub's account quota enforced.

- **The path is the real one.** Each repository's results go through the publish-s3 flow; moto's S3
  sends its ObjectCreated notifications to the SQS queue; the script plays Lambda's SQS poller for a
  function with reserved concurrency 1 (batches of 10, failed messages back after the visibility
  timeout, a redrive policy to a DLQ after 5 receives) and calls `lambda_handler.handler` itself.
- **The quota is enforced.** botocore hooks on the handler's session (boto3's default) answer
  BatchImportFindings beyond 10 calls per second (burst 30) and GetFindings beyond 3 per second
  (burst 6) with HTTP 429 ThrottlingException, per account, as Security Hub does. Another caller of
  the account (`--neighbour-tps`, default 5) spends part of the same BatchImportFindings quota, so
  the importer, which paces itself to the whole quota, really is throttled: its calls are retried by
  botocore, then by the publisher, then by the queue.
- **Storage is sharded.** moto keeps one account's findings in a list it scans for every imported
  finding and returns all of them from every GetFindings (it ignores filters), so one account of
  100,000 findings would cost O(n^2). A `before-send` hook therefore stores each repository's
  findings in its own moto account (the `x-moto-account-id` header, chosen from the repository the
  request names). Only storage is sharded: the quota, the queue and the consumer are the one
  account's, and every finding keeps that account's ProductArn.
- **Then it counts.** Every shard is read back without hooks: `lost` counts expected findings that
  are not ACTIVE in Security Hub (and reports left in the DLQ), `duplicated` counts stored findings
  beyond one per expected Id. A sample of repositories is uploaded again and must cost no
  BatchImportFindings call. `peak TPS` is the most BatchImportFindings calls sent (throttled or not)
  in any one-second window.

The last line is `org-scale: N findings from R repositories, lost L, duplicated D, peak TPS P (quota 10)`.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402 - after the path set-up, like the imports below
import orjson  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

from benchmarks.securityhub import start_moto  # noqa: E402
from normalizers.identity import scoped_id  # noqa: E402
from normalizers.model import Scope  # noqa: E402
from normalizers.results import Results, results_to_dict  # noqa: E402
from pipeline.flows.publish import S3FlowRequest, upload_results  # noqa: E402
from pipeline.publish import lambda_handler  # noqa: E402
from pipeline.publish.lifecycle import ACTIVE, PRODUCT_FIELD_REPOSITORY  # noqa: E402
from pipeline.publish.ratelimit import GET_FINDINGS_RATE, IMPORT_RATE, TokenBucket  # noqa: E402
from tests.moto_server import DUMMY_ENVIRONMENT  # noqa: E402
from tests.pipeline.publish.helpers import package_findings  # noqa: E402

BUCKET = "org-tollgate-reports"
QUEUE = "tollgate-findings-importer-events"
DLQ = "tollgate-findings-importer-dlq"
ACCOUNT = "123456789012"
VISIBILITY_SECONDS = 5
MAX_RECEIVES = 5


class LambdaContext:
    invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:tollgate-findings-importer"


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


class NonBlockingBucket(TokenBucket):
    """The server side of a quota: a call either finds a token now or is throttled."""

    def try_take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.rate.burst), self._tokens + (now - self._refilled_at) * self.rate.per_second)
            self._refilled_at = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


@dataclass
class AccountQuota:
    """Security Hub as the account sees it: per-operation quotas, and moto storage sharded by repository."""

    shards: dict[str, str]
    buckets: dict[str, NonBlockingBucket] = field(default_factory=lambda: {
        "BatchImportFindings": NonBlockingBucket(IMPORT_RATE), "GetFindings": NonBlockingBucket(GET_FINDINGS_RATE)})
    sent: list[float] = field(default_factory=list)  # BatchImportFindings attempts, monotonic seconds
    throttled: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, session: boto3.session.Session) -> None:
        session.events.register("before-send.securityhub", self.before_send)

    def before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        request.headers["x-moto-account-id"] = self.shards[_repository(operation, request.body)]
        bucket = self.buckets.get(operation)
        with self.lock:
            self.calls[operation] += 1
            if operation == "BatchImportFindings":
                self.sent.append(time.monotonic())
        if bucket is None or bucket.try_take():
            return None
        with self.lock:
            self.throttled[operation] += 1
        headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"}
        return AWSResponse(request.url, 429, headers, _Body(b'{"message": "Rate exceeded"}'))

    def neighbour(self, per_second: float, stop: threading.Event) -> None:
        """Another caller of the account: takes BatchImportFindings tokens at its own pace."""
        while per_second > 0 and not stop.wait(1.0 / per_second):
            self.buckets["BatchImportFindings"].try_take()

    def peak_tps(self) -> int:
        times = sorted(self.sent)
        return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def _repository(operation: str, body: bytes | str | None) -> str:
    document = json.loads(body or b"{}")
    if operation == "BatchImportFindings":
        return str(document["Findings"][0]["ProductFields"][PRODUCT_FIELD_REPOSITORY])
    return str(document["Filters"]["ProductFields"][0]["Value"])


def repositories(count: int) -> list[str]:
    return [f"org{index % 17:02d}/service-{index:04d}" for index in range(count)]


def write_results(folder: Path, repository: str, findings_per_repo: int, index: int) -> Path:
    path = folder / f"{repository.replace('/', '__')}.json"
    scope = Scope(repository, branch="main", commit=f"{index:040x}")
    path.write_bytes(orjson.dumps(results_to_dict(Results(scope=scope, findings=package_findings(findings_per_repo)))))
    return path


def publish_all(paths: dict[str, Path], endpoint: str) -> None:
    env = {"TOLLGATE_DEFAULT_BRANCH": "main"}
    for path in paths.values():
        upload_results(S3FlowRequest(results=(path,), bucket=BUCKET, endpoint_url=endpoint, region="us-east-1",
                                     env=env))


def create_bucket_and_queues(endpoint: str) -> str:
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint)
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": str(VISIBILITY_SECONDS),
                                                        "RedrivePolicy": redrive})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "reports/"}]}}}]})
    return str(url)


def pending(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def drain(url: str, endpoint: str) -> Counter[str]:
    """Lambda's SQS poller for one concurrent instance: batches of 10 until the queue is empty."""
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
    statuses: Counter[str] = Counter()
    while pending(sqs, url):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        if not messages:
            continue
        records = [{"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs",
                    "awsRegion": "us-east-1"} for m in messages]
        answer = lambda_handler.handler({"Records": records}, LambdaContext())
        statuses.update(answer["objects"].values())
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=url, Entries=done)
    return statuses


def stored(endpoint: str, shard: str) -> list[dict[str, Any]]:
    client = boto3.session.Session(region_name="us-east-1").client("securityhub", endpoint_url=endpoint)
    client.meta.events.register("before-send.securityhub", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", shard))
    return [f for page in client.get_paginator("get_findings").paginate(MaxResults=100) for f in page["Findings"]]


def count(endpoint: str, shards: dict[str, str], findings_per_repo: int) -> tuple[int, int]:
    """(lost, duplicated) over every shard."""
    lost = duplicated = 0
    template = package_findings(findings_per_repo)
    for repository, shard in shards.items():
        expected = {scoped_id(Scope(repository), finding) for finding in template}
        held = stored(endpoint, shard)
        active = {f["Id"] for f in held if f.get("RecordState", ACTIVE) == ACTIVE}
        lost += len(expected - active)
        duplicated += len(held) - len(expected & {f["Id"] for f in held})
    return lost, duplicated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repositories", type=int, default=200)
    parser.add_argument("--findings", type=int, default=500, help="findings per repository")
    parser.add_argument("--reupload", type=int, default=20, help="repositories uploaded a second time, unchanged")
    parser.add_argument("--neighbour-tps", type=float, default=5.0,
                        help="BatchImportFindings calls per second another caller of the account makes")
    args = parser.parse_args()
    process, endpoint = start_moto()
    os.environ.update({**DUMMY_ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint})
    try:
        session = boto3.setup_default_session(region_name="us-east-1") or boto3.DEFAULT_SESSION
        assert session is not None
        names = repositories(args.repositories)
        quota = AccountQuota(shards={name: f"{100000000000 + i}" for i, name in enumerate(names)})
        quota.install(session)
        url = create_bucket_and_queues(endpoint)
        with tempfile.TemporaryDirectory() as folder:
            paths = {name: write_results(Path(folder), name, args.findings, i) for i, name in enumerate(names)}
            started = time.monotonic()
            publish_all(paths, endpoint)
            uploaded = time.monotonic()
            stop = threading.Event()
            neighbour = threading.Thread(target=quota.neighbour, args=(args.neighbour_tps, stop), daemon=True)
            neighbour.start()
            statuses = drain(url, endpoint)
            stop.set()
            imported = time.monotonic()
            first_calls = quota.calls["BatchImportFindings"]
            publish_all({name: paths[name] for name in names[: args.reupload]}, endpoint)
            statuses += drain(url, endpoint)
            again_calls = quota.calls["BatchImportFindings"] - first_calls
        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
        dead = pending(sqs, sqs.get_queue_url(QueueName=DLQ)["QueueUrl"])
        lost, duplicated = count(endpoint, quota.shards, args.findings)
        total = args.repositories * args.findings
        print(f"uploads: {args.repositories} objects in {uploaded - started:.1f} s; import: "
              f"{imported - uploaded:.1f} s ({total / (imported - uploaded):.0f} findings/s), objects {dict(statuses)}")
        print(f"BatchImportFindings: {first_calls} calls for {total} findings "
              f"(optimum {args.repositories * -(-args.findings // 100)}), "
              f"{quota.throttled['BatchImportFindings']} throttled; GetFindings: {quota.calls['GetFindings']} calls, "
              f"{quota.throttled['GetFindings']} throttled; re-upload of {args.reupload} unchanged repositories: "
              f"{again_calls} BatchImportFindings calls; DLQ: {dead} messages; neighbour: {args.neighbour_tps:g} TPS")
        print(f"org-scale: {total} findings from {args.repositories} repositories, lost {lost + dead}, "
              f"duplicated {duplicated}, peak TPS {quota.peak_tps()} (quota {IMPORT_RATE.per_second:g})")
        return 0 if lost + dead + duplicated == 0 and again_calls == 0 else 1
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
