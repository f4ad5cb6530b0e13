"""The Lynis runner: its local command line, and the SSM remote mode against moto's server over HTTP.

moto (5.x) implements SendCommand and GetCommandInvocation but not what the instance does: every
invocation is an immediate Success with empty output, and CancelCommand is missing. The tests that
need the instance's side (a report on stdout or in S3, a failed script, a command that never ends)
play it with botocore hooks on the real responses: `Agent` rewrites GetCommandInvocation's answer,
or writes the stdout object to moto's S3 as the SSM agent would. The requests themselves reach moto.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.model import HostLocation, Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.config import parse_scan_config
from pipeline.errors import ConfigError, ScannerError
from pipeline.scanners import lynis
from pipeline.scanners.base import Options, ScanContext, ScannerTimeout, SkipKind
from pipeline.scanners.catalog import scanner_for
from tests.conftest import FIXTURES
from tests.validation import asff_problems

pytest_plugins = ("tests.moto_server",)

INSTANCE = "i-0a1b2c3d4e5f60718"
RAW = (FIXTURES / "lynis" / "lynis-3.0.8-debian12.dat").read_text(encoding="utf-8")
FILTERED = "".join(line + "\n" for line in RAW.splitlines() if re.match(lynis.KEPT_LINES, line))
SCANNER = scanner_for("host")


def context(tmp_path: Path, path: str = "/usr/bin:/bin") -> ScanContext:
    return ScanContext(source=tmp_path, work_dir=tmp_path / "work", env={"PATH": path})


def remote(**extra: Any) -> Options:
    return Options.of({"ssm-instance-id": INSTANCE, "poll-seconds": 0.05, **extra})


def test_the_local_command_is_non_interactive_and_writes_into_its_folder(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (invocation,) = SCANNER.invocations(ctx, Options.of({"profile": "/etc/lynis/custom.prf"}), "/usr/sbin/lynis")
    folder = tmp_path / "work" / "host"
    assert invocation.argv == (
        "/usr/sbin/lynis", "audit", "system", "--quick", "--no-colors", "--profile", "/etc/lynis/custom.prf",
        "--report-file", str(folder / "lynis-report.dat"), "--logfile", str(folder / "lynis.log"))
    assert (invocation.cwd, invocation.report) == (folder, folder / "lynis-report.dat")
    assert SCANNER.spec.ok_exit_codes == frozenset({0, 78})  # 78: error-on-warnings in a profile


def test_lynis_in_sbin_is_found_without_sbin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "lynis"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(lynis, "SBIN_LYNIS", fake)
    assert SCANNER.readiness(context(tmp_path, path=""), Options()) is None
    assert SCANNER.locate(context(tmp_path, path=""), Options()) == str(fake)
    monkeypatch.setattr(lynis, "SBIN_LYNIS", tmp_path / "absent")
    reason = SCANNER.readiness(context(tmp_path, path=""), Options())
    assert reason is not None and reason.kind is SkipKind.NOT_INSTALLED
    assert "apt-get install --no-install-recommends lynis" in reason.message
    assert SCANNER.readiness(context(tmp_path, path=""), remote()) is None  # Lynis is on the instance


def test_the_config_takes_host_options_and_refuses_a_bad_instance_id() -> None:
    config = parse_scan_config("scan:\n  scanners:\n    host: {enabled: true, ssm-instance-id: i-0a1b2c3d4e5f60718, "
                               "ssm-output-s3-bucket: acme-ssm}\n", ".tollgate.yml")
    settings = config.settings("host")
    assert settings.enabled and settings.options.get("ssm-output-s3-bucket") == "acme-ssm"
    assert parse_scan_config("", "x").settings("host").enabled is False  # opt-in
    with pytest.raises(ConfigError, match=r"scan\.scanners\.host\.ssm-instance-id: 'web-01' does not match"):
        parse_scan_config("scan:\n  scanners:\n    host: {ssm-instance-id: web-01}\n", ".tollgate.yml")


def test_the_remote_script_keeps_what_fits_ssm_stdout() -> None:
    script = lynis.remote_script(Options.of({"profile": "/etc/lynis/my profile.prf"}))
    audit = next(line for line in script if line.startswith("lynis audit"))
    assert audit == ("lynis audit system --quick --no-colors --profile '/etc/lynis/my profile.prf' "
                     '--report-file "$dir/lynis-report.dat" --logfile "$dir/lynis.log" >"$dir/screen.log" 2>&1')
    emit = script.index(f"sh -s <<'{lynis.CHECKS_HEREDOC}'") - 1  # then the host checks, from a here-document
    assert script[emit].startswith("grep -E '^(# Lynis Report|") and script[emit].endswith(' "$dir/lynis-report.dat"')
    assert script[-1] == lynis.CHECKS_HEREDOC and "\n".join(script[emit + 2:-1]) == lynis.checks_script().rstrip("\n")
    s3 = lynis.remote_script(remote(**{"ssm-output-s3-bucket": "b"}))
    assert 'cat "$dir/lynis-report.dat"' in s3
    inventory = lynis.packages_script().splitlines()[-1]  # the package inventory only fits through S3
    assert s3[-2] == inventory and inventory not in script
    assert len(FILTERED) < 12_000 < len(RAW)  # a whole report would not fit SSM's 24,000 characters


class Agent:
    """What the instance would make SSM report: statuses in turn, then the output."""

    def __init__(self, session: boto3.session.Session, statuses: list[str], stdout: str = "",
                 stderr: str = "", code: int = 0) -> None:
        self.statuses, self.stdout, self.stderr, self.code = statuses, stdout, stderr, code
        self.polls = self.cancels = 0
        session.events.register("after-call.ssm.GetCommandInvocation", self.answer)
        session.events.register("before-call.ssm.CancelCommand", self.count_cancel)

    def answer(self, parsed: dict[str, Any], **_: Any) -> None:
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        parsed.update(Status=status, StatusDetails=status, ResponseCode=self.code if status != "InProgress" else -1,
                      StandardOutputContent=self.stdout if status == "Success" else "",
                      StandardErrorContent=self.stderr)

    def count_cancel(self, **_: Any) -> None:
        self.cancels += 1


@pytest.fixture
def session(aws: str, monkeypatch: pytest.MonkeyPatch) -> boto3.session.Session:
    """boto3's default session, which the runner uses when no aws-profile is named."""
    fresh = boto3.session.Session(region_name="eu-west-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", fresh)
    return fresh


