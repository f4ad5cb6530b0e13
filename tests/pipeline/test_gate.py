"""The gate: thresholds, per-category overrides, suppressions, expiry, baselines, and the CLI's exit codes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

from normalizers.emit.sarif import emit_sarif
from normalizers.errors import NormalizerError
from normalizers.identity import legacy_fingerprints
from normalizers.model import Finding, Outcome, Scope, Severity
from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.gate import Baseline, GateVerdict, baseline_from_document, baseline_from_sarif, evaluate, glob_regex
from pipeline.policy import Policy, Suppression, parse_policy
from tests import conftest
from tests.conftest import ROOT
from tests.pipeline.helpers import code, finding, fingerprinted, image, package, results_document, url, write_results

FIXTURES = conftest.FIXTURES / "sarif"
TODAY = date(2026, 6, 1)


def suppression(**selectors: str) -> Suppression:
    return Suppression(index=0, reason="accepted", expires=date(2026, 12, 31), **selectors)


DEFAULT_POLICY = Policy()


def gate(findings: list[Finding], policy: Policy = DEFAULT_POLICY, baseline: Baseline | None = None) -> GateVerdict:
    return evaluate(fingerprinted(*findings), policy, baseline, today=TODAY)


# --- thresholds -------------------------------------------------------------------------

def test_the_default_threshold_fails_on_high_and_passes_medium() -> None:
    high = gate([finding(severity=Severity.HIGH)])
    assert not high.passed and [f.severity for f in high.failing] == [Severity.HIGH]
    medium = gate([finding(severity=Severity.MEDIUM), finding("other", Severity.LOW)])
    assert medium.passed and medium.failing == () and len(medium.open) == 2


@pytest.mark.parametrize(("fail_on", "failing"), [
    ("critical", ["CRITICAL"]),
    ("high", ["CRITICAL", "HIGH"]),
    ("low", ["CRITICAL", "HIGH", "MEDIUM", "LOW"]),
    ("info", ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]),
    ("none", []),
])
def test_fail_on_is_a_threshold(fail_on: str, failing: list[str]) -> None:
    findings = [finding(f"rule-{s.value}", s, location=code(line=i)) for i, s in enumerate(Severity, start=1)]
    verdict = gate(findings, parse_policy(f"fail-on: {fail_on}\n"))
    assert [f.severity.value for f in verdict.failing] == failing
    assert verdict.passed is (not failing)


def test_per_category_overrides_replace_the_default_for_their_category_only() -> None:
    policy = parse_policy("fail-on: high\ncategories:\n  dast:\n    fail-on: critical\n  secrets:\n    fail-on: low\n")
    findings = [
        finding("40012", Severity.HIGH, tool="zap", location=url()),  # dast: needs critical
        finding("CVE-2024-1", Severity.HIGH, tool="trivy", location=package()),  # sca: default high
        finding("Secret Keyword", Severity.LOW, tool="detect-secrets", location=code(".env", 1)),  # secrets: low
    ]
    verdict = gate(findings, policy)
    assert sorted(f.rule_id for f in verdict.failing) == ["CVE-2024-1", "Secret Keyword"]
    assert [f.rule_id for f in verdict.open] == ["40012", "CVE-2024-1", "Secret Keyword"]


def test_findings_the_tool_suppressed_never_fail_and_are_listed() -> None:
    verdict = gate([finding(severity=Severity.CRITICAL, active=False)])
    assert verdict.passed and verdict.open == ()
    (listed,) = verdict.suppressed
    assert listed.suppression is None and listed.reason == "marked false positive in the tool"


# --- suppressions -------------------------------------------------------------------------

CVE_IN_TWO_TOOLS = [
    finding("CVE-2024-29041", tool="trivy", location=package("express", "4.18.2"),
            vulnerability_ids=("CVE-2024-29041", "GHSA-rv95-896h-c2vc")),
    finding("express-cve-2024-29041", tool="dependency-check",
            location=package("express", "4.18.2", "gem", "vendor/Gemfile.lock"), vulnerability_ids=("CVE-2024-29041",)),
]


@pytest.mark.parametrize(("selectors", "suppressed_rules"), [
    ({"rule": "python.lang.security.eval"}, ["python.lang.security.eval"]),
    ({"rule": "cve-2024-29041"}, ["CVE-2024-29041", "express-cve-2024-29041"]),  # any tool, case-insensitive
    ({"rule": "GHSA-rv95-896h-c2vc"}, ["CVE-2024-29041"]),
    ({"path": "tests/**"}, ["B101"]),
    ({"path": "src/*.py"}, ["python.lang.security.eval"]),  # `*` does not cross into src/sub/
    ({"path": "**/Gemfile.lock"}, ["express-cve-2024-29041"]),  # a manifest path is a path too
    ({"package": "pkg:npm/express"}, ["CVE-2024-29041"]),  # any version, only npm
    ({"package": "pkg:npm/express@4.18.2"}, ["CVE-2024-29041"]),
    ({"package": "pkg:npm/express@4.19.2"}, []),
    ({"package": "Express"}, ["CVE-2024-29041", "express-cve-2024-29041"]),  # a bare name: any ecosystem
    ({"package": "pkg:deb/debian/openssl"}, ["CVE-2023-0286"]),  # the package inside an image
    ({"rule": "B101", "path": "src/**"}, []),  # every selector must match
])
def test_each_suppression_kind(selectors: dict[str, str], suppressed_rules: list[str]) -> None:
    findings = [
        finding("python.lang.security.eval", location=code("src/app.py")),
        finding("python.lang.security.eval.nested", location=code("src/sub/deep.py")),
        finding("B101", tool="bandit", location=code("tests/unit/test_app.py")),
        finding("CVE-2023-0286", tool="trivy", vulnerability_ids=("CVE-2023-0286",), location=image(
            pkg=package("openssl", "3.0.2", "deb", "Dockerfile", purl="pkg:deb/debian/openssl@3.0.2?arch=amd64"))),
        *CVE_IN_TWO_TOOLS,
    ]
    verdict = gate(findings, Policy(suppressions=(suppression(**selectors),)))
    assert sorted(s.finding.rule_id for s in verdict.suppressed) == sorted(suppressed_rules)
    assert all(s.reason == "accepted" for s in verdict.suppressed)
    assert len(verdict.open) + len(verdict.suppressed) == len(findings)


def test_a_fingerprint_suppresses_exactly_that_finding() -> None:
    findings = fingerprinted(finding(location=code(line=1)), finding(location=code(line=2)))
    verdict = evaluate(findings, Policy(suppressions=(suppression(fingerprint=findings[1].fingerprint),)), today=TODAY)
    assert [s.finding for s in verdict.suppressed] == [findings[1]]
    assert verdict.failing == (findings[0],)


def test_an_expired_suppression_stops_suppressing_and_is_listed() -> None:
    policy = parse_policy(
        "suppressions:\n"
        "  - rule: CVE-2024-29041\n    reason: waiting for a fix\n    expires: 2026-05-31\n"
        "  - package: lodash\n    reason: still fine today\n    expires: 2026-06-01\n"
    )
    findings = [*CVE_IN_TWO_TOOLS, finding("CVE-2021-23337", tool="trivy", location=package("lodash"))]
    verdict = gate(findings, policy)
    (expired,) = verdict.expired_suppressions
    assert expired.suppression.rule == "CVE-2024-29041" and expired.would_match == 2
    assert sorted(f.rule_id for f in verdict.failing) == ["CVE-2024-29041", "express-cve-2024-29041"]
    assert [s.finding.rule_id for s in verdict.suppressed] == ["CVE-2021-23337"]  # expires today: still valid
    assert not verdict.passed


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("tests/**", "tests/a/b/c.py", True),
    ("tests/**", "src/tests/c.py", False),
    ("**/test_*.py", "test_app.py", True),
    ("**/test_*.py", "pkg/sub/test_app.py", True),
    ("src/*.py", "src/sub/app.py", False),
    ("src/?.py", "src/a.py", True),
    ("docs/[draft].md", "docs/[draft].md", True),  # brackets are literal, not a character class
    ("a.b", "axb", False),
])
def test_path_globs(pattern: str, path: str, matches: bool) -> None:
    assert (glob_regex(pattern).fullmatch(path) is not None) is matches


# --- baselines ----------------------------------------------------------------------------

def test_a_results_baseline_fails_only_on_new_findings() -> None:
    old = finding("python.lang.security.eval", Severity.CRITICAL, location=code("src/app.py", 10, "eval(x)"))
    gone = finding("B602", Severity.HIGH, tool="bandit", location=code("src/run.py", 5, "call(shell=True)"))
    previous = baseline_from_document(results_document([old, gone]), "main.json")
    moved = dataclasses.replace(old, location=code("src/app.py", 42, "eval(x)"))  # same snippet, new line
    new = finding("python.lang.security.exec", Severity.HIGH, location=code("src/app.py", 50, "exec(y)"))
    verdict = gate([moved, new], baseline=previous)
    assert [f.rule_id for f in verdict.unchanged] == ["python.lang.security.eval"]
    assert [f.rule_id for f in verdict.new] == ["python.lang.security.exec"]
    assert [e.rule_id for e in verdict.fixed] == ["B602"]
    assert [f.rule_id for f in verdict.failing] == ["python.lang.security.exec"]
    assert verdict.baseline == "main.json"


def test_a_tollgate_sarif_baseline_matches_on_partial_fingerprints() -> None:
    previous = fingerprinted(
        finding("python.lang.security.eval", Severity.CRITICAL, location=code("src/app.py", 10, "eval(x)")),
        finding("CVE-2024-1", Severity.HIGH, tool="trivy", location=package(), vulnerability_ids=("CVE-2024-1",)),
    )
    (sarif,) = emit_sarif(previous).documents
    baseline = baseline_from_document(orjson.loads(orjson.dumps(sarif)), "main.sarif")
    assert {e.fingerprint for e in baseline.entries} == {f.fingerprint for f in previous}
    current = [
        dataclasses.replace(previous[0], location=code("src/app.py", 77, "eval(x)"), fingerprint=""),
        finding("CVE-2024-2", Severity.HIGH, tool="trivy", location=package(), vulnerability_ids=("CVE-2024-2",)),
    ]
    verdict = gate(current, baseline=baseline)
    assert [f.rule_id for f in verdict.unchanged] == ["python.lang.security.eval"]
    assert [f.rule_id for f in verdict.failing] == ["CVE-2024-2"]
    assert [e.rule_id for e in verdict.fixed] == ["CVE-2024-1"]


def test_a_third_party_sarif_baseline_matches_on_rule_file_and_line() -> None:
    document = json.loads((FIXTURES / "njsscan.sarif").read_text(encoding="utf-8"))
    baseline = baseline_from_sarif(document, "njsscan.sarif")
    assert [(e.rule_id, e.path, e.line, e.tool) for e in baseline.entries] == [
        ("node_insecure_random_generator", "/src/index.js", 321, "nodejsscan"),
        ("node_password", "/src/index.js", 235, "nodejsscan"),
    ]
    current = [
        finding("node_insecure_random_generator", Severity.MEDIUM, tool="nodejsscan",
                location=code("src/index.js", 321)),
        finding("node_password", Severity.HIGH, tool="nodejsscan", location=code("src/index.js", 240)),  # moved: new
        finding("node_password", Severity.HIGH, tool="nodejsscan", location=code("lib/index.js", 235)),  # other file
    ]
    verdict = gate(current, parse_policy("fail-on: medium\n"), baseline)
    assert [(f.rule_id, f.location.start_line) for f in verdict.unchanged] == [  # type: ignore[union-attr]
        ("node_insecure_random_generator", 321)]
    assert sorted(f.location.path for f in verdict.failing) == ["lib/index.js", "src/index.js"]  # type: ignore[union-attr]
    assert [(e.rule_id, e.line) for e in verdict.fixed] == [("node_password", 235)]


def test_suppressed_sarif_results_are_not_open_in_a_baseline() -> None:
    document = json.loads((FIXTURES / "suppression_test.sarif").read_text(encoding="utf-8"))
    baseline = baseline_from_sarif(document, "suppression_test.sarif")
    assert [e.rule_id for e in baseline.entries] == ["TST0004", "TST0005"]


@pytest.mark.parametrize("document", [{"runs": "nope"}, [], {"schema": "other"}, {"runs": [{"results": [7]}]}])
def test_a_baseline_that_is_neither_results_nor_sarif_is_refused(document: object) -> None:
    with pytest.raises(NormalizerError, match=r"^base\.json: "):  # malformed or unsupported: exit 2 either way
        baseline_from_document(document, "base.json")


# --- the CLI ------------------------------------------------------------------------------

def run_gate(*argv: str) -> int:
    return main(["gate", *argv])


def test_cli_exit_codes_pass_fail_and_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = write_results(tmp_path / "results.json", [
        finding("python.lang.security.eval", Severity.HIGH), finding("B101", Severity.LOW, tool="bandit")])
    assert run_gate(str(results)) == ExitCode.GATE_FAILED
    out = capsys.readouterr().out
    assert "Failed: 1 finding at or above the threshold (1 high)." in out
    assert "  HIGH     semgrep python.lang.security.eval: python.lang.security.eval found at src/app.py:10" in out
    assert run_gate(str(results), "--fail-on", "critical") == ExitCode.PASSED
    assert "Passed: no open findings at or above the threshold (fail-on critical)." in capsys.readouterr().out


def test_cli_reads_the_policy_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = write_results(tmp_path / "results.json", [finding(severity=Severity.HIGH)])
    monkeypatch.chdir(tmp_path)
    assert run_gate(str(results)) == ExitCode.GATE_FAILED
    (tmp_path / ".tollgate.yml").write_text("fail-on: critical\n", encoding="utf-8")
    assert run_gate(str(results)) == ExitCode.PASSED


def test_cli_with_a_baseline_passes_when_nothing_is_new(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    findings = [finding(severity=Severity.CRITICAL)]
    results = write_results(tmp_path / "results.json", findings)
    baseline = write_results(tmp_path / "main.json", findings)
    assert run_gate(str(results), "--baseline", str(baseline)) == ExitCode.PASSED
    assert "Passed: no new findings" in capsys.readouterr().out
    policy = tmp_path / "policy.yml"
    policy.write_text("baseline: main.json\n", encoding="utf-8")  # relative to the policy file
    assert run_gate(str(results), "--policy", str(policy)) == ExitCode.PASSED


def test_cli_merges_results_files_of_one_repository(tmp_path: Path) -> None:
    same = finding(severity=Severity.HIGH)
    first = write_results(tmp_path / "a.json", [same])
    second = write_results(tmp_path / "b.json", [same, finding("B101", Severity.CRITICAL, tool="bandit")])
    assert run_gate(str(first), str(second), "--fail-on", "critical") == ExitCode.GATE_FAILED
    other = write_results(tmp_path / "c.json", [same], scope=Scope(repository="acme/other"))
    assert run_gate(str(first), str(other)) == ExitCode.USAGE


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"schema": "something-else"}', "not a Tollgate results file"),
])
def test_cli_bad_input_is_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str,
                                               message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    assert run_gate(str(bad)) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_missing_files_and_bad_baselines_are_exit_2(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results.json", [finding()])
    assert run_gate(str(tmp_path / "missing.json")) == ExitCode.USAGE
    assert run_gate(str(results), "--baseline", str(tmp_path / "missing.sarif")) == ExitCode.USAGE
    assert run_gate(str(results), "--policy", str(tmp_path / "missing.yml")) == ExitCode.USAGE
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}', encoding="utf-8")
    assert run_gate(str(results), "--baseline", str(junk)) == ExitCode.USAGE
    with pytest.raises(SystemExit) as usage:  # argparse's own usage error
        run_gate(str(results), "--fail-on", "severe")
    assert usage.value.code == ExitCode.USAGE


def test_cli_warns_about_expired_suppressions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = write_results(tmp_path / "results.json", [finding(severity=Severity.HIGH)])
    policy = tmp_path / "policy.yml"
    policy.write_text("suppressions:\n  - rule: python.lang.security.eval\n"
                      "    reason: later\n    expires: 2020-01-01\n", encoding="utf-8")
    assert run_gate(str(results), "--policy", str(policy)) == ExitCode.GATE_FAILED
    assert ("tollgate: warning: suppressions[0] (rule python.lang.security.eval) expired on 2020-01-01; "
            "it no longer suppresses 1 finding(s)") in capsys.readouterr().err


def test_the_verbs_import_neither_jinja2_nor_weasyprint_until_they_render() -> None:
    probe = ("import sys, pipeline.commands.gate, pipeline.commands.report; "
             "print(sorted(m for m in ('jinja2', 'weasyprint') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60,
                         cwd=ROOT)
    assert run.stdout.strip() == "[]"


def test_a_v1_baseline_is_matched_on_the_recomputed_v1_identity() -> None:
    """docs/identity.md: the first v2 run against a v1 baseline sees nothing new, and a fix stays fixed."""
    kept = finding("AWS-0038", Severity.HIGH, tool="trivy", location=code("eks.tf", 118, "resource x {"))
    gone = finding("B602", Severity.HIGH, tool="bandit", location=code("src/run.py", 5, "call(shell=True)"))
    document = results_document([kept, gone])
    v1 = dict(zip([f["rule_id"] for f in document["findings"]], legacy_fingerprints([kept, gone]), strict=True))
    for entry in document["findings"]:
        entry["fingerprint"] = v1[entry["rule_id"]]
    del document["fingerprint_version"]  # as every v1 results file
    baseline = baseline_from_document(document, "v1.json")
    split = [dataclasses.replace(kept, message=m) for m in ("API logging off", "audit logging off")]
    verdict = gate(split, baseline=baseline)
    assert [f.message for f in verdict.unchanged] == ["API logging off", "audit logging off"]
    assert verdict.new == () and [e.rule_id for e in verdict.fixed] == ["B602"]


def test_a_passed_check_never_fails_counts_as_new_or_enters_a_baseline() -> None:
    failed, passed = fingerprinted(finding("U-13", Severity.HIGH),
                                   dataclasses.replace(finding("U-02", Severity.INFO), outcome=Outcome.PASS))
    policy = Policy().with_fail_on("info")
    verdict = evaluate([failed, passed], policy, today=date(2026, 1, 1))
    assert (verdict.open, verdict.new, verdict.failing, verdict.passes) == ((failed,), (failed,), (failed,), (passed,))
    assert evaluate([passed], policy, today=date(2026, 1, 1)).passed
    baseline = baseline_from_document(results_document([failed, passed]), "base.json")
    assert [e.rule_id for e in baseline.entries] == ["U-13"]
