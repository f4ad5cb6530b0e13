"""SARIF emitter (docs/design.md): OASIS schema, GitHub's schema and ingestion rules, limits, snapshot."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

import pytest

from normalizers.emit.sarif import (
    SECURITY_SEVERITY,
    SarifOptions,
    automation_id,
    dockerfile_from_line,
    emit_sarif,
    relative_uri,
)
from normalizers.identity import FINGERPRINT_KEY
from normalizers.model import Category, CodeLocation, Cvss, Finding, PackageLocation, Severity, Tool
from tests.conftest import ABSENT, SCHEMAS, SHARED_SCHEMAS
from tests.github_sarif_rules import Limits, check
from tests.normalizers.helpers import ZAP, all_findings
from tests.snapshot import assert_snapshot
from tests.validation import schema_errors


@pytest.fixture(scope="module")
def emitted() -> dict[str, Any]:
    emission = emit_sarif(all_findings(), SarifOptions(image_from_line=3))
    assert emission.warnings == ()
    assert len(emission.documents) == 1
    return emission.documents[0]


def results_by_rule(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["ruleId"]: result for run in document["runs"] for result in run["results"]}


def rule_for(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(rule for run in document["runs"] for rule in run["tool"]["driver"]["rules"] if rule["id"] == rule_id)


def test_factory_document_is_valid_against_the_oasis_and_github_schemas(emitted: dict[str, Any]) -> None:
    assert emitted["$schema"].endswith("sarif-schema-2.1.0.json")
    assert emitted["version"] == "2.1.0"
    assert schema_errors(emitted) == []


def test_factory_document_passes_githubs_ingestion_rules(emitted: dict[str, Any]) -> None:
    assert check(emitted) == []


def test_the_schema_check_can_fail(emitted: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(emitted))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    del broken["runs"][0]["tool"]["driver"]["name"]
    assert len(schema_errors(broken)) >= 2


def test_one_run_per_tool_and_category_with_unique_automation_ids(emitted: dict[str, Any]) -> None:
    ids = [run["automationDetails"]["id"] for run in emitted["runs"]]
    assert len(ids) == len(set(ids)) == len(emitted["runs"])
    trivy = sorted(i for i in ids if "/trivy/" in i)
    assert trivy == ["tollgate/iac/trivy/", "tollgate/image/trivy/", "tollgate/sca/trivy/", "tollgate/secrets/trivy/"]
    for run in emitted["runs"]:
        categories = {result["properties"]["category"] for result in run["results"]}
        assert categories == {run["properties"]["category"]}
        assert run["automationDetails"]["id"].split("/")[1] == run["properties"]["category"]


def test_every_result_has_an_explicit_level_a_relative_uri_and_a_start_line(emitted: dict[str, Any]) -> None:
    results = [result for run in emitted["runs"] for result in run["results"]]
    assert len(results) == len(all_findings())
    for result in results:
        assert result["level"] in ("error", "warning", "note")
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert ":" not in uri and not uri.startswith(("/", "./")) and " " not in uri and "\\" not in uri
        assert location["physicalLocation"]["region"]["startLine"] >= 1


def test_rule_indexes_point_at_their_rules(emitted: dict[str, Any]) -> None:
    for run in emitted["runs"]:
        rules = run["tool"]["driver"]["rules"]
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_package_findings_go_to_the_manifest_line_or_the_fallback_file(emitted: dict[str, Any]) -> None:
    results = results_by_rule(emitted)
    assert _anchor(results["CVE-2024-29041"]) == ("package-lock.json", 1234)
    assert _anchor(results["CVE-2022-42889"]) == ("pom.xml", 1)
    assert _anchor(results["CVE-2012-5783"]) == ("libs/legacy%20client/build.gradle", 1)
    assert _anchor(results["GHSA-9wv6-86v2-598j"]) == (".tollgate.yml", 1)
    assert "express 4.18.2 (fixed in 4.19.2, 5.0.0-beta.3)" in results["CVE-2024-29041"]["message"]["text"]


def test_image_findings_go_to_the_dockerfile_from_line(emitted: dict[str, Any]) -> None:
    result = results_by_rule(emitted)["CVE-2023-0286"]
    assert _anchor(result) == ("Dockerfile", 3)
    assert "package libssl3 3.0.7-r0" in result["message"]["text"]
    assert result["properties"]["image"]["reference"].startswith("123456789012.dkr.ecr.eu-west-1")


def test_dast_findings_go_to_the_dast_file_with_url_method_and_parameter(emitted: dict[str, Any]) -> None:
    result = results_by_rule(emitted)["40012"]
    assert _anchor(result) == (".tollgate.yml", 1)
    assert "GET https://staging.webshop.example/search?q=shoes&page=2, parameter 'q'" in result["message"]["text"]
    assert result["properties"]["url"] == "https://staging.webshop.example/search?q=shoes&page=2"
    assert (result["properties"]["method"], result["properties"]["parameter"]) == ("GET", "q")
    assert results_by_rule(emitted)["10036"]["properties"]["method"] == "POST"


def test_host_findings_go_to_the_host_inventory(emitted: dict[str, Any]) -> None:
    results = results_by_rule(emitted)
    assert _anchor(results["AUTH-9286"]) == ("inventory/hosts.yml", 1)
    assert "on host ip-10-0-1-12 (instance i-0a1b2c3d4e5f60718)" in results["AUTH-9286"]["message"]["text"]


def test_code_findings_keep_their_region_and_snippet(emitted: dict[str, Any]) -> None:
    region = results_by_rule(emitted)["python.django.security.injection.sql.sql-injection-using-raw"]["locations"][0]
    assert region["physicalLocation"]["region"] == {
        "startLine": 42, "startColumn": 9, "endLine": 44, "endColumn": 31,
        "snippet": {"text": 'User.objects.raw(f"SELECT * FROM u WHERE id={uid}")'},
    }
    assert _anchor(results_by_rule(emitted)["B602"]) == ("src/my%20app/run.py", 17)
    assert _anchor(results_by_rule(emitted)["java:S2068"]) == ("src/main/java/Config.java", 12)
    assert _anchor(results_by_rule(emitted)["java:S4507"]) == ("src/main/java/App.java", 1)


def test_secret_snippets_never_reach_the_upload(emitted: dict[str, Any]) -> None:
    region = results_by_rule(emitted)["aws-access-key-id"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 1, "endColumn": 38}


def test_line_hash_only_for_results_not_on_their_own_source_line(emitted: dict[str, Any]) -> None:
    results = results_by_rule(emitted)
    with_hash = {rule for rule, result in results.items() if "primaryLocationLineHash" in result["partialFingerprints"]}
    assert with_hash == {
        "CVE-2022-42889", "GHSA-9wv6-86v2-598j", "CVE-2012-5783", "CVE-2023-0286", "CVE-2023-29491",
        "java:S4507", "40012", "10036", "csrf", "SSH-7408", "AUTH-9286", "CVE-2021-44228",
    }
    fingerprints = {finding.rule_id: finding.fingerprint for finding in all_findings()}
    for rule, result in results.items():
        assert result["partialFingerprints"][FINGERPRINT_KEY] == fingerprints[rule]


@pytest.mark.parametrize(("severity", "level", "score"), [
    (Severity.CRITICAL, "error", "9.5"),
    (Severity.HIGH, "error", "8.0"),
    (Severity.MEDIUM, "warning", "5.5"),
    (Severity.LOW, "note", "2.0"),
    (Severity.INFO, "note", "0.0"),
])
def test_level_and_security_severity_without_cvss(severity: Severity, level: str, score: str) -> None:
    finding = Finding(Tool("bandit", Category.SAST), "B101", "assert used", severity, CodeLocation("a.py", 1))
    run = emit_sarif([finding]).documents[0]["runs"][0]
    assert run["results"][0]["level"] == level
    assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == score
    assert SECURITY_SEVERITY[severity] == float(score)


def test_security_severity_is_the_preferred_cvss_score(emitted: dict[str, Any]) -> None:
    assert rule_for(emitted, "CVE-2021-44228")["properties"]["security-severity"] == "10.0"
    assert rule_for(emitted, "CVE-2023-0286")["properties"]["security-severity"] == "7.4"  # v3.1 over v2
    assert rule_for(emitted, "CVE-2012-5783")["properties"]["security-severity"] == "5.8"  # v2 over unparsed
    assert rule_for(emitted, "B602")["properties"]["security-severity"] == "8.0"


def test_rules_carry_name_descriptions_help_tags_and_precision(emitted: dict[str, Any]) -> None:
    rule = rule_for(emitted, "40012")
    assert rule["name"] == "CrossSiteScriptingReflected"
    assert rule["shortDescription"]["text"] == "Cross Site Scripting (Reflected)"
    assert rule["properties"]["tags"] == ["security", "dast", "CWE-79"]
    assert rule["properties"]["precision"] == "medium"
    assert rule["helpUri"] == "https://owasp.org/www-community/attacks/xss/"
    long_rule = rule_for(emitted, "java:S2068")
    assert len(long_rule["name"]) <= 255
    assert len(long_rule["fullDescription"]["text"]) <= 1024
    assert long_rule["properties"]["tags"] == ["security", "sast", "CWE-259", "CWE-798"]


def test_scanner_text_cannot_inject_markdown_or_html(emitted: dict[str, Any]) -> None:
    rule = rule_for(emitted, "40012")
    markdown = rule["help"]["markdown"]
    for raw in ("<img", "<p>", "[click](javascript", "| a |"):
        assert raw not in markdown
    assert re.search(r"(?<!\\)[@#]", markdown) is None  # no live mention or issue reference
    assert "&lt;img src\\=x onerror\\=alert\\(1\\)&gt;" in markdown
    assert "\\@octocat fixes \\#1" in markdown
    link = "[https\\://owasp\\.org/www\\-community/attacks/xss/](https://owasp.org/www-community/attacks/xss/)"
    assert link in markdown
    assert "- javascript\\:alert\\(1\\)" in markdown  # listed, never linked
    assert "<img src=x onerror=alert(1)>" in rule["help"]["text"]


def test_message_brackets_are_escaped_so_no_embedded_link_appears(emitted: dict[str, Any]) -> None:
    text = results_by_rule(emitted)["CVE-2012-5783"]["message"]["text"]
    assert text.startswith("httpclient \\[legacy\\] SSL hostname check in commons-httpclient 3.1")


def test_inactive_findings_are_external_suppressions(emitted: dict[str, Any]) -> None:
    results = results_by_rule(emitted)
    assert results["CVE-2023-29491"]["suppressions"] == [
        {"kind": "external", "justification": "listed in .trivyignore: no fix in Debian 12"}
    ]
    assert sum("suppressions" in result for result in results.values()) == 1


def test_result_properties_carry_identity_evidence(emitted: dict[str, Any]) -> None:
    properties = results_by_rule(emitted)["CVE-2024-29041"]["properties"]
    assert properties["confirmedBy"] == ["dependency-check"]
    assert properties["vulnerabilityIds"] == ["CVE-2024-29041", "GHSA-rv95-896h-c2vc"]
    assert properties["cwe"] == [601, 1286]
    assert properties["cvss"] == [{"version": "3.1", "score": 6.1, "source": "ghsa",
                                   "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}]
    assert results_by_rule(emitted)["CVE-2024-29041"]["message"]["text"].endswith("Also reported by dependency-check")


@pytest.mark.parametrize(("path", "uri"), [
    ("./src/app.py", "src/app.py"),
    ("/github/workspace/../app.py", "github/app.py"),
    ("src\\main\\App.java", "src/main/App.java"),
    ("docs/my file #1.md", "docs/my%20file%20%231.md"),
    ("C:/build/a.py", "C%3A/build/a.py"),
    ("../../etc/passwd", "etc/passwd"),
    ("100%.txt", "100%25.txt"),
])
def test_relative_uri(path: str, uri: str) -> None:
    assert relative_uri(path) == uri


def test_options_reject_a_location_that_is_no_file() -> None:
    with pytest.raises(ValueError, match="dast_location"):
        SarifOptions(dast_location="./")


def test_dockerfile_from_line_is_the_last_stage() -> None:
    dockerfile = "# syntax=docker/dockerfile:1\nFROM python:3.12 AS build\nRUN pip wheel .\n\n"
    dockerfile += "  from gcr.io/distroless/python3\n"
    assert dockerfile_from_line(dockerfile) == 5
    assert dockerfile_from_line("RUN echo FROM nothing\n") is None


def test_tools_that_found_nothing_get_an_empty_run() -> None:
    emission = emit_sarif([], tools=[ZAP, Tool("bandit", Category.SAST)])
    (document,) = emission.documents
    assert [(run["automationDetails"]["id"], run["results"]) for run in document["runs"]] == [
        ("tollgate/dast/zap/", []), ("tollgate/sast/bandit/", [])]
    assert schema_errors(document) == [] and check(document) == []


def test_no_findings_and_no_tools_is_one_valid_empty_document() -> None:
    (document,) = emit_sarif([]).documents
    assert document["runs"] == []
    assert schema_errors(document) == []


def _anchor(result: dict[str, Any]) -> tuple[str, int]:
    physical = result["locations"][0]["physicalLocation"]
    return physical["artifactLocation"]["uri"], physical["region"]["startLine"]


def _package_finding(index: int, severity: Severity, rule: str | None = None) -> Finding:
    return Finding(
        Tool("trivy", Category.SCA), rule or f"CVE-2024-{index:05d}", f"vulnerability {index}", severity,
        PackageLocation(f"pkg{index}", "1.0", manifest_path="package-lock.json"), fingerprint=f"{index:064x}",
    )


def test_over_25000_results_keeps_the_most_severe_with_a_warning() -> None:
    findings = [_package_finding(i, Severity.LOW, rule="CVE-2024-0001") for i in range(25_000)]
    findings.append(_package_finding(25_000, Severity.CRITICAL, rule="CVE-2024-0002"))
    emission = emit_sarif(findings)
    (run,) = emission.documents[0]["runs"]
    assert len(run["results"]) == 25_000
    assert run["results"][-1]["level"] == "error"  # the CRITICAL one, last in input order, survived
    assert sum(result["level"] == "note" for result in run["results"]) == 24_999
    assert emission.warnings == ("SARIF run tollgate/sca/trivy/: kept the 25000 most severe of 25001 results "
                                 "(GitHub accepts 25000 results and 25000 rules per run)",)
    assert check(emission.documents[0]) == []


def test_over_the_rule_limit_keeps_the_most_severe_rules() -> None:
    severities = [Severity.LOW, Severity.CRITICAL, Severity.MEDIUM, Severity.HIGH, Severity.INFO]
    findings = [_package_finding(i, severity) for i, severity in enumerate(severities)]
    emission = emit_sarif(findings, SarifOptions(max_rules_per_run=3))
    rules = [rule["id"] for rule in emission.documents[0]["runs"][0]["tool"]["driver"]["rules"]]
    assert rules == ["CVE-2024-00001", "CVE-2024-00002", "CVE-2024-00003"]
    assert "kept the 3 most severe of 5 results" in emission.warnings[0]


def test_21_tools_make_two_documents() -> None:
    findings = [dataclasses.replace(_package_finding(i, Severity.HIGH), tool=Tool(f"scanner-{i:02d}", Category.SCA))
                for i in range(21)]
    emission = emit_sarif(findings)
    assert [len(document["runs"]) for document in emission.documents] == [20, 1]
    assert "21 runs exceed GitHub's 20 runs per file" in emission.warnings[0]
    for document in emission.documents:
        assert check(document) == [] and schema_errors(document) == []


def test_over_the_size_limit_splits_runs_then_keeps_the_most_severe() -> None:
    noise = ["".join(hashlib.sha256(f"{i}-{k}".encode()).hexdigest() for k in range(20)) for i in range(300)]
    findings = [dataclasses.replace(_package_finding(i, Severity.HIGH if i % 2 else Severity.LOW),
                                    tool=Tool(f"scanner-{i % 3}", Category.SCA), description=noise[i])
                for i in range(300)]
    emission = emit_sarif(findings, SarifOptions(max_gzip_bytes=60_000))
    assert len(emission.documents) == 3
    for document in emission.documents:
        assert check(document, limits=Limits(gzip_bytes=60_000)) == []
        assert schema_errors(document) == []
    assert "was split in two" in emission.warnings[0]
    assert sum("most severe of 100 results to stay under 60000 bytes gzipped" in w for w in emission.warnings) == 3
    kept = [result for document in emission.documents for run in document["runs"] for result in run["results"]]
    assert kept and {result["level"] for result in kept} == {"error"}


def test_over_20_tags_keeps_20_with_a_warning() -> None:
    finding = dataclasses.replace(_package_finding(1, Severity.HIGH), cwe=tuple(range(100, 125)))
    emission = emit_sarif([finding])
    tags = emission.documents[0]["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"]
    assert len(tags) == 20 and tags[:3] == ["security", "sca", "CWE-100"]
    assert "1 rules had more than 20 tags" in emission.warnings[0]


def test_automation_id_slugs_tool_names() -> None:
    assert automation_id(Tool("OWASP ZAP", Category.DAST)) == "tollgate/dast/owasp-zap/"


def test_identity_survives_a_cvss_change() -> None:
    finding = _package_finding(7, Severity.MEDIUM)
    rescored = dataclasses.replace(finding, cvss=(Cvss("3.1", 9.1, None, "nvd"),))
    before, after = (emit_sarif([f]).documents[0]["runs"][0]["results"][0] for f in (finding, rescored))
    assert before["partialFingerprints"] == after["partialFingerprints"]


def test_snapshot(emitted: dict[str, Any]) -> None:
    assert_snapshot("emit/sarif_factory", emitted)


def test_fixture_schemas_are_the_shared_copies() -> None:
    shared = SHARED_SCHEMAS / "sarif" / "sarif-schema-2.1.0.json"
    if not shared.exists():
        pytest.skip(f"{shared} {ABSENT}")
    assert (SCHEMAS / "sarif-schema-2.1.0.json").read_bytes() == shared.read_bytes()