def sent_commands(session: boto3.session.Session) -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = session.client("ssm").list_commands()["Commands"]
    return commands


def test_a_remote_audit_runs_through_ssm_and_names_the_instance(tmp_path: Path,
                                                                session: boto3.session.Session) -> None:
    agent = Agent(session, ["InProgress", "InProgress", "Success"], stdout=FILTERED)
    output = SCANNER.run(context(tmp_path), remote(), time.monotonic() + 30)
    (command,) = sent_commands(session)
    assert (command["DocumentName"], command["InstanceIds"]) == ("AWS-RunShellScript", [INSTANCE])
    assert command["Parameters"]["commands"] == lynis.remote_script(remote())
    assert command["Parameters"]["executionTimeout"] == ["30"]  # the ~30 s left, and SSM's minimum
    assert agent.polls == 3
    (report,) = output.reports
    assert report.path.read_text(encoding="utf-8").endswith(f"finish=true\nec2_instance_id={INSTANCE}\n")
    assert re.fullmatch(rf"Lynis ran on {INSTANCE} through SSM command [0-9a-f-]+ in \d+ s \(report read from stdout\)",
                        output.notes[0])
    result = parse_report(Report.from_path(str(report.path)), ParseOptions(), report.tool_id)
    assert (sum(f.is_problem for f in result.findings), len(result.findings)) == (46, 66)  # 20 passed KISA items
    assert {f.location for f in result.findings if f.rule_id == "LOGG-2138"} == {HostLocation(
        "vm", INSTANCE, "LOGG-2138", "patches-and-logs",
        "warning|klogd is not running, which could lead to missing kernel messages in log files|")}
    asff = emit_asff(result.findings, AsffContext("123456789012", "eu-west-1", Scope("acme/servers"))).findings
    assert asff_problems(asff) == []
    assert {r["Type"] for f in asff for r in f["Resources"]} == {"AwsEc2Instance"}


