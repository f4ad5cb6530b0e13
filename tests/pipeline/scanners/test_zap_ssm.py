"""zap-ssm: ZAP on an EC2 instance through Tollgate's SSM document, against moto's SSM and S3 over HTTP.

moto (5.x) accepts SendCommand for any document name and answers GetCommandInvocation with an
immediate Success; it never runs anything. What the instance does is played with botocore hooks
on the real responses, and is labelled INJECTED: the invocation states (InProgress, Success, Failed,
TimedOut) rewrite GetCommandInvocation's answer, and the report the document would copy to S3 is
put into moto's bucket when SendCommand returns. The report is a real ZAP 2.14.0 JSON report
from tests/fixtures/zap. The requests themselves reach moto.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from normalizers.model import Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.errors import ConfigError, ScannerError
from pipeline.flows.scan import ScanRequest, run_scan
from pipeline.scanners import zap_ssm
from pipeline.scanners.base import Options, ScanContext, ScannerTimeout, SkipKind
from pipeline.scanners.catalog import scanner_for
from pipeline.scope import Allowlist
from tests.conftest import FIXTURES

pytest_plugins = ("tests.moto_server",)

INSTANCE = "i-0a1b2c3d4e5f60718"
BUCKET = "acme-tollgate-reports"
ZAP_REPORT = (FIXTURES / "zap" / "pipeline-templates_zap-2.14.0_report_json.json").read_bytes()
SCANNER = scanner_for("zap-ssm")
TARGET = Allowlist.parse(["localhost:8080"]).guard("http://localhost:8080/app")


def options(**extra: Any) -> Options:
    return Options.of({"ssm-instance-id": INSTANCE, "report-bucket": BUCKET, "poll-seconds": 0.05, **extra})


def context(tmp_path: Path) -> ScanContext:
    return ScanContext(source=tmp_path, work_dir=tmp_path / "work", dast_targets=(TARGET,), env={})


class InjectedInstance:
    """INJECTED: what the instance would make SSM report (statuses in turn), and the report it would upload."""

    def __init__(self, session: boto3.session.Session, statuses: list[str], report: bytes | None = ZAP_REPORT,
                 stderr: str = "", code: int = 0) -> None:
        self.statuses, self.report, self.stderr, self.code = statuses, report, stderr, code
        self.polls = self.cancels = 0
        self.s3 = session.client("s3")
        session.events.register("after-call.ssm.SendCommand", self.upload)
        session.events.register("after-call.ssm.GetCommandInvocation", self.answer)
        session.events.register("before-call.ssm.CancelCommand", self.count_cancel)

    def upload(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.report is not None and "Success" in self.statuses:
            parameters = parsed["Command"]["Parameters"]
            self.s3.put_object(Bucket=parameters["reportBucket"][0], Key=parameters["reportKey"][0], Body=self.report)

    def answer(self, parsed: dict[str, Any], **_: Any) -> None:
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        parsed.update(Status=status, StatusDetails=status, ResponseCode=self.code if status != "InProgress" else -1,
                      StandardOutputContent="", StandardErrorContent=self.stderr)

    def count_cancel(self, **_: Any) -> None:
        self.cancels += 1


@pytest.fixture
def session(aws: str, monkeypatch: pytest.MonkeyPatch) -> boto3.session.Session:
    fresh = boto3.session.Session(region_name="eu-west-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", fresh)
    fresh.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return fresh


def sent(session: boto3.session.Session) -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = session.client("ssm").list_commands()["Commands"]
    return commands


def test_the_scan_sends_the_document_waits_and_normalizes_the_report_from_s3(
        tmp_path: Path, session: boto3.session.Session, capsys: pytest.CaptureFixture[str]) -> None:
    instance = InjectedInstance(session, ["InProgress", "InProgress", "Success"])
    output = SCANNER.run(context(tmp_path), options(mode="full"), time.monotonic() + 60)
    (command,) = sent(session)
    assert (command["DocumentName"], command["InstanceIds"]) == ("tollgate-scan-zap", [INSTANCE])
    parameters = command["Parameters"]
    key = parameters["reportKey"][0]
    assert re.fullmatch(r"tollgate/dast/[0-9a-f]{32}/zap-[0-9a-f]{12}\.json", key)
    timeout = parameters.pop("executionTimeout")
    assert parameters == {"targetUrl": ["http://localhost:8080/app"], "mode": ["full"], "reportBucket": [BUCKET],
                          "reportKey": [key]}
    assert 50 <= int(timeout[0]) <= 60  # the time left before the deadline
    assert instance.polls == 3
    (report,) = output.reports
    assert report.path.read_bytes() == ZAP_REPORT
    result = parse_report(Report.from_path(str(report.path)), ParseOptions(), report.tool_id)
    assert result.findings and all(f.location.kind == "url" for f in result.findings)
    assert output.notes[0].endswith(f"(report s3://{BUCKET}/{key})")
    progress = capsys.readouterr().err
    assert re.search(rf"zap-ssm: SSM command [0-9a-f-]+ on {INSTANCE} InProgress after \d+ s", progress)
    assert re.search(rf"zap-ssm: SSM command [0-9a-f-]+ on {INSTANCE} Success after \d+ s", progress)


@pytest.mark.parametrize(("status", "code"), [("Failed", 3), ("TimedOut", -1)])
def test_a_failed_or_timed_out_command_fails_the_scanner_with_its_stderr(
        tmp_path: Path, session: boto3.session.Session, status: str, code: int) -> None:
    InjectedInstance(session, ["InProgress", status], stderr="ZAP failed with exit 3\n", code=code)
    with pytest.raises(ScannerError, match=rf"ended {status} \({status}, exit {code}\): ZAP failed with exit 3$"):
        SCANNER.run(context(tmp_path), options(), time.monotonic() + 60)


def test_a_command_still_running_at_the_deadline_is_cancelled(tmp_path: Path,
                                                              session: boto3.session.Session) -> None:
    instance = InjectedInstance(session, ["InProgress"])
    with pytest.raises(ScannerTimeout, match="still InProgress at the timeout"):
        SCANNER.run(context(tmp_path), options(), time.monotonic() + 0.5)
    assert instance.cancels == 1


def test_success_without_a_report_in_s3_is_a_failure_naming_the_instance_role(
        tmp_path: Path, session: boto3.session.Session) -> None:
    InjectedInstance(session, ["Success"], report=None)
    with pytest.raises(ScannerError, match="GetObject failed") as failed:
        SCANNER.run(context(tmp_path), options(), time.monotonic() + 60)
    assert failed.value.tip is not None and "s3:PutObject on the report prefix" in failed.value.tip


def test_a_target_the_document_would_refuse_is_refused_before_sending(tmp_path: Path,
                                                                       session: boto3.session.Session) -> None:
    target = Allowlist.parse(["localhost:8080"]).guard("http://localhost:8080/search?q=x")
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", dast_targets=(target,), env={})
    with pytest.raises(ScannerError, match="does not match the SSM document's pattern"):
        SCANNER.run(ctx, options(), time.monotonic() + 60)
    assert sent(session) == []


def test_a_target_outside_the_allowlist_stops_the_scan_before_any_command(tmp_path: Path,
                                                                         session: boto3.session.Session) -> None:
    request = ScanRequest(source=tmp_path, out_dir=tmp_path / "out", scope=Scope("acme/web"),
                          dast_targets=("http://intranet.example:8080/",), dast_allow=("localhost:8080",),
                          dast_engines=frozenset({"zap-ssm"}), only=frozenset({"zap-ssm"}), publish=False)
    with pytest.raises(ConfigError, match=r"host 'intranet\.example' port 8080 is not in the allowlist"):
        run_scan(request)
    assert sent(session) == []


def test_readiness_names_what_is_missing(tmp_path: Path) -> None:
    no_target = ScanContext(source=tmp_path, work_dir=tmp_path / "work")
    assert SCANNER.readiness(no_target, options()).kind is SkipKind.NOTHING_TO_SCAN  # type: ignore[union-attr]
    reason = SCANNER.readiness(context(tmp_path), Options.of({"ssm-instance-id": INSTANCE}))
    assert reason is not None and reason.kind is SkipKind.NOT_CONFIGURED and "report-bucket" in reason.message
    assert SCANNER.readiness(context(tmp_path), options()) is None
    assert SCANNER.spec.dast_engine and not SCANNER.spec.enabled
    assert zap_ssm.SCANNER is SCANNER
