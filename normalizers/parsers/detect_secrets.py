"""detect-secrets' JSON baseline (`detect-secrets scan`, 1.x).

The baseline holds no secret, only `hashed_secret` (a SHA-1 of it), and Tollgate stores
nothing more. Identity must not move with line numbers, so the location's identity anchor
is `<type>:<hashed_secret>`: stable, and no secret.

Severity and confidence, decided here:
- `is_verified: true` (detect-secrets confirmed it live with the provider): CRITICAL, HIGH.
- `is_secret: true` (a person audited it as real): HIGH, HIGH.
- otherwise, unconfirmed: MEDIUM; confidence LOW for the entropy and keyword heuristics,
  which are noisy, and MEDIUM for the pattern detectors (AWS, Slack, private keys, ...).
- `is_secret: false` (audited as a false positive): kept with `active=False`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Category, CodeLocation, Confidence, Finding, Remediation, Severity, Skipped, Tool
from normalizers.numbers import positive_int
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.paths import repo_relative
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

TOOL_NAME = "detect-secrets"
_HEURISTIC_TYPES = frozenset({"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"})
_REMEDIATION = Remediation(
    text=(
        "Treat the secret as leaked: revoke or rotate it, remove it from the code and its history, and load it "
        "from a secret store or the environment. If it is not a secret, audit the baseline "
        "(`detect-secrets audit`) or mark the line with `# pragma: allowlist secret`."
    )
)


def _is_baseline(document: Any) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(document, dict)
        and isinstance(document.get("results"), dict)
        and ("plugins_used" in document or "generated_at" in document)
    )


def _rating(secret: dict[str, Any], secret_type: str) -> tuple[Severity, Confidence]:
    if secret.get("is_verified") is True:
        return Severity.CRITICAL, Confidence.HIGH
    if secret.get("is_secret") is True:
        return Severity.HIGH, Confidence.HIGH
    return Severity.MEDIUM, Confidence.LOW if secret_type in _HEURISTIC_TYPES else Confidence.MEDIUM


def _finding(tool: Tool, filename: str, secret: Any, options: ParseOptions) -> Finding | str:
    if not isinstance(secret, dict):
        return "the result is not an object"
    secret_type, hashed = secret.get("type"), secret.get("hashed_secret")
    if not isinstance(secret_type, str) or not isinstance(hashed, str):
        return "the result has no `type` or `hashed_secret`"
    path = repo_relative(str(secret.get("filename") or filename), options.source_root)
    line = positive_int(secret.get("line_number"))
    severity, confidence = _rating(secret, secret_type)
    false_positive = secret.get("is_secret") is False
    return Finding(
        tool=tool,
        rule_id=secret_type,
        title=f"Potential secret: {secret_type}",
        severity=severity,
        original_severity="verified" if secret.get("is_verified") is True else None,
        confidence=confidence,
        location=CodeLocation(path=path, start_line=line, end_line=line, anchor=f"{secret_type}:{hashed}"),
        description=f"detect-secrets found a potential {secret_type} in {path}{f' at line {line}' if line else ''}.",
        cwe=(798,),  # Use of Hard-coded Credentials
        remediation=_REMEDIATION,
        active=not false_positive,
        suppression_reason="audited as a false positive in the detect-secrets baseline" if false_positive else None,
        properties=(("detect_secrets.hashed_secret", hashed),),
    )


class DetectSecretsParser(Parser):
    tool_id = ToolId.DETECT_SECRETS

    def sniff(self, report: Report) -> bool:
        return _is_baseline(report.json_or_none())

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        document = report.json if report.looks_like_json else None  # truncated JSON: MalformedReportError
        if not _is_baseline(document):
            raise UnsupportedReportError(f"{report.source}: not a detect-secrets baseline")
        tool = Tool(name=TOOL_NAME, category=Category.SECRETS, version=str(document.get("version") or "") or None)
        for filename, secrets in document["results"].items():
            if not isinstance(secrets, list):
                raise MalformedReportError(f"{report.source}: detect-secrets results for {filename!r} are not a list")
            for index, secret in enumerate(secrets):
                result = _finding(tool, filename, secret, options)
                if isinstance(result, str):
                    yield Skipped(tool=TOOL_NAME, reason=result, record=f"results[{filename!r}][{index}]")
                else:
                    yield result


PARSER = DetectSecretsParser()
