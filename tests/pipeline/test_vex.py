"""VEX as suppression: Trivy's own OpenVEX test document on Trivy's recorded gomod report, and OpenVEX,
CycloneDX and CSAF 2.0 VEX documents written for these tests (tests/fixtures/vex/SOURCES.md says which is
which); the CSAF one is checked against the CSAF 2.0 JSON schema here."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from normalizers.dedupe import merge_duplicates
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.cli import main
from pipeline.errors import ConfigError, ExitCode
from pipeline.vex import VexProduct, VexStatus, apply_vex, load_vex
from tests.conftest import FIXTURES
from tests.validation import asff_problems, sarif_problems

GOMOD = FIXTURES / "trivy" / "gomod.json.golden"
TRIVY_VEX = FIXTURES / "vex" / "trivy-openvex.json"
AFFECTED_AND_STALE = FIXTURES / "vex" / "affected-and-stale.openvex.json"
CYCLONEDX_VEX = FIXTURES / "vex" / "cyclonedx-vex.json"
REASON = ("VEX not_affected: vulnerable_code_not_in_execute_path "
          "(aquasecurity/trivy:613fd55abbc2857b5ca28b07a26f3cd4c8b0ddc4c8a97c57497a2d4c4880d7fc)")


def gomod_findings() -> list:
    return merge_duplicates(parse_report(Report.from_path(str(GOMOD)), ParseOptions()).findings)


def normalize(tmp_path: Path, *vex: Path) -> dict[str, Path]:
    outputs = {kind: tmp_path / f"out.{kind}" for kind in ("json", "sarif", "asff", "ocsf")}
    argv = ["normalize", str(GOMOD), "--repo", "acme/policy", *(a for v in vex for a in ("--vex", str(v)))]
    for kind, path in outputs.items():
        argv += [f"--{kind}", str(path)]
    assert main(argv) == ExitCode.PASSED
    return outputs


def test_not_affected_suppresses_with_its_justification_in_every_output(tmp_path: Path) -> None:
    outputs = normalize(tmp_path, TRIVY_VEX)
    findings = {f["rule_id"]: f for f in json.loads(outputs["json"].read_text())["findings"]}
    opa = findings["CVE-2022-23628"]
    assert (opa["active"], opa["suppression_reason"]) == (False, REASON)
    assert all(f["active"] for rule, f in findings.items() if rule != "CVE-2022-23628")

    sarif = json.loads(outputs["sarif"].read_text())
    assert sarif_problems(sarif) == []
    result = next(r for run in sarif["runs"] for r in run["results"] if r["ruleId"] == "CVE-2022-23628")
    assert result["suppressions"] == [{"kind": "external", "justification": REASON}]

    asff = json.loads(outputs["asff"].read_text())["Findings"]
    assert asff_problems(asff) == []
    archived = [f for f in asff if f["RecordState"] == "ARCHIVED"]
    assert [f["ProductFields"]["tollgate/SuppressionReason"] for f in archived] == [REASON]

    event = next(e for e in json.loads(outputs["ocsf"].read_text()) if e["vulnerabilities"][0].get("cve", {})
                 .get("uid") == "CVE-2022-23628")
    assert (event["status_id"], event["status_detail"]) == (3, REASON)


def test_the_gate_shows_the_vex_suppression_and_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = str(normalize(tmp_path)["json"])  # no VEX at normalize time: the gate applies it
    assert main(["gate", results, "--fail-on", "medium"]) == ExitCode.GATE_FAILED
    capsys.readouterr()
    assert main(["gate", results, "--fail-on", "medium", "--vex", str(TRIVY_VEX), "--summary"]) == ExitCode.PASSED
    out = capsys.readouterr().out
    assert "  suppressed CVE-2022-23628 in github.com/open-policy-agent/opa@0.35.0" in out and REASON in out
    assert "Suppressed by VEX (1):" in out  # the job summary, printed since $GITHUB_STEP_SUMMARY is unset
    policy = tmp_path / ".tollgate.yml"
    policy.write_text(f"fail-on: medium\nvex:\n  - {Path('..') / 'vex-docs' / TRIVY_VEX.name}\n")
    (tmp_path.parent / "vex-docs").mkdir(exist_ok=True)
    (tmp_path.parent / "vex-docs" / TRIVY_VEX.name).write_bytes(TRIVY_VEX.read_bytes())
    assert main(["gate", results, "--config", str(policy)]) == ExitCode.PASSED  # relative to the policy file


def test_affected_does_not_suppress_and_a_stale_statement_is_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = normalize(tmp_path, AFFECTED_AND_STALE)
    err = capsys.readouterr().err
    assert f"stale VEX statement, it matches no finding: {AFFECTED_AND_STALE}: statement 1 (CVE-2099-0001, " \
           "not_affected)" in err
    assert all(f["active"] for f in json.loads(outputs["json"].read_text())["findings"])
    results = str(outputs["json"])
    assert main(["gate", results, "--vex", str(AFFECTED_AND_STALE)]) == ExitCode.PASSED
    assert "stale VEX statement" in capsys.readouterr().err


def test_an_affected_statement_outweighs_a_not_affected_one(tmp_path: Path) -> None:
    conflicting = tmp_path / "conflict.openvex.json"  # written for this test
    document = json.loads(TRIVY_VEX.read_text())
    affected = {**document["statements"][0], "status": "affected"}
    del affected["justification"], affected["impact_statement"]
    document["statements"].append(affected)
    conflicting.write_text(json.dumps(document))
    outcome = apply_vex(gomod_findings(), load_vex([conflicting]))
    assert outcome.suppressed == 0 and not outcome.stale


def test_cyclonedx_vex_resolved_suppresses_as_fixed() -> None:
    (statement,) = load_vex([CYCLONEDX_VEX])
    assert (statement.status, statement.products) == (VexStatus.FIXED,
                                                      (VexProduct("pkg:golang/golang.org/x/text@0.3.6"),))
    outcome = apply_vex(gomod_findings(), [statement])
    (suppressed,) = [f for f in outcome.findings if not f.active]
    assert suppressed.rule_id == "CVE-2021-38561"
    assert suppressed.suppression_reason == ("VEX fixed: code_not_reachable "
                                             "(urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79)")


def test_a_statement_for_another_version_matches_nothing() -> None:
    statement = load_vex([TRIVY_VEX])[0]
    other = type(statement)(statement.source, statement.document, 0, statement.vulnerabilities,
                            (VexProduct("pkg:golang/github.com/open-policy-agent/opa@0.36.0"),), statement.status)
    outcome = apply_vex(gomod_findings(), [other])
    assert outcome.suppressed == 0 and outcome.stale == (other,)


@pytest.mark.parametrize(("content", "expected"), [
    ("{", "not JSON"),
    ('{"hello": 1}', "not an OpenVEX, CycloneDX VEX or CSAF VEX document"),
    ('{"bomFormat": "CycloneDX", "components": [{"bom-ref": "a", "purl": "pkg:npm/a"}], "vulnerabilities": '
     '[{"id": "CVE-1", "analysis": {"state": "resolved"}, "affects": [{"ref": "a", "versions": '
     '[{"range": "vers:nosuch/>=1"}]}]}]}', "'vers:nosuch/>=1' is not a vers range"),
    ('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, '
     '"products": [{"@id": "pkg:npm/a@1"}], "status": "maybe"}]}', "statements[0]: status 'maybe' is not one of"),
    ('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, '
     '"products": [{"@id": "not a purl"}], "status": "fixed"}]}', "statements[0]: names no product as a purl"),
])
def test_a_bad_vex_document_is_a_one_line_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       content: str, expected: str) -> None:
    bad = tmp_path / "bad.vex.json"
    bad.write_text(content)
    with pytest.raises(ConfigError, match=r"bad\.vex\.json"):
        load_vex([bad])
    assert main(["normalize", str(GOMOD), "--repo", "acme/policy", "--vex", str(bad)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


CSAF_VEX = FIXTURES / "vex" / "opa-text.csaf-vex.json"
CYCLONEDX_RANGE = FIXTURES / "vex" / "cyclonedx-vex-range.json"
CSAF_SCHEMA = FIXTURES / "schemas" / "csaf_json_schema-2.0.json"
CSAF_REASON = ("VEX not_affected: vulnerable_code_not_in_execute_path: The service never compiles policies with "
               "the affected ast option. (ACME-VEX-2026-0042)")


def test_the_csaf_document_is_valid_csaf_2_0() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(CSAF_SCHEMA.read_text()))
    assert [error.message for error in validator.iter_errors(json.loads(CSAF_VEX.read_text()))] == []


def test_csaf_known_not_affected_in_a_vers_range_suppresses_with_its_flag_and_impact(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = normalize(tmp_path, CSAF_VEX)
    findings = {f["rule_id"]: f for f in json.loads(outputs["json"].read_text())["findings"]}
    assert (findings["CVE-2022-23628"]["active"], findings["CVE-2022-23628"]["suppression_reason"]) == (
        False, CSAF_REASON)  # opa 0.35.0, inside vers:golang/>=0.30.0|<0.37.2
    assert findings["CVE-2021-38561"]["active"]  # x/text 0.3.6 is known_affected
    sarif = json.loads(outputs["sarif"].read_text())
    assert sarif_problems(sarif) == []
    result = next(r for run in sarif["runs"] for r in run["results"] if r["ruleId"] == "CVE-2022-23628")
    assert result["suppressions"] == [{"kind": "external", "justification": CSAF_REASON}]
    asff = json.loads(outputs["asff"].read_text())["Findings"]
    assert [f["ProductFields"]["tollgate/SuppressionReason"] for f in asff if f["RecordState"] == "ARCHIVED"] == [
        CSAF_REASON]
    err = capsys.readouterr().err
    # The fixed range is not vers (">= 0.3.7"): never read as every version, so it matches nothing; the
    # appliance has no purl. Both are stale, counted, never silently dropped.
    assert f"{CSAF_VEX}: statement 1 (CVE-2021-38561, fixed)" in err
    assert f"{CSAF_VEX}: statement 2 (CVE-2020-28851, under_investigation)" in err
    assert err.count("stale VEX statement") == 2


def test_csaf_statuses_and_products() -> None:
    statements = load_vex([CSAF_VEX])
    assert [(s.index, s.status) for s in statements] == [
        (0, VexStatus.NOT_AFFECTED), (1, VexStatus.AFFECTED), (1, VexStatus.FIXED), (2, VexStatus.UNDER_INVESTIGATION)]
    assert statements[0].document == "ACME-VEX-2026-0042"
    (opa,) = statements[0].products
    assert (opa.purl, str(opa.versions)) == ("pkg:golang/github.com/open-policy-agent/opa",
                                             "vers:golang/>=0.30.0|<0.37.2")
    assert statements[1].products == (VexProduct("pkg:golang/golang.org/x/text@0.3.6"),)
    assert statements[2].products == statements[3].products == ()


@pytest.mark.parametrize(("opa_range", "suppressed"), [
    ("vers:golang/>=0.30.0|<0.37.2", ["CVE-2022-23628"]),
    ("vers:golang/>=0.36.0", []),  # 0.35.0 is outside: the statement is stale
    ("vers:golang/<0.35.0", []),
    ("vers:golang/0.35.0", ["CVE-2022-23628"]),
])
def test_cyclonedx_version_ranges_suppress_only_inside_the_range(tmp_path: Path, opa_range: str,
                                                                 suppressed: list[str]) -> None:
    document = json.loads(CYCLONEDX_RANGE.read_text())
    document["vulnerabilities"][0]["affects"][0]["versions"][0]["range"] = opa_range
    path = tmp_path / "range.cdx.json"  # the fixture with one range changed, for this test
    path.write_text(json.dumps(document))
    outcome = apply_vex(gomod_findings(), load_vex([path]))
    assert [f.rule_id for f in outcome.findings if not f.active] == suppressed
    stale = [s.vulnerabilities[0] for s in outcome.stale]
    assert sorted(stale) == sorted(["CVE-2021-38561", *([] if suppressed else ["CVE-2022-23628"])])


def test_a_version_the_ecosystem_cannot_read_is_never_in_a_range() -> None:
    (statement, _) = load_vex([CYCLONEDX_RANGE])
    opa = next(f for f in gomod_findings() if f.rule_id == "CVE-2022-23628")
    package = opa.package
    assert package is not None and statement.matches(opa)
    unreadable = dataclasses.replace(opa, location=dataclasses.replace(package, version="not a version!"))
    assert not statement.matches(unreadable)
