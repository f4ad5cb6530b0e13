"""Tollgate's supply-chain report: parsed into Findings on the manifest line, through SARIF and ASFF,
and written for real by the scanner over the example app and the recorded manifests."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.emit.sarif import emit_sarif
from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Category, Finding, PackageLocation, Scope, Severity
from normalizers.parsers.supply_chain import PARSER, purl_for
from normalizers.parsing import detect
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from pipeline.cli import main
from pipeline.scanners.base import Options, ScanContext, SkipKind
from pipeline.scanners.firewall import SCANNER
from tests.conftest import ROOT
from tests.normalizers.parsers.helpers import parse_bytes, parse_fixture, truncated
from tests.pipeline.firewall.helpers import SUPPLY_CHAIN
from tests.validation import asff_problems, sarif_problems

REPORT = "tollgate-supply-chain-fixtures.json"
REPORT_PATH = SUPPLY_CHAIN / "report" / REPORT


def package(finding: Finding) -> PackageLocation:
    assert isinstance(finding.location, PackageLocation)
    return finding.location


def parsed() -> list[Finding]:
    return list(parse_fixture("supply_chain/report", REPORT, ToolId.SUPPLY_CHAIN).findings)


def test_every_rule_maps_to_a_finding_on_its_manifest_line() -> None:
    findings = parsed()
    assert Counter(f.rule_id for f in findings) == {"TG-SC-QUARANTINE": 14, "TG-SC-REPUTATION": 11,
                                                    "TG-SC-BLOCKLIST": 10, "TG-SC-TYPOSQUAT": 4, "TG-SC-CONFUSION": 1}
    typo = next(f for f in findings if f.rule_id == "TG-SC-TYPOSQUAT" and package(f).name == "reqeusts")
    assert (typo.tool.name, typo.category, typo.severity, typo.cwe) == (
        "tollgate-firewall", Category.SUPPLY_CHAIN, Severity.HIGH, (1357,))
    assert package(typo) == PackageLocation(name="reqeusts", version="2.31.0", purl="pkg:pypi/reqeusts@2.31.0",
                                            ecosystem="pypi", manifest_path="requirements/requirements.txt",
                                            manifest_line=11)
    assert dict(typo.properties)["supply_chain.similar_packages"] == "requests"
    quarantine = next(f for f in findings if f.rule_id == "TG-SC-QUARANTINE" and package(f).name == "Django")
    assert quarantine.references == ("https://www.djangoproject.com/weblog/2022/oct/04/security-releases/",)
    assert quarantine.remediation is not None and quarantine.remediation.url == quarantine.references[0]
    red = next(f for f in findings if f.rule_id == "TG-SC-REPUTATION" and f.severity is Severity.HIGH)
    assert (package(red).name, dict(red.properties)["supply_chain.score"]) == ("request2", "50")
    assert purl_for("@types/node", "npm", "20.1.0") == "pkg:npm/%40types/node@20.1.0"
    assert purl_for("Python_DateUtil", "pypi", None) == "pkg:pypi/python-dateutil"
    (confusion,) = [f for f in findings if f.rule_id == "TG-SC-CONFUSION"]
    assert (confusion.severity, confusion.cwe) == (Severity.MEDIUM, (427,))


def test_manifest_entries_not_checked_are_counted_skips() -> None:
    result = parse_fixture("supply_chain/report", REPORT, ToolId.SUPPLY_CHAIN)
    assert len(result.skipped) == 7
    assert ("requirements/requirements.txt:12", True) in [(s.record, "editable" in s.reason) for s in result.skipped]


def test_sarif_puts_findings_on_the_manifest_line_and_validates() -> None:
    findings = parsed()
    (document,) = emit_sarif(findings).documents
    assert sarif_problems(document) == []
    (run,) = document["runs"]
    assert run["automationDetails"]["id"] == "tollgate/supply-chain/tollgate-firewall/"
    places = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
               r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]}
    assert ("TG-SC-TYPOSQUAT", "requirements/requirements.txt", 11) in places
    assert ("TG-SC-QUARANTINE", "pipenv/Pipfile.lock", 210) in places
    asff = emit_asff(findings, AsffContext("123456789012", "eu-west-1", Scope("acme/web"))).findings
    assert asff_problems(asff) == [] and len(asff) == len(findings)


def test_detected_by_content_and_refusals() -> None:
    assert detect(Report.from_path(str(REPORT_PATH))).tool_id is ToolId.SUPPLY_CHAIN
    with pytest.raises(MalformedReportError):
        PARSER.parse(truncated(REPORT_PATH), None).__next__()  # type: ignore[arg-type]
    newer = json.dumps({"format": "tollgate-supply-chain/2", "findings": []}).encode()
    with pytest.raises(UnsupportedReportError, match="newer than this Tollgate reads"):
        parse_bytes("newer.json", newer, ToolId.SUPPLY_CHAIN)
    with pytest.raises(UnsupportedReportError):
        parse_bytes("other.json", b'{"format": "something-else"}', ToolId.SUPPLY_CHAIN)
    broken = json.dumps({"format": "tollgate-supply-chain/1", "findings": [
        {"rule_id": "TG-SC-NOPE", "severity": "HIGH"},
        {"rule_id": "TG-SC-TYPOSQUAT", "severity": "HIGH", "package": {"name": "x", "ecosystem": "cargo"}},
        "not an object"]}).encode()
    result = parse_bytes("broken.json", broken, ToolId.SUPPLY_CHAIN)
    assert result.findings == () and [s.record for s in result.skipped] == ["findings[0]", "findings[1]", "findings[2]"]


def test_the_scanner_on_the_example_app(tmp_path: Path) -> None:
    """What `make demo` shows: the typosquat and the quarantined Django pin, offline, on their lines."""
    app = ROOT / "examples" / "vulnerable-app"
    ctx = ScanContext(source=app, work_dir=tmp_path, config_path=ROOT / "examples" / ".tollgate.yml", env={})
    assert SCANNER.readiness(ctx, Options()) is None
    output = SCANNER.run(ctx, Options.of({"offline": True}), time.monotonic() + 60)
    assert output.cpu_seconds > 0, "its checking threads' CPU, which the scan's schedule weighs"
    result = parse_bytes("example.json", output.reports[0].path.read_bytes(), ToolId.SUPPLY_CHAIN)
    assert sorted((f.rule_id, package(f).name, package(f).manifest_line) for f in result.findings) == [
        ("TG-SC-QUARANTINE", "Django", 2), ("TG-SC-TYPOSQUAT", "reqeusts", 4)]
    assert output.notes == ("2 packages checked, 1 not on the public registry, 1 release ages not checked "
                            "(listed under not_checked)",)
    [skipped] = result.skipped  # Django's pin is dated by the recorded metadata; reqeusts is on no registry
    assert skipped.record == "requirements.txt:4"
    assert skipped.reason.startswith("not checked: release age of reqeusts: not on the public registry (pypi.org "
                                     "answered 404 (offline: from the cache, recorded 2026-12-01")


def test_a_bad_firewall_section_stops_the_scan_before_it_starts(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / ".tollgate.yml"
    config.write_text("firewall:\n  quarantine:\n    - {ecosystem: pypi, name: django, versions: '^4', reason: x}\n")
    code = main(["scan", str(ROOT / "examples" / "vulnerable-app"), "--only", "firewall", "--config", str(config),
                 "--out", str(tmp_path / "out"), "--repo", "t/t"])
    assert code == 2
    assert "firewall.quarantine[0].versions: '^4' is not a PEP 440 version range" in capsys.readouterr().err
    assert not (tmp_path / "out" / "results.json").exists()


def test_the_scanner_skips_installed_dependencies_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "node_modules" / "left-pad").mkdir(parents=True)
    (tmp_path / "node_modules" / "left-pad" / "package.json").write_text('{"dependencies": {"crossenv": "1"}}')
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "out", env={})
    reason = SCANNER.readiness(ctx, Options())
    assert reason is not None and reason.kind is SkipKind.NOTHING_TO_SCAN


def test_a_scan_over_broken_manifests_counts_them_and_never_fails(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "repo"
    source.mkdir()
    (source / "pyproject.toml").write_text('[project]\ndependencies = "requests"\n[tool]\npoetry = "x"\n')
    (source / "Pipfile.lock").write_text('{"default": [1]}')
    (source / "poetry.lock").write_text('package = "x"\n')
    (source / "package.json").write_text("[1, 2]")
    (source / "requirements.txt").write_bytes(b"\xff\xfe\x00r\x00e\x00q")  # UTF-16, as PowerShell writes it
    code = main(["scan", str(source), "--only", "firewall", "--out", str(tmp_path / "out"), "--repo", "t/t",
                 "--no-publish"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "internal error" not in err and "0 packages checked, 6 manifest entries not checked" in err
