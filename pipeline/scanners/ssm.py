"""Run a shell script on an EC2 instance through SSM Run Command, and read what it printed.

1. `send-command` with the `AWS-RunShellScript` document (or another document, such as the ZAP
   document of the codebuild-scan Terraform module): the script's lines are one script on the
   instance (variables and `trap` carry across lines); `executionTimeout` is the time left before
   the scanner's deadline, so the instance stops when Tollgate would.
2. `get-command-invocation` is polled until the command ends. Right after sending, SSM may not know
   the invocation yet (InvocationDoesNotExist); that is waited out like Pending. At the deadline
   the command is cancelled (best effort) and the scanner times out.
3. The script's stdout: SSM keeps only the first 24,000 characters in `StandardOutputContent`, so
   with `s3_bucket` set the command writes its whole output to S3 (`OutputS3BucketName`) and the
   object `<prefix>/<command id>/<instance id>/.../stdout` is read instead. Without a bucket, output
   that reaches the limit is refused as truncated, with the setting that fixes it.

boto3 is imported inside `aws_session`, only when a remote scan runs. The session is the
caller's default one (`boto3.DEFAULT_SESSION`, for tests and embedding) unless a profile is named.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline import termination
from pipeline.errors import ScannerError, ScannerTimeout

if TYPE_CHECKING:
    import boto3

DOCUMENT = "AWS-RunShellScript"
STDOUT_LIMIT = 24_000  # characters of stdout SSM returns in StandardOutputContent
MIN_TIMEOUT = 30  # SendCommand's TimeoutSeconds minimum
WAITING = frozenset({"Pending", "InProgress", "Delayed", "Cancelling"})
CREDENTIALS_TIP = "configure AWS credentials (OIDC role, profile or environment) with ssm:SendCommand and " \
                  "ssm:GetCommandInvocation on the instance; set the region with ssm-region or $AWS_REGION"


StatusHook = Callable[[str, str], None]  # (command id, status), called when the status changes

S3_TIP = "the instance role needs s3:PutObject on the report prefix, and Tollgate's credentials s3:GetObject"


@dataclass(frozen=True)
class SsmTarget:
    instance_id: str
    region: str | None = None
    profile: str | None = None  # AWS profile; None: the default credential chain
    s3_bucket: str | None = None
    s3_prefix: str | None = None
    poll_seconds: float = 5.0


@dataclass(frozen=True)
class RemoteOutput:
    command_id: str
    stdout: str
    from_s3: bool


def send_command_args(target: SsmTarget, document: str, parameters: Mapping[str, list[str]], seconds: float,
                      comment: str) -> dict[str, Any]:
    """The SendCommand request: one instance, the document and its parameters, a timeout no later than the
    deadline (the document's `executionTimeout` parameter, which AWS-RunShellScript and Tollgate's own take)."""
    timeout = max(int(seconds), MIN_TIMEOUT)
    args: dict[str, Any] = {
        "InstanceIds": [target.instance_id],
        "DocumentName": document,
        "Comment": comment[:100],  # SendCommand's limit
        "TimeoutSeconds": timeout,
        "Parameters": {**parameters, "executionTimeout": [str(timeout)]},
    }
    if target.s3_bucket:
        args["OutputS3BucketName"] = target.s3_bucket
        if target.s3_prefix:
            args["OutputS3KeyPrefix"] = target.s3_prefix.strip("/")
    return args


def run_document(target: SsmTarget, document: str, parameters: Mapping[str, list[str]], deadline: float,
                 comment: str, *, on_status: StatusHook | None = None) -> tuple[str, dict[str, Any]]:
    """Send the command and wait for it to succeed: its id and the final invocation."""
    ssm = _client(aws_session(target.profile), "ssm", target)
    args = send_command_args(target, document, parameters, deadline - time.monotonic(), comment)
    command_id = str(_call("SendCommand", lambda: ssm.send_command(**args))["Command"]["CommandId"])
    return command_id, wait_for(ssm, command_id, target, deadline, on_status)


def run_script(target: SsmTarget, commands: list[str], deadline: float, comment: str) -> RemoteOutput:
    """Run `commands` on the instance and return its stdout; ScannerError or ScannerTimeout otherwise."""
    command_id, invocation = run_document(target, DOCUMENT, {"commands": commands}, deadline, comment)
    if target.s3_bucket:
        stdout = fetch_s3_stdout(_client(aws_session(target.profile), "s3", target), target, command_id)
        return RemoteOutput(command_id, stdout, from_s3=True)
    stdout = str(invocation.get("StandardOutputContent") or "")
    if len(stdout) >= STDOUT_LIMIT:
        raise ScannerError(
            f"SSM command {command_id} on {target.instance_id}: the output was truncated at SSM's "
            f"{STDOUT_LIMIT:,} characters, so the report is incomplete",
            tip="set ssm-output-s3-bucket (and the instance role's s3:PutObject on it) to read the whole report",
        )
    return RemoteOutput(command_id, stdout, from_s3=False)


def wait_for(ssm: Any, command_id: str, target: SsmTarget, deadline: float,
             on_status: StatusHook | None = None) -> dict[str, Any]:
    """Poll until the invocation ends; its response when it succeeded. `on_status` hears each new status."""
    status = "Pending"
    while True:
        invocation = _invocation(ssm, command_id, target)
        if invocation is not None:
            previous, status = status, str(invocation.get("Status"))
            if on_status is not None and status != previous:
                on_status(command_id, status)
            if status == "Success":
                return invocation
            if status not in WAITING:
                raise _failed(command_id, target, invocation)
        if time.monotonic() + target.poll_seconds >= deadline:
            cancel(ssm, command_id, target)
            raise ScannerTimeout(f"SSM command {command_id} on {target.instance_id} still {status} at the timeout")
        try:
            termination.pause(target.poll_seconds, f"SSM command {command_id}")
        except ScannerError:
            cancel(ssm, command_id, target)  # the instance must not keep running what nobody waits for
            raise


def _invocation(ssm: Any, command_id: str, target: SsmTarget) -> dict[str, Any] | None:
    """The invocation, or None while SSM does not know it yet."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - only for remote scans

    try:
        response: dict[str, Any] = ssm.get_command_invocation(CommandId=command_id, InstanceId=target.instance_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvocationDoesNotExist":
            return None
        raise _scanner_error("GetCommandInvocation", exc) from None
    except BotoCoreError as exc:
        raise _scanner_error("GetCommandInvocation", exc) from None
    return response


def _failed(command_id: str, target: SsmTarget, invocation: dict[str, Any]) -> ScannerError:
    stderr = " | ".join(str(invocation.get("StandardErrorContent") or "").strip().splitlines()[-5:])
    ended = (f"SSM command {command_id} on {target.instance_id} ended {invocation.get('Status')} "
             f"({invocation.get('StatusDetails')}, exit {invocation.get('ResponseCode')})")
    return ScannerError(f"{ended}: {stderr}" if stderr else ended)


def cancel(ssm: Any, command_id: str, target: SsmTarget) -> None:
    """Best effort: the timeout is the error worth reporting, not a failed cancel."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    with contextlib.suppress(BotoCoreError, ClientError):
        ssm.cancel_command(CommandId=command_id, InstanceIds=[target.instance_id])


def fetch_s3_stdout(s3: Any, target: SsmTarget, command_id: str) -> str:
    """The `stdout` object SSM wrote under `<prefix>/<command id>/<instance id>/`."""
    prefix = "/".join(part for part in ((target.s3_prefix or "").strip("/"), command_id, target.instance_id) if part)
    listing = _call("ListObjectsV2", lambda: s3.list_objects_v2(Bucket=target.s3_bucket, Prefix=f"{prefix}/"))
    keys = sorted(str(item["Key"]) for item in listing.get("Contents", ()) if str(item["Key"]).endswith("/stdout"))
    if not keys:
        raise ScannerError(f"SSM command {command_id}: no stdout object under s3://{target.s3_bucket}/{prefix}/",
                           tip="the instance role needs s3:PutObject on that bucket")
    response = _call("GetObject", lambda: s3.get_object(Bucket=target.s3_bucket, Key=keys[0]))
    return bytes(response["Body"].read()).decode("utf-8", errors="replace")


def read_s3_object(target: SsmTarget, bucket: str, key: str) -> bytes:
    """An object the command wrote; a missing one says what the instance needs."""
    s3 = _client(aws_session(target.profile), "s3", target)
    response = _call("GetObject", lambda: s3.get_object(Bucket=bucket, Key=key))
    return bytes(response["Body"].read())


def aws_session(profile: str | None) -> boto3.session.Session:
    import boto3  # noqa: PLC0415 - boto3 loads only when a remote scan runs

    if profile:
        return _call("Session", lambda: boto3.session.Session(profile_name=profile))
    return boto3.DEFAULT_SESSION or boto3.session.Session()


def _client(session: boto3.session.Session, service: str, target: SsmTarget) -> Any:
    return _call("client", lambda: session.client(service, region_name=target.region))


def _call(operation: str, call: Callable[[], Any]) -> Any:
    """One AWS call; its botocore error becomes a one-line ScannerError naming the operation."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        return call()
    except (BotoCoreError, ClientError) as exc:
        raise _scanner_error(operation, exc) from None


def _scanner_error(operation: str, exc: Exception) -> ScannerError:
    tip = S3_TIP if operation == "GetObject" else CREDENTIALS_TIP
    return ScannerError(f"SSM: {operation} failed: {exc}", tip=tip)
