"""Findings for the publish tests and benchmark: distinct, deterministic, built from the model."""

from __future__ import annotations

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
