"""GitLab security reports from real scanner reports, through `tollgate normalize --gitlab DIR`.

GitLab's published report schemas (gitlab-org/security-products/security-report-schemas) are not on
a package registry this project can reach (npm has no `@gitlab/security-report-schemas`), so they
are not vendored. The reports are checked STRUCTURALLY instead, against the schema 15.x rules
GitLab's widget parser depends on, written out below: the required top-level and scan fields,
the type-specific required location fields, the severity enum, UUID ids and non-empty identifiers.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main
from tests.conftest import FIXTURES

REPORTS = [FIXTURES / "zap" / "pipeline-templates_zap-2.14.0_report_json.json",
           FIXTURES / "dependency_check" / "VulnerableJavaWebApplication_dependency-check-report.json",
           FIXTURES / "detect_secrets" / "detect-secrets-1.5.0-fake-aws-key.json",
           FIXTURES / "sarif" / "njsscan.sarif"]
SEVERITIES = {"Info", "Unknown", "Low", "Medium", "High", "Critical"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
LOCATION_REQUIRED = {  # schema 15.x: the location fields each report type requires
    "sast": {"file"},
    "secret_detection": {"file", "commit"},
    "dependency_scanning": {"file", "dependency"},
    "dast": {"hostname"},
}
FILES = {"sast": "gl-sast-report.json", "dependency_scanning": "gl-dependency-scanning-report.json",
         "dast": "gl-dast-report.json", "secret_detection": "gl-secret-detection-report.json"}


def structural_problems(report: dict[str, Any], kind: str) -> list[str]:
    problems = []
    if not re.fullmatch(r"15\.\d+\.\d+", str(report.get("version"))):
        problems.append(f"version {report.get('version')!r}")
    scan = report.get("scan", {})
    for field in ("analyzer", "scanner", "type", "start_time", "end_time", "status"):
        if field not in scan:
            problems.append(f"scan.{field} missing")
    for part in ("analyzer", "scanner"):
        if not {"id", "name", "vendor", "version"} <= set(scan.get(part, {})) or "name" not in scan[part]["vendor"]:
            problems.append(f"scan.{part} incomplete")
    if scan.get("type") != kind or scan.get("status") not in ("success", "failure"):
        problems.append(f"scan type/status {scan.get('type')}/{scan.get('status')}")
    if not all(TIMESTAMP.match(scan.get(t, "")) for t in ("start_time", "end_time")):
        problems.append("scan times are not YYYY-MM-DDTHH:MM:SS")
    if kind == "dependency_scanning" and not isinstance(report.get("dependency_files"), list):
        problems.append("dependency_files missing")
    for index, entry in enumerate(report.get("vulnerabilities", [])):
        problems += entry_problems(entry, kind, f"vulnerabilities[{index}]")
    return problems


def entry_problems(entry: dict[str, Any], kind: str, where: str) -> list[str]:
    problems = []
    uuid.UUID(entry["id"])
    if entry.get("severity") not in SEVERITIES:
        problems.append(f"{where}.severity {entry.get('severity')!r}")
    identifiers = entry.get("identifiers", [])
    if not identifiers or not all({"type", "name", "value"} <= set(i) for i in identifiers):
        problems.append(f"{where}.identifiers")
    missing = LOCATION_REQUIRED[kind] - set(entry.get("location", {}))
    if missing:
        problems.append(f"{where}.location lacks {sorted(missing)}")
    if kind == "dependency_scanning" and "name" not in entry["location"]["dependency"].get("package", {}):
        problems.append(f"{where}.location.dependency.package.name")
    if kind == "secret_detection" and "sha" not in entry["location"]["commit"]:
        problems.append(f"{where}.location.commit.sha")
    return problems


def test_the_structural_check_can_fail() -> None:
    bad = {"version": "14.0.0", "scan": {"type": "sast"}, "vulnerabilities": [
        {"id": str(uuid.uuid4()), "severity": "Severe", "identifiers": [], "location": {}}]}
    assert len(structural_problems(bad, "sast")) >= 6


def test_normalize_writes_one_valid_report_per_gitlab_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gitlab"
    argv = ["normalize", *map(str, REPORTS), "--repo", "acme/web", "--commit", "9f1c2a7", "--gitlab", str(out),
            "--json", str(tmp_path / "results.json"), "--source-root", str(tmp_path)]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    counts = {}
    for kind, name in FILES.items():
        report = json.loads((out / name).read_text(encoding="utf-8"))
        assert structural_problems(report, kind) == [], name
        counts[kind] = len(report["vulnerabilities"])
        ids = [entry["id"] for entry in report["vulnerabilities"]]
        assert len(ids) == len(set(ids))
    assert all(counts.values()), counts  # every type got findings from the real reports
    secrets = json.loads((out / FILES["secret_detection"]).read_text(encoding="utf-8"))["vulnerabilities"]
    assert {entry["location"]["commit"]["sha"] for entry in secrets} == {"9f1c2a7"}
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    active = sum(1 for f in results["findings"] if f.get("active", True))
    left_out = sum(int(m[1]) for m in re.finditer(r"gitlab: (\d+) active", capsys.readouterr().err))
    assert sum(counts.values()) + left_out == active  # nothing dropped without a counted reason


def test_ids_are_stable_across_runs(tmp_path: Path) -> None:
    ids = []
    for run in ("a", "b"):
        assert main(["normalize", str(REPORTS[1]), "--repo", "acme/web", "--gitlab", str(tmp_path / run)]) == 0
        report = json.loads((tmp_path / run / FILES["dependency_scanning"]).read_text(encoding="utf-8"))
        ids.append([entry["id"] for entry in report["vulnerabilities"]])
    assert ids[0] == ids[1] and ids[0]