def test_the_whole_report_comes_through_s3_when_a_bucket_is_set(tmp_path: Path,
                                                                session: boto3.session.Session) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="acme-ssm", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    def agent_uploads(parsed: dict[str, Any], **_: Any) -> None:  # the SSM agent writes stdout to the bucket
        key = f"audits/{parsed['Command']['CommandId']}/{INSTANCE}/awsrunShellScript/0.awsrunShellScript/stdout"
        s3.put_object(Bucket="acme-ssm", Key=key, Body=RAW.encode())

    session.events.register("after-call.ssm.SendCommand", agent_uploads)
    Agent(session, ["Success"], stdout=RAW[:24_000])  # what SSM's own field would hold: cut
    options = remote(**{"ssm-output-s3-bucket": "acme-ssm", "ssm-output-s3-prefix": "/audits/"})
    output = SCANNER.run(context(tmp_path), options, time.monotonic() + 30)
    (command,) = sent_commands(session)
    assert (command["OutputS3BucketName"], command["OutputS3KeyPrefix"]) == ("acme-ssm", "audits")
    assert output.reports[0].path.read_text(encoding="utf-8") == RAW + f"ec2_instance_id={INSTANCE}\n"
    assert output.notes[0].endswith("(report read from S3)")


def test_a_report_cut_at_ssm_stdout_limit_is_refused_with_the_fix(tmp_path: Path,
                                                                  session: boto3.session.Session) -> None:
    Agent(session, ["Success"], stdout=RAW[:24_000])
    with pytest.raises(ScannerError) as refused:
        SCANNER.run(context(tmp_path), remote(), time.monotonic() + 30)
    assert "the output was truncated at SSM's 24,000 characters" in str(refused.value)
    assert refused.value.tip is not None and "ssm-output-s3-bucket" in refused.value.tip
    assert not (tmp_path / "work" / "host" / "lynis-report.dat").exists()


def test_an_instance_without_lynis_fails_with_its_message(tmp_path: Path, session: boto3.session.Session) -> None:
    Agent(session, ["InProgress", "Failed"], stderr="lynis is not installed on this instance\n", code=127)
    with pytest.raises(ScannerError, match=rf"^SSM command [0-9a-f-]+ on {INSTANCE} ended Failed \(Failed, exit 127\): "
                                           "lynis is not installed on this instance$"):
        SCANNER.run(context(tmp_path), remote(), time.monotonic() + 30)


def test_moto_alone_succeeds_with_no_output_which_is_no_report(tmp_path: Path,
                                                              session: boto3.session.Session) -> None:
    with pytest.raises(ScannerError, match="succeeded but printed no report"):
        SCANNER.run(context(tmp_path), remote(), time.monotonic() + 30)


def test_a_command_still_running_at_the_deadline_is_cancelled(tmp_path: Path,
                                                              session: boto3.session.Session) -> None:
    agent = Agent(session, ["InProgress"])
    started = time.monotonic()
    with pytest.raises(ScannerTimeout, match=f"on {INSTANCE} still InProgress at the timeout"):
        SCANNER.run(context(tmp_path), remote(), started + 0.5)
    assert time.monotonic() - started < 5
    assert agent.cancels == 1  # moto has no CancelCommand: the failed cancel is not the error reported


def test_no_region_is_one_line_with_a_tip(tmp_path: Path, aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.session.Session())
    with pytest.raises(ScannerError, match=r"^SSM: client failed: You must specify a region") as refused:
        SCANNER.run(context(tmp_path), remote(), time.monotonic() + 30)
    assert refused.value.tip is not None and "ssm-region" in refused.value.tip
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with pytest.raises(ScannerError, match=r"^SSM: Session failed: The config profile \(nobody\) could not be found"):
        SCANNER.run(context(tmp_path), remote(**{"aws-profile": "nobody", "ssm-region": "eu-west-1"}),
                    time.monotonic() + 30)
