"""CycloneDX 1.6: the SBOM validates with cyclonedx-python-lib's strict JSON validator, its components
are exactly the packages the findings name (purls match), and each advisory affects its components."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from normalizers.dedupe import merge_duplicates
from normalizers.emit.cyclonedx import SbomContext, component_ref, emit_cyclonedx
from normalizers.errors import NormalizerError
from normalizers.model import Finding, Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.cli import main
from tests.conftest import FIXTURES
from tests.normalizers.emit.test_sweep import fixture_reports

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)
CONTEXT = SbomContext(Scope("acme/web", commit="0123abc"))


def findings_of(path: Path) -> list[Finding]:
    return merge_duplicates(parse_report(Report.from_path(str(path)), ParseOptions(source_root="/src")).findings)


def validation_error(text: str) -> str | None:
    error = VALIDATOR.validate_str(text)
    return None if error is None else str(getattr(error.data, "message", error))


PACKAGE_REPORTS = [p for p in fixture_reports() if p.parent.name in {"trivy", "dependency_check", "sarif", "report"}]


@pytest.mark.parametrize("path", PACKAGE_REPORTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_sbom_validates_strictly_and_its_purls_are_the_findings(path: Path) -> None:
    try:
        findings = findings_of(path)
    except NormalizerError:
        pytest.skip("a report the parsers refuse has no packages")
    text = emit_cyclonedx(findings, CONTEXT)
    assert validation_error(text) is None
    sbom = json.loads(text)
    assert sbom["specVersion"] == "1.6"
    packages = [f.package for f in findings if f.package is not None]
    components = sbom.get("components", [])
    assert {c.get("purl") for c in components if c.get("purl")} == {p.purl for p in packages if p.purl}
    assert {c["bom-ref"] for c in components} == {component_ref(p) for p in packages}
    refs = {c["bom-ref"] for c in components}
    for vulnerability in sbom.get("vulnerabilities", []):
        assert {target["ref"] for target in vulnerability["affects"]} <= refs


def test_the_sweep_sees_components_and_vulnerabilities() -> None:
    sboms = [json.loads(emit_cyclonedx(findings_of(FIXTURES / name), CONTEXT))
             for name in ("trivy/legacy_many_vulns.json", "dependency_check/PR6439.xml")]
    assert all(len(s["components"]) >= 20 and len(s["vulnerabilities"]) >= 28 for s in sboms)


def test_a_vulnerability_carries_its_ratings_and_affected_component() -> None:
    sbom = json.loads(emit_cyclonedx(findings_of(FIXTURES / "trivy" / "alpine-310.json.golden"), CONTEXT))
    vulnerability = next(v for v in sbom["vulnerabilities"] if v["id"] == "CVE-2019-1549")
    assert vulnerability["source"]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2019-1549"
    assert {r["method"] for r in vulnerability["ratings"]} >= {"other", "CVSSv3"}
    affected = {c["name"] for c in sbom["components"] if c["bom-ref"] in {t["ref"] for t in vulnerability["affects"]}}
    assert affected == {"libcrypto1.1", "libssl1.1"}  # one advisory, the two packages Trivy found it in
    assert {"name": "tollgate:repository", "value": "acme/web"} in sbom["metadata"]["properties"]


def test_licence_findings_give_their_component_a_licence() -> None:
    sbom = json.loads(emit_cyclonedx(findings_of(FIXTURES / "trivy" / "license_scheme.json"), CONTEXT))
    baselayout = next(c for c in sbom["components"] if c["name"] == "alpine-baselayout")
    assert baselayout["licenses"] == [{"license": {"id": "GPL-2.0"}}]
    assert validation_error(json.dumps(sbom)) is None


def test_normalize_writes_the_sbom(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    report = FIXTURES / "trivy" / "spring4shell-jre8.json.golden"
    assert main(["normalize", str(report), "--repo", "acme/web", "--cyclonedx", str(out)]) == 0
    sbom = json.loads(out.read_text())
    assert validation_error(out.read_text()) is None
    assert [c["purl"] for c in sbom["components"]] == ["pkg:maven/org.springframework/spring-beans@5.3.15"]
    (vulnerability,) = sbom["vulnerabilities"]
    assert vulnerability["id"] == "CVE-2022-22965"
    assert {p["name"]: p["value"] for p in vulnerability["properties"]}["tollgate:kev:due_date"] == "2022-04-25"
