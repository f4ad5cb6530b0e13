"""detect-secrets baselines: no secret stored, identity independent of line numbers."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import CodeLocation, Confidence, Finding, Severity
from normalizers.parsers import detect_secrets
from normalizers.parsers.base import ParseOptions
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import (
    finding_dicts,
    parse_bytes,
    parse_fixture,
)

SECRETS = FIXTURES / "detect_secrets"
RECORDED = "detect-secrets-1.5.0-fake-aws-key.json"
# AWS's documented example key pair, split so that no scanner flags this test file itself.
FAKE_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
SETTINGS = (
    f'"""Settings."""\n\nDEBUG = False\nAWS_ACCESS_KEY_ID = "{FAKE_KEY_ID}"\nAWS_SECRET_ACCESS_KEY = "{FAKE_SECRET}"\n'
)


def _code(finding: Finding) -> CodeLocation:
    assert isinstance(finding.location, CodeLocation)
    return finding.location


def test_recorded_baseline_maps_a_fake_aws_key() -> None:
    result = parse_fixture("detect_secrets", RECORDED, ToolId.DETECT_SECRETS)
    key = result.findings[0]
    assert (key.tool.name, key.tool.version, key.category.value) == ("detect-secrets", "1.5.0", "secrets")
    assert (key.rule_id, key.title) == ("AWS Access Key", "Potential secret: AWS Access Key")
    assert (key.severity, key.confidence, key.cwe) == (Severity.MEDIUM, Confidence.MEDIUM, (798,))
    assert _code(key) == CodeLocation(
        path="app/settings.py",
        start_line=4,
        end_line=4,
        anchor="AWS Access Key:25910f981e85ca04baf359199dd0bd4a3ae738b6",
    )
    assert key.description == "detect-secrets found a potential AWS Access Key in app/settings.py at line 4."
    assert [(f.rule_id, f.confidence) for f in result.findings[1:]] == [
        ("AWS Access Key", Confidence.MEDIUM),
        ("Base64 High Entropy String", Confidence.LOW),
        ("Secret Keyword", Confidence.LOW),
    ]


def test_no_secret_is_stored() -> None:
    rendered = json.dumps(finding_dicts(parse_fixture("detect_secrets", RECORDED, ToolId.DETECT_SECRETS)))
    assert FAKE_KEY_ID not in rendered and FAKE_SECRET not in rendered


def test_identity_does_not_move_with_the_line() -> None:
    baseline = json.loads((SECRETS / RECORDED).read_bytes())
    before = parse_bytes("before.json", json.dumps(baseline).encode(), ToolId.DETECT_SECRETS)
    for secret in baseline["results"]["app/settings.py"]:
        secret["line_number"] += 10
    after = parse_bytes("after.json", json.dumps(baseline).encode(), ToolId.DETECT_SECRETS)
    assert [f.fingerprint for f in after.findings] == [f.fingerprint for f in before.findings]
    assert len({f.fingerprint for f in before.findings}) == 4


def test_audited_and_verified_results() -> None:
    result = parse_fixture("detect_secrets", "many_findings.json", ToolId.DETECT_SECRETS)
    audited_true, audited_false = result.findings[1], result.findings[3]
    assert (audited_true.severity, audited_true.confidence, audited_true.active) == (
        Severity.HIGH,
        Confidence.HIGH,
        True,
    )
    assert (audited_false.active, audited_false.suppression_reason) == (
        False,
        "audited as a false positive in the detect-secrets baseline",
    )
    assert _code(audited_false).path == "example/pkg/docker_registry_watcher/docker_registry_watcher.go"
    baseline = json.loads((SECRETS / "many_findings.json").read_bytes())
    baseline["results"]["modules_images"][0]["is_verified"] = True
    verified = parse_bytes("verified.json", json.dumps(baseline).encode(), ToolId.DETECT_SECRETS).findings[0]
    assert (verified.severity, verified.original_severity, verified.confidence) == (
        Severity.CRITICAL,
        "verified",
        Confidence.HIGH,
    )


def test_absolute_paths_become_repository_relative() -> None:
    baseline = json.loads((SECRETS / RECORDED).read_bytes())
    entries = baseline["results"].pop("app/settings.py")
    for entry in entries:
        entry["filename"] = "/github/workspace/app/settings.py"
    baseline["results"]["/github/workspace/app/settings.py"] = entries
    report = Report(source="abs.json", raw=json.dumps(baseline).encode())
    findings = list(detect_secrets.PARSER.parse(report, ParseOptions(source_root="/github/workspace")))
    assert {_code(f).path for f in findings if isinstance(f, Finding)} == {"app/settings.py"}


def test_bad_result_is_skipped() -> None:
    baseline = json.loads((SECRETS / RECORDED).read_bytes())
    baseline["results"]["app/settings.py"].append({"type": "AWS Access Key", "line_number": 9})
    result = parse_bytes("bad.json", json.dumps(baseline).encode(), ToolId.DETECT_SECRETS)
    assert len(result.findings) == 4
    assert [(s.reason, s.record) for s in result.skipped] == [
        ("the result has no `type` or `hashed_secret`", "results['app/settings.py'][4]")
    ]


def test_no_findings_baseline() -> None:
    result = parse_fixture("detect_secrets", "no_findings.json", ToolId.DETECT_SECRETS)
    assert (result.findings, result.skipped) == ((), ())


def test_a_broken_baseline_is_malformed() -> None:
    baseline = json.loads((SECRETS / RECORDED).read_bytes())
    baseline["results"]["app/settings.py"] = {"not": "a list"}
    with pytest.raises(MalformedReportError, match=r"^broken\.json: detect-secrets results for 'app/settings.py'"):
        parse_bytes("broken.json", json.dumps(baseline).encode(), ToolId.DETECT_SECRETS)


@pytest.mark.parametrize(
    "other", [FIXTURES / "zap" / "basic-traditional-json.json", FIXTURES / "wapiti" / "example.xml"]
)
def test_other_formats_are_unsupported(other: Path) -> None:
    report = Report.from_path(str(other))
    assert not detect_secrets.PARSER.sniff(report)
    with pytest.raises(UnsupportedReportError, match=rf"^{re.escape(str(other))}: not a detect-secrets baseline"):
        list(detect_secrets.PARSER.parse(report, ParseOptions()))


def _detect_secrets_command() -> str | None:
    beside_python = Path(sys.executable).with_name("detect-secrets")
    return str(beside_python) if beside_python.exists() else shutil.which("detect-secrets")


@pytest.mark.slow
def test_live_scan_of_a_fake_aws_key(tmp_path: Path) -> None:
    command = _detect_secrets_command()
    if command is None:
        pytest.skip("detect-secrets is not installed; run: .venv/bin/pip install detect-secrets")
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "settings.py").write_text(SETTINGS, encoding="utf-8")
    (repo / "README.md").write_text("# demo\n", encoding="utf-8")
    run = subprocess.run(  # -n: never try to verify a secret online
        [command, "scan", "--all-files", "-n", "."],
        cwd=repo, env={**os.environ, "HOME": str(tmp_path)}, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    result = parse_bytes("live-baseline.json", run.stdout, ToolId.DETECT_SECRETS)
    recorded = parse_fixture("detect_secrets", RECORDED, ToolId.DETECT_SECRETS)
    found = {(f.rule_id, _code(f).path, _code(f).start_line) for f in result.findings}
    assert ("AWS Access Key", "app/settings.py", 4) in found
    # Same content, same identities: the recorded baseline and a fresh scan agree.
    assert {f.fingerprint for f in recorded.findings} <= {f.fingerprint for f in result.findings}
    assert FAKE_KEY_ID not in run.stdout.decode()
