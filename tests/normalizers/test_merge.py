"""One problem, one finding: different tools' reports of one problem at one place merge (normalizers.merge)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from normalizers.checks import all_checks, canonical_id
from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.emit.sarif import SarifOptions, emit_sarif
from normalizers.merge import merge_across_tools
from normalizers.model import Category, CodeLocation, Finding, Scope, Severity, Tool
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.results import Results, results_from_dict, results_to_dict
from pipeline.flows.normalize import outcome_from_parsed
from tests.conftest import FIXTURES
from tests.validation import asff_problems, sarif_problems

APP = FIXTURES / "merge" / "vulnerable-app"
APP_ROOT = "/work/wt-trust2/examples/vulnerable-app"  # where the recorded scan ran
SCOPE = Scope("example/vulnerable-app")


@pytest.fixture(scope="module")
def app_findings() -> tuple[Finding, ...]:
    options = ParseOptions(source_root=APP_ROOT)
    parsed = tuple(parse_report(Report.from_path(str(path)), options) for path in sorted(APP.iterdir())
                   if path.suffix in (".sarif", ".json"))
    return outcome_from_parsed(parsed, SCOPE).results.findings


def _at(findings: tuple[Finding, ...], path: str, line: int) -> list[Finding]:
    return [f for f in findings if isinstance(f.location, CodeLocation) and f.location.path == path
            and (f.location.start_line or 0) <= line <= (f.location.end_line or f.location.start_line or 0)]


def _tools(finding: Finding) -> set[str]:
    return {finding.tool.name, *finding.confirmed_by}


def _rules(finding: Finding) -> set[str]:
    return {finding.rule_id, *(e.rule_id for e in finding.evidence)}


def test_shell_true_is_one_finding_confirmed_by_bandit_and_semgrep(app_findings: tuple[Finding, ...]) -> None:
    [shell] = [f for f in _at(app_findings, "app.py", 49) if 78 in f.cwe]
    assert _tools(shell) == {"Bandit", "Semgrep OSS"}
    assert _rules(shell) == {"B602", "subprocess-shell-true"}
    assert shell.severity is Severity.HIGH
    [other] = shell.evidence
    assert other.title and other.start_line == 49  # each tool's text and place are kept


def test_root_user_is_one_finding_confirmed_by_three_tools(app_findings: tuple[Finding, ...]) -> None:
    root = [f for f in _at(app_findings, "Dockerfile", 8) if "DS-0002" in _rules(f)]
    assert len(root) == 1
    assert _tools(root[0]) == {"Checkov", "Hadolint", "Trivy"}
    assert _rules(root[0]) == {"CKV_DOCKER_8", "DL3002", "DS-0002"}
    assert root[0].severity is Severity.HIGH
    assert not [f for f in app_findings if f.rule_id in ("CKV_DOCKER_8", "DL3002", "DS-0002") and f is not root[0]]


def test_ssh_open_to_the_world_is_one_finding(app_findings: tuple[Finding, ...]) -> None:
    ssh = [f for f in app_findings if _rules(f) & {"CKV_AWS_24", "AWS-0107"}]
    assert len(ssh) == 1
    assert _rules(ssh[0]) == {"CKV_AWS_24", "AWS-0107"}
    # Trivy names the offending line (12), Checkov the resource block (3-22): the narrower place leads.
    assert ssh[0].tool.name == "Trivy" and ssh[0].location.start_line == 12  # type: ignore[union-attr]


def test_unrelated_findings_stay_apart(app_findings: tuple[Finding, ...]) -> None:
    assert len([f for f in app_findings if f.rule_id == "B404"]) == 1  # import subprocess, line 11
    # Hygiene at the same Dockerfile line as no equivalent check stays its own finding.
    assert {"DL3008", "DL3009"} <= {f.rule_id for f in app_findings}


def _code(tool: str, rule: str, line: int, end: int | None = None, *, cwe: tuple[int, ...] = (),
          category: Category = Category.SAST, severity: Severity = Severity.MEDIUM, path: str = "main.tf") -> Finding:
    return Finding(tool=Tool(tool, category), rule_id=rule, title=f"{tool} {rule}", severity=severity,
                   location=CodeLocation(path, line, end), cwe=cwe, fingerprint=f"{tool}-{rule}-{line}")


def test_iac_check_at_the_resource_and_at_the_attribute_is_one_problem() -> None:
    resource = _code("Checkov", "CKV_AWS_24", 3, 22, category=Category.IAC)
    attribute = _code("Trivy", "AVD-AWS-0107", 12, category=Category.IAC, severity=Severity.HIGH)
    [merged] = merge_across_tools([resource, attribute])
    assert merged.rule_id == "AVD-AWS-0107" and merged.confirmed_by == ("Checkov",)


def test_two_resources_never_merge() -> None:
    first = _code("Checkov", "CKV_AWS_24", 3, 12, category=Category.IAC)
    second_resource_line = _code("Trivy", "AWS-0107", 20, category=Category.IAC)
    assert len(merge_across_tools([first, second_resource_line])) == 2


def test_sast_findings_on_different_lines_never_merge() -> None:
    bandit = _code("Bandit", "B602", 10, cwe=(78,), path="app.py")
    semgrep = _code("Semgrep OSS", "shell", 12, cwe=(78,), path="app.py")
    assert len(merge_across_tools([bandit, semgrep])) == 2


def test_cwe_family_merges_and_other_cwes_do_not() -> None:
    bandit = _code("Bandit", "B602", 10, cwe=(78,), path="app.py")
    semgrep = _code("Semgrep OSS", "shell", 10, cwe=(88,), path="app.py", severity=Severity.HIGH)
    xss = _code("CodeQL", "py/xss", 10, cwe=(79,), path="app.py")
    merged = merge_across_tools([bandit, semgrep, xss])
    assert len(merged) == 2
    assert merged[0].severity is Severity.HIGH and _tools(merged[0]) == {"Bandit", "Semgrep OSS"}


def test_unknown_pairs_and_one_tools_findings_stay_apart() -> None:
    unknown = [_code("Checkov", "CKV_AWS_99999", 3, 9, category=Category.IAC),
               _code("Trivy", "AWS-9999", 5, category=Category.IAC)]
    assert len(merge_across_tools(unknown)) == 2
    same_tool = [_code("Checkov", "CKV_DOCKER_3", 1, 9, category=Category.IAC, path="Dockerfile"),
                 _code("Checkov", "CKV_DOCKER_8", 8, category=Category.IAC, path="Dockerfile")]
    assert len(merge_across_tools(same_tool)) == 2


def test_trivy_id_forms_merge_alike() -> None:
    for trivy_id in ("DS002", "AVD-DS-0002", "DS-0002"):
        findings = [_code("Checkov", "CKV_DOCKER_8", 8, category=Category.IAC, path="Dockerfile"),
                    _code("Trivy", trivy_id, 8, category=Category.IAC, path="Dockerfile")]
        assert len(merge_across_tools(findings)) == 1, trivy_id


def test_inactive_findings_are_not_merged() -> None:
    active = _code("Bandit", "B602", 10, cwe=(78,), path="app.py")
    suppressed = Finding(**{**_code("Semgrep OSS", "s", 10, cwe=(78,), path="app.py").__dict__, "active": False})
    assert len(merge_across_tools([active, suppressed])) == 2


def test_sarif_keeps_one_result_per_merged_finding_with_the_others_as_related(
        app_findings: tuple[Finding, ...]) -> None:
    sarif = emit_sarif(app_findings, SarifOptions())
    assert not [p for d in sarif.documents for p in sarif_problems(d)]
    results = [r for d in sarif.documents for run in d["runs"] for r in run["results"]]
    assert len(results) == len(app_findings)
    root = next(r for r in results if r["ruleId"] == "CKV_DOCKER_8")
    assert {e["ruleId"] for e in root["properties"]["evidence"]} == {"DL3002", "DS-0002"}
    assert len(root["relatedLocations"]) == 2
    assert root["properties"]["confirmedBy"] == ["Hadolint", "Trivy"]


def test_asff_and_results_keep_the_evidence(app_findings: tuple[Finding, ...]) -> None:
    asff = emit_asff(app_findings, AsffContext(account="123456789012", region="us-east-1", scope=SCOPE))
    assert not asff_problems(asff.findings)
    assert any("DL3002" in f["ProductFields"].get("tollgate/ConfirmedByRules", "") for f in asff.findings)
    document = results_to_dict(Results(scope=SCOPE, findings=app_findings))
    assert results_from_dict(document).findings == app_findings


def test_equivalence_table_ids_have_known_forms() -> None:
    forms = ("CKV_", "CKV2_", "DL", "DS-", "AWS-", "AZU-", "GCP-", "KSV-")
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "normalizers" / "tables" / "iac_checks.yml")
                         .read_text())["checks"]
    for entry in raw:
        for rule_id in entry["ids"]:
            assert rule_id.startswith(forms) or len(rule_id) == 36, rule_id  # KICS query ids are UUIDs
            assert canonical_id(rule_id) in next(c.ids for c in all_checks() if c.problem == entry["problem"])
