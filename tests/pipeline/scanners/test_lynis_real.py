"""`tollgate scan --only host` for real: Debian's Lynis audits this machine, and every finding validates.

One audit (about a minute, as root) serves the whole module. It skips, naming the install command,
where Lynis is absent; `make test` installs it (the `system-packages` target).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from normalizers.parsers.lynis import PREFIXES, TEST_GROUPS
from pipeline.config import load_scan_config
from pipeline.scanners.base import ScanContext
from pipeline.scanners.catalog import scanner_for
from tests.conftest import ROOT
from tests.validation import asff_problems, sarif_problems

pytestmark = pytest.mark.slow
GROUPS = {group for group, _ in PREFIXES.values()} | set(TEST_GROUPS.values()) | {"other"}


@dataclass(frozen=True)
class Audit:
    exit_code: int
    stdout: str
    stderr: str
    out: Path

    def document(self, name: str) -> Any:
        return json.loads((self.out / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    source = tmp_path_factory.mktemp("nothing-to-scan")
    ctx = ScanContext(source=source, work_dir=source / "probe")
    reason = scanner_for("host").readiness(ctx, load_scan_config(None).settings("host").options)
    if reason is not None:
        pytest.skip(f"{reason.message} (as root: apt-get install -y --no-install-recommends lynis)")
    out = tmp_path_factory.mktemp("tollgate")
    argv = [sys.executable, "-m", "pipeline.cli", "scan", str(source), "--only", "host", "--out", str(out),
            "--repo", "acme/servers", "--environment", "ci-runner", "--no-publish", "--timeout", "900", "--keep-raw"]
    run = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=1000, check=False)
    return Audit(run.returncode, run.stdout, run.stderr, out)


def test_the_audit_completes_without_a_traceback(audit: Audit) -> None:
    assert "Traceback" not in audit.stderr, audit.stderr[-3000:]
    assert audit.exit_code in (0, 1), audit.stderr[-3000:]  # passed, or the gate failed on a HIGH warning
    assert "tollgate: host: completed in" in audit.stderr
    assert (audit.out / "raw" / "host" / "lynis-report.dat").read_text(encoding="utf-8").startswith("# Lynis Report")


def test_every_finding_is_a_grouped_host_finding(audit: Audit) -> None:
    results = audit.document("results.json")
    findings = results["findings"]
    assert findings, "a real Lynis audit of a CI machine always suggests something"
    assert results["skipped"] == []
    for finding in findings:
        location = finding["location"]
        assert (finding["tool"]["name"], finding["tool"]["category"]) == ("Lynis", "host")
        assert (location["kind"], location["test_id"]) == ("host", finding["rule_id"])
        assert location["group"] in GROUPS and location["host"]
        assert finding["original_severity"] in ("warning", "suggestion")
        assert finding["original_severity"] == "warning" or finding["severity"] == "LOW"
    assert len({f["fingerprint"] for f in findings}) == len(findings)
    metrics = results["metrics"]
    (index_key,) = [key for key in metrics if key.endswith("/hardening_index")]
    assert 0 <= int(metrics[index_key]) <= 100
    version = subprocess.run(["lynis", "show", "version"], capture_output=True, text=True, check=False,
                             env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}).stdout.strip()
    assert metrics[index_key.replace("hardening_index", "version")] == version


def test_the_outputs_validate_for_github_and_security_hub(audit: Audit) -> None:
    sarif = audit.document("tollgate.sarif")
    assert sarif_problems(sarif) == []
    (run,) = sarif["runs"]
    assert run["automationDetails"]["id"] == "tollgate/host/lynis/"
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
        "inventory/hosts.yml"}
    asff = audit.document("asff.json")["Findings"]
    assert asff_problems(asff) == []
    assert len(asff) == len(audit.document("results.json")["findings"])
    assert {r["Type"] for f in asff for r in f["Resources"]} == {"Other"}  # a local run knows no instance id
    assert all(f["Id"].startswith("tollgate/acme/servers/ci-runner/host/") for f in asff)
