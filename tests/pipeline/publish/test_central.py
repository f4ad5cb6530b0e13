"""The central path on moto over HTTP: `tollgate publish s3` -> S3 event -> SQS -> the importer Lambda ->
Security Hub, as terraform/modules/findings-importer wires it (the queue's messages are the S3
notifications moto itself sends; the test plays Lambda's SQS poller)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from normalizers.identity import scoped_id
from normalizers.results import Results
from pipeline.cli import main
from pipeline.publish import lambda_handler
from pipeline.publish.lambda_handler import handler
from tests.pipeline.publish.helpers import CallCounter, FaultInjector, code_findings, package_findings, scope
from tests.pipeline.publish.test_cli import hub, results_file

pytest_plugins = ("tests.moto_server",)  # moto_server (one per session) and aws (reset per test)

BUCKET = "acme-tollgate-reports"
QUEUE = "tollgate-findings-importer"


class LambdaContext:
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tollgate-findings-importer"


@pytest.fixture
def session(aws: str, monkeypatch: pytest.MonkeyPatch) -> boto3.session.Session:
    """The session the handler uses (boto3's default), fresh per test so that hooks never outlive it."""
    fresh = boto3.session.Session(region_name="us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", fresh)
    return fresh


@pytest.fixture
def queue(aws: str) -> str:
    """The report bucket, notifying the importer's queue of every object created under reports/."""
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    url = sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "reports/"}]}}}]})
    return str(url)


def poll(url: str) -> list[dict[str, Any]]:
    """One batch as Lambda's SQS event source mapping delivers it (moto's test event included)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "eventSource": "aws:sqs", "awsRegion": "us-east-1"} for m in messages]


def consume(url: str) -> list[dict[str, Any]]:
    """Invoke the handler per batch and delete what it did not report failed; returns every answer."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    answers = []
    while records := poll(url):
        answer = handler({"Records": records}, LambdaContext())
        answers.append(answer)
        failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
        for record in records:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        if failed:
            break  # the rest waits for its visibility timeout, as with Lambda
    return answers


def publish_s3(path: str, *extra: str) -> int:
    return main(["publish", "s3", path, "--bucket", BUCKET, "--region", "us-east-1", *extra])


def test_publish_s3_then_the_queue_imports_exactly_the_results_and_a_reupload_changes_nothing(
        tmp_path: Path, queue: str, aws: str, session: boto3.session.Session,
        capsys: pytest.CaptureFixture[str]) -> None:
    findings = (*package_findings(150), *code_findings(20))
    path = results_file(tmp_path, "results.json", Results(scope=scope(), findings=findings))
    assert publish_s3(path, "--category", "secrets") == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(f"tollgate: s3: uploaded 170 findings to s3://{BUCKET}/reports/octo/shop/")
    [listed] = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)["Contents"]
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket=BUCKET, Key=listed["Key"])
    assert head["Metadata"] == {"tollgate-repository": "octo/shop", "tollgate-branch": "main",
                                "tollgate-commit": "0" * 40, "tollgate-categories": "sast,sca,secrets"}
    answers = consume(queue)
    assert [a["objects"] for a in answers if a["objects"]] == [{f"s3://{BUCKET}/{listed['Key']}": "imported"}]
    assert set(hub(aws)) == {scoped_id(scope(), f) for f in findings}

    counter = CallCounter(session)
    before = hub(aws)
    assert publish_s3(path) == 0  # the same results again: a second object, a second event
    consume(queue)
    assert hub(aws) == before and counter.calls == 0  # no duplicate, not even a BatchImportFindings call


def test_a_pull_request_run_uploads_and_imports_nothing(tmp_path: Path, queue: str, aws: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    path = results_file(tmp_path, "results.json", Results(scope=scope(branch="12/merge"), findings=package_findings(5)))
    assert publish_s3(path) == 0
    assert main(["publish", "securityhub", path, "--region", "us-east-1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and all(line.startswith("tollgate: security hub: not published: a GitHub Actions "
                                                 "pull-request run never publishes") for line in out)
    assert "Contents" not in boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
    assert all(not answer["objects"] for answer in consume(queue))  # moto's test event at most
    assert hub(aws) == {}


def test_a_branch_that_is_not_the_default_one_publishes_only_as_an_environment(
        tmp_path: Path, queue: str, aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_DEFAULT_BRANCH", "main")
    results = Results(scope=scope(branch="release/2"), findings=package_findings(3))
    path = results_file(tmp_path, "results.json", results)
    assert publish_s3(path) == 0
    consume(queue)
    assert hub(aws) == {}
    assert publish_s3(path, "--scope-env", "release") == 0
    consume(queue)
    assert set(hub(aws)) == {scoped_id(scope(environment="release"), f) for f in package_findings(3)}


def test_a_throttled_import_is_retried_from_the_queue_never_lost(tmp_path: Path, queue: str, aws: str,
                                                                session: boto3.session.Session,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    configured = lambda_handler.settings_from_environment
    monkeypatch.setattr(lambda_handler, "settings_from_environment", lambda region: dataclasses.replace(
        configured(region), max_attempts=2, rounds=2, round_backoff_seconds=0.0))  # give up fast, for the test
    faults = FaultInjector(session, throttle_ratio=1.0, transient=set(), permanent={})
    path = results_file(tmp_path, "results.json", Results(scope=scope(), findings=package_findings(30)))
    assert publish_s3(path) == 0
    answers = consume(queue)
    assert answers[-1]["batchItemFailures"] and set(answers[-1]["objects"].values()) == {"failed"}
    assert hub(aws) == {} and faults.throttled > 0
    faults.throttle_ratio = 0.0  # the quota frees up: the message, visible again, imports
    consume(queue)
    assert set(hub(aws)) == {scoped_id(scope(), f) for f in package_findings(30)}


def test_the_handler_ignores_s3_test_events_and_takes_direct_s3_events_as_before(queue: str) -> None:
    test_event = {"messageId": "m-1", "eventSource": "aws:sqs",
                  "body": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})}
    assert handler({"Records": [test_event]}, LambdaContext()) == {"objects": {}, "verdicts": {},
                                                                     "batchItemFailures": []}
