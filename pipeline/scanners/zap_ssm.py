"""ZAP on an EC2 instance through SSM: the application runs on that host, and ZAP runs beside it.

The codebuild-scan Terraform module creates the SSM document (`tollgate-scan-zap` by default). It
runs ZAP's packaged scan (`zap-baseline.py`, or `zap-full-scan.py` in `mode: full`) from a ZAP image
pinned by digest, in Docker on the host's network, against one target, and copies the traditional-JSON
report to `s3://<report-bucket>/<key>`. The image is fixed in the document, not a parameter, so the
caller cannot swap it; every parameter has an `allowedPattern` that SSM enforces, and Tollgate
checks the same patterns before sending, so a URL cannot smuggle shell into the script.

For each DAST target (already cleared by the scope guard, before any command is sent) this scanner
sends the document to `ssm-instance-id`, waits (printing each status change, cancelling at the
timeout) with the host audit's SSM code (pipeline/scanners/ssm.py), then reads the report from S3
and hands it to the ZAP JSON parser.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
import uuid

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.atomic import write_atomic
from pipeline.errors import ScannerError
from pipeline.scanners.base import (
    Options,
    ReportFile,
    ScanContext,
    Scanner,
    ScannerOutput,
    ScannerSpec,
    SkipKind,
    SkipReason,
)
from pipeline.scanners.schema import SECONDS, STRING
from pipeline.scanners.ssm import SsmTarget, StatusHook, read_s3_object, run_document
from pipeline.scope import GuardedTarget

DOCUMENT = "tollgate-scan-zap"  # the codebuild-scan module's default name, plus -zap
# The document's allowedPattern of each parameter (terraform/modules/codebuild-scan/zap-document.yaml holds the same).
TARGET_PATTERN = r"^https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?$"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,900}\.json$"
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"


def report_key(options: Options, run_id: str, target: GuardedTarget) -> str:
    prefix = str(options.get("report-prefix", "tollgate/dast")).strip("/")
    name = f"{run_id}/zap-{hashlib.sha256(target.url.encode()).hexdigest()[:12]}.json"
    return f"{prefix}/{name}" if prefix else name


def document_parameters(target: GuardedTarget, bucket: str, key: str, mode: str) -> dict[str, list[str]]:
    """The document's parameters, each checked against the pattern SSM enforces, so a refusal is ours and clear."""
    for what, value, pattern in (("target", target.url, TARGET_PATTERN), ("report-bucket", bucket, BUCKET_PATTERN),
                                 ("report key", key, KEY_PATTERN)):
        if not re.match(pattern, value):
            raise ScannerError(f"zap-ssm: the {what} {value!r} does not match the SSM document's pattern {pattern} "
                               "(a target may hold a scheme, host, port and plain path, no query string)")
    return {"targetUrl": [target.url], "mode": [mode], "reportBucket": [bucket], "reportKey": [key]}


def ssm_target(options: Options) -> SsmTarget:
    return SsmTarget(instance_id=options.get("ssm-instance-id"), region=options.get("ssm-region"),
                     profile=options.get("aws-profile"), poll_seconds=float(options.get("poll-seconds", 10.0)))


def print_status(instance_id: str, started: float) -> StatusHook:
    """Progress for CI logs: one line per status change of the command."""

    def on_status(command_id: str, status: str) -> None:
        print(f"tollgate: zap-ssm: SSM command {command_id} on {instance_id} {status} "
              f"after {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return on_status


class ZapSsm(Scanner):
    spec = ScannerSpec(
        name="zap-ssm",
        title="ZAP (SSM)",
        category=Category.DAST,
        tool_ids=(ToolId.ZAP_JSON,),
        install="apply terraform/modules/codebuild-scan with dast_instance_arns (the SSM document), give the "
        "instance Docker, the SSM agent and s3:PutObject on the report prefix; pip install boto3",
        timeout=3600,
        homepage="https://www.zaproxy.org/docs/docker/",
        expected_seconds=600, memory_mb=100, uses_core=False,
        enabled=False,  # needs an instance and the document: opt-in
        options={
            "ssm-instance-id": {"type": "string", "pattern": "^m?i-[0-9a-f]{8,17}$"},
            "document": STRING,
            "report-bucket": {"type": "string", "pattern": BUCKET_PATTERN},
            "report-prefix": STRING,
            "mode": {"enum": ["baseline", "full"]},
            "ssm-region": STRING,
            "aws-profile": STRING,
            "poll-seconds": SECONDS,
        },
        defaults={"mode": "baseline", "document": DOCUMENT, "report-prefix": "tollgate/dast"},
        dast_engine=True,
    )

    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        if not ctx.dast_targets:
            return SkipReason(SkipKind.NOTHING_TO_SCAN, "no DAST target (--dast-target or scan.dast.targets)")
        unset = [name for name in ("ssm-instance-id", "report-bucket") if not options.get(name)]
        if unset:
            return SkipReason(SkipKind.NOT_CONFIGURED,
                              f"set {' and '.join(unset)} under scan.scanners.zap-ssm in .tollgate.yml")
        return None

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        target = ssm_target(options)
        bucket = str(options.get("report-bucket"))
        run_id = uuid.uuid4().hex
        reports, notes = [], []
        for dast_target in ctx.dast_targets:
            key = report_key(options, run_id, dast_target)
            parameters = document_parameters(dast_target, bucket, key, options.get("mode", "baseline"))
            started = time.monotonic()
            command_id, _ = run_document(target, options.get("document", DOCUMENT), parameters, deadline,
                                         f"tollgate DAST (ZAP) {dast_target.host}",
                                         on_status=print_status(target.instance_id, started))
            body = read_s3_object(target, bucket, key)
            if not body.lstrip().startswith(b"{"):
                raise ScannerError(f"zap-ssm: s3://{bucket}/{key} is not a ZAP JSON report")
            report = ctx.folder(self.spec.name) / key.rsplit("/", 1)[-1]
            write_atomic(report, body)
            reports.append(ReportFile(report, ToolId.ZAP_JSON))
            notes.append(f"ZAP scanned {dast_target.url} on {target.instance_id} through SSM command {command_id} "
                         f"in {time.monotonic() - started:.0f} s (report s3://{bucket}/{key})")
        return ScannerOutput(reports=tuple(reports), notes=tuple(notes))


SCANNER = ZapSsm()
SCANNERS = (SCANNER,)
