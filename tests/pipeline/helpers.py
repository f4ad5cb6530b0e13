"""Findings for the gate and report tests, built from normalizers.model with real fingerprints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from normalizers.identity import with_fingerprints
from normalizers.model import (
    Category,
    CodeLocation,
    Finding,
    ImageLocation,
    Location,
    PackageLocation,
    Remediation,
    Scope,
    Severity,
    Tool,
    UrlLocation,
)
from normalizers.results import Results, results_to_dict

SCOPE = Scope(repository="acme/shop", branch="feature/login", commit="0123456789abcdef0123456789abcdef01234567")
TOOL_CATEGORIES = {
    "semgrep": Category.SAST,
    "bandit": Category.SAST,
    "trivy": Category.SCA,
    "dependency-check": Category.SCA,
    "zap": Category.DAST,
    "checkov": Category.IAC,
    "detect-secrets": Category.SECRETS,
    "nodejsscan": Category.SAST,
}


def code(path: str = "src/app.py", line: int = 10, snippet: str | None = None) -> CodeLocation:
    return CodeLocation(path=path, start_line=line, end_line=line, snippet=snippet or f"call_{path}_{line}()")


def package(name: str = "lodash", version: str = "4.17.20", ecosystem: str = "npm",
            manifest: str = "package-lock.json", purl: str | None = None) -> PackageLocation:
    return PackageLocation(name=name, version=version, purl=purl or f"pkg:{ecosystem}/{name}@{version}",
                           ecosystem=ecosystem, manifest_path=manifest)


def url(address: str = "http://127.0.0.1:8080/search", parameter: str | None = "q") -> UrlLocation:
    return UrlLocation(url=address, method="GET", parameter=parameter)


def image(reference: str = "registry.local/shop:1.2", pkg: PackageLocation | None = None) -> ImageLocation:
    return ImageLocation(reference=reference, package=pkg or package("openssl", "3.0.2", "deb", "Dockerfile"))


def finding(rule_id: str = "python.lang.security.eval", severity: Severity = Severity.HIGH, *,
            tool: str = "semgrep", location: Location | None = None, title: str | None = None,
            description: str = "", vulnerability_ids: tuple[str, ...] = (), references: tuple[str, ...] = (),
            remediation_url: str | None = None, active: bool = True) -> Finding:
    return Finding(
        tool=Tool(tool, TOOL_CATEGORIES[tool]),
        rule_id=rule_id,
        title=title or f"{rule_id} found",
        severity=severity,
        location=location or code(),
        description=description,
        vulnerability_ids=vulnerability_ids,
        references=references,
        remediation=Remediation(url=remediation_url) if remediation_url else None,
        active=active,
        suppression_reason=None if active else "marked false positive in the tool",
    )


def fingerprinted(*findings: Finding) -> list[Finding]:
    return with_fingerprints(findings)


def results_document(findings: list[Finding], scope: Scope = SCOPE) -> dict[str, Any]:
    return results_to_dict(Results(scope=scope, findings=tuple(fingerprinted(*findings))))


def write_results(path: Path, findings: list[Finding], scope: Scope = SCOPE) -> Path:
    path.write_text(json.dumps(results_document(findings, scope)), encoding="utf-8")
    return path
