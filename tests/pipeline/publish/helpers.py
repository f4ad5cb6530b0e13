"""Findings for the publish tests and benchmark: distinct, deterministic, built from the model.

Below: botocore event hooks on real Security Hub calls (`CallCounter`, `FaultInjector`).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from normalizers.identity import with_fingerprints
from normalizers.model import Category, CodeLocation, Finding, PackageLocation, Scope, Severity, Tool

TRIVY = Tool(name="trivy", category=Category.SCA, version="0.50.1")
SEMGREP = Tool(name="semgrep", category=Category.SAST, version="1.60.0")
_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


def package_finding(index: int) -> Finding:
    cve = f"CVE-2024-{10000 + index}"
    return Finding(
        tool=TRIVY,
        rule_id=cve,
        title=f"{cve} in examplelib{index}",
        severity=_SEVERITIES[index % len(_SEVERITIES)],
        location=PackageLocation(
            name=f"examplelib{index}",
            version="1.0.0",
            purl=f"pkg:pypi/examplelib{index}@1.0.0",
            ecosystem="pypi",
            manifest_path="requirements.txt",
            fixed_versions=("1.0.1",),
        ),
        description=f"A vulnerability in examplelib{index} before 1.0.1.",
        vulnerability_ids=(cve,),
    )


def code_finding(index: int) -> Finding:
    return Finding(
        tool=SEMGREP,
        rule_id="python.lang.security.audit.subprocess-shell-true",
        title="subprocess call with shell=True",
        severity=Severity.HIGH,
        location=CodeLocation(path=f"app/module{index}.py", start_line=10, snippet=f"run(cmd{index}, shell=True)"),
        description="Running a shell with untrusted input allows command injection.",
        cwe=(78,),
    )


def package_findings(count: int, start: int = 0) -> tuple[Finding, ...]:
    return tuple(with_fingerprints(package_finding(i) for i in range(start, start + count)))


def code_findings(count: int) -> tuple[Finding, ...]:
    return tuple(with_fingerprints(code_finding(i) for i in range(count)))


def scope(repository: str = "octo/shop", branch: str | None = "main", environment: str | None = None) -> Scope:
    return Scope(repository=repository, branch=branch, environment=environment, commit="0" * 40)


# Botocore event hooks on real Security Hub calls: a call counter and a fault injector.
#
# `CallCounter` counts API calls of one operation (one per call, however many HTTP attempts).
# For `FaultInjector`, throttles are real HTTP 429 responses returned from `before-send`, so botocore's adaptive
# retries see them. FailedFindings are real too: the chosen findings are removed from the
# request before it is sent (so they really are absent from Security Hub) and listed in the
# parsed response after the call, exactly as Security Hub reports a failed finding.
EVENT = "securityhub.BatchImportFindings"


class CallCounter:
    def __init__(self, session: boto3.session.Session, operation: str = "BatchImportFindings") -> None:
        self.calls = 0
        self._lock = threading.Lock()
        session.events.register(f"before-call.securityhub.{operation}", self._count)

    def _count(self, **_: Any) -> None:
        with self._lock:
            self.calls += 1


class _Body:
    """The raw-stream side of an HTTP response, as botocore reads it."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class FaultInjector:
    """Throttles a share of HTTP attempts (optionally every attempt of the first call), and
    answers chosen findings with FailedFindings.

    Held-back findings are removed from the request before it is sent, so a "failed" finding
    really is absent from Security Hub; `transient` Ids fail once, `permanent` Ids always.
    """

    def __init__(self, session: boto3.session.Session, *, throttle_ratio: float, transient: set[str],
                 permanent: dict[str, str], exhaust_first_call: bool = False, seed: int = 7) -> None:
        self.throttle_ratio = throttle_ratio
        self.exhaust_first_call = exhaust_first_call
        self.transient = set(transient)
        self.permanent = permanent
        self.random = random.Random(seed)  # noqa: S311 - a repeatable fault schedule, not a secret
        self.lock = threading.Lock()
        self.first_invocation: dict[str, str] = {}
        self.attempts = self.throttled = self.held_transient = self.calls_failed = 0
        session.events.register(f"before-send.{EVENT}", self.throttle)
        session.events.register(f"provide-client-params.{EVENT}", self.hold_back)
        session.events.register(f"before-call.{EVENT}", self.answer_without_sending)
        session.events.register(f"after-call.{EVENT}", self.report_held_back)

    def throttle(self, request: Any, **_: Any) -> AWSResponse | None:
        with self.lock:
            self.attempts += 1
            # Throttling every attempt of the first call makes sure one call outlives botocore's retries.
            first_call = self.first_invocation.setdefault("id", request.headers["amz-sdk-invocation-id"])
            doomed = self.exhaust_first_call and request.headers["amz-sdk-invocation-id"] == first_call
            if not doomed and self.random.random() >= self.throttle_ratio:
                return None
            self.throttled += 1
        headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"}
        return AWSResponse(request.url, 429, headers, _Body(b'{"message": "Rate exceeded"}'))

    def hold_back(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> dict[str, Any]:
        kept, held = [], []
        with self.lock:
            for finding in params["Findings"]:
                code = self.permanent.get(finding["Id"])
                if code is None and finding["Id"] in self.transient:
                    self.transient.discard(finding["Id"])
                    self.held_transient += 1
                    code = "InternalError" if self.held_transient % 2 else "ThrottlingException"
                (held if code else kept).append((finding, code))
        context["held"] = [{"Id": f["Id"], "ErrorCode": code, "ErrorMessage": "injected"} for f, code in held]
        if not kept:  # botocore refuses an empty list: answer this call without sending anything
            context["answer_without_sending"] = True
            return params
        return {**params, "Findings": [finding for finding, _ in kept]}

    def answer_without_sending(self, params: dict[str, Any], context: dict[str, Any],
                               **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not context.get("answer_without_sending"):
            return None
        return AWSResponse(params["url"], 200, {}, _Body(b"{}")), {"FailedCount": 0, "FailedFindings": []}

    def report_held_back(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if http_response.status_code == 429:  # botocore gave up: the publisher must resend the batch
            self.calls_failed += 1
        if http_response.status_code == 200:
            parsed["FailedFindings"] = [*parsed.get("FailedFindings", []), *context["held"]]
            parsed["FailedCount"] = parsed.get("FailedCount", 0) + len(context["held"])
