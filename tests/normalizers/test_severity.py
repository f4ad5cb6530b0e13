"""Calibrated severity: Checkov, hadolint and Bandit on one scale (docs/severity.md)."""

from __future__ import annotations

import json

import pytest

from normalizers.checks import all_checks, canonical_id, check_for
from normalizers.model import Finding, Severity
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.severity import RuleFacts, calibrated
from tests.conftest import FIXTURES

APP = FIXTURES / "merge" / "vulnerable-app"
APP_ROOT = "/work/wt-trust2/examples/vulnerable-app"  # where the recorded scan ran


def _parsed(name: str) -> dict[str, Finding]:
    result = parse_report(Report.from_path(str(APP / name)), ParseOptions(source_root=APP_ROOT))
    return {f.rule_id: f for f in result.findings}


def test_checkov_takes_trivys_rating_of_the_same_check() -> None:
    checkov, trivy = _parsed("checkov.sarif"), _parsed("trivy-config.sarif")
    assert checkov["CKV_DOCKER_2"].severity is trivy["DS-0026"].severity is Severity.LOW  # no HEALTHCHECK
    assert checkov["CKV_DOCKER_8"].severity is trivy["DS-0002"].severity is Severity.HIGH  # root user
    assert checkov["CKV_AWS_24"].severity is trivy["AWS-0107"].severity is Severity.HIGH  # SSH open
    assert checkov["CKV_AWS_382"].severity is trivy["AWS-0104"].severity is Severity.CRITICAL
    assert checkov["CKV_DOCKER_8"].original_severity == "error"  # the tool's own rating is kept


def test_checkov_check_without_an_equivalent_is_rated_from_its_name() -> None:
    checkov = _parsed("checkov.sarif")
    assert checkov["CKV2_AWS_5"].severity is Severity.LOW  # "Security Groups are attached to another resource"

    def rate(rule_id: str, name: str) -> Severity | None:
        return calibrated(RuleFacts("Checkov", rule_id, name, "error", {}))

    assert rate("CKV_AWS_999", "Ensure the thing is not publicly accessible") is Severity.HIGH
    assert rate("CKV_AWS_998", "Ensure API Gateway has access logging enabled") is Severity.LOW
    assert rate("CKV_AWS_997", "Ensure the queue is encrypted at rest") is Severity.MEDIUM
    assert rate("CKV_AWS_996", "Ensure something unusual") is Severity.MEDIUM
    assert rate("CKV_SECRET_2", "AWS Access Key") is Severity.HIGH


def test_hadolint_levels_step_down_unless_the_check_is_a_security_problem() -> None:
    hadolint = _parsed("hadolint.sarif")
    assert hadolint["DL3008"].severity is Severity.LOW  # warning: pin apt versions
    assert hadolint["DL3066"].severity is Severity.INFO  # info
    assert hadolint["DL3002"].severity is Severity.HIGH  # warning, but the root user: iac_checks.yml
    assert calibrated(RuleFacts("Hadolint", "DL3999", "x", "error", {})) is Severity.MEDIUM


@pytest.mark.parametrize(("severity", "confidence", "expected"), [
    ("HIGH", "HIGH", Severity.HIGH),
    ("HIGH", "MEDIUM", Severity.MEDIUM),
    ("HIGH", "LOW", Severity.LOW),
    ("MEDIUM", "HIGH", Severity.MEDIUM),
    ("LOW", "HIGH", Severity.LOW),
    ("LOW", "LOW", Severity.INFO),
])
def test_bandit_is_never_rated_above_its_confidence(severity: str, confidence: str, expected: Severity) -> None:
    facts = RuleFacts("Bandit", "B602", "x", "error", {"issue_severity": severity, "issue_confidence": confidence})
    assert calibrated(facts) is expected


def test_bandit_recorded_report() -> None:
    bandit = _parsed("bandit.sarif")
    assert bandit["B602"].severity is Severity.HIGH  # shell=True: HIGH severity, HIGH confidence
    assert bandit["B404"].severity is Severity.LOW


def test_other_tools_keep_their_own_rating() -> None:
    assert calibrated(RuleFacts("Semgrep OSS", "x", "x", "error", {})) is None
    assert calibrated(RuleFacts("Trivy", "AWS-0107", "x", "error", {})) is None
    assert calibrated(RuleFacts("Trivy", "DS-0029", "x", "error", {})) is Severity.LOW  # Tollgate's rating


def test_trivy_id_forms_are_one_id() -> None:
    assert canonical_id("DS002") == canonical_id("AVD-DS-0002") == canonical_id("ds-0002") == "DS-0002"
    assert canonical_id("CKV_AWS_24") == "CKV_AWS_24"
    assert canonical_id("DL3002") == "DL3002"
    assert check_for("AVD-AWS-0107") is check_for("CKV_AWS_24")


def test_table_sources_match_the_tools_real_ratings() -> None:
    """Every entry rated `from: Trivy X` has X among its ids and Trivy's real rating of X."""
    ratings = json.loads((FIXTURES / "severity" / "trivy_check_ratings.json").read_text())["checks"]
    checked = 0
    for check in all_checks():
        tool, _, source_id = check.source.partition(" ")
        if check.overrides_every_tool:
            assert check.why, f"{check.problem}: Tollgate's own rating needs its reason"
            continue
        assert canonical_id(source_id) in check.ids, check.problem
        if tool == "Trivy":
            assert ratings[source_id]["severity"] == check.severity.value, check.problem
            checked += 1
    assert checked > 100
