"""`tollgate scan --only host` for real: Debian's Lynis and Tollgate's host checks audit this machine,
every finding validates, and the report groups the audit by KISA area (HTML, PDF rendered to PNG).

One audit (about two minutes, as root) serves the whole module. It skips, naming the install command,
where Lynis is absent; `make test` installs it (the `system-packages` target).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from normalizers import kisa
from normalizers.parsers.lynis import CHECKS_TOOL, PREFIXES, TEST_GROUPS
from pipeline.config import load_scan_config
from pipeline.scanners.base import ScanContext
from pipeline.scanners.catalog import scanner_for
from tests.conftest import ROOT
from tests.pipeline.report.helpers import read_png
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
        assert location["group"] in GROUPS and location["host"] and location["kind"] == "host"
        assert finding["tool"]["category"] == "host"
        if finding["tool"]["name"] == CHECKS_TOOL:  # a failed (or to-review) native check, or an item that passed
            assert finding["original_severity"] in ("fail", "manual", "pass")
            assert (finding["outcome"] == "pass") == (finding["original_severity"] == "pass")
            assert finding["title"].startswith(f"[{finding['rule_id']}] ")
            continue
        assert finding["tool"]["name"] == "Lynis" and location["test_id"] == finding["rule_id"]
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
    for run in sarif["runs"]:
        assert run["automationDetails"]["id"].startswith("tollgate/host/")
        assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
            "inventory/hosts.yml"}
    asff = audit.document("asff.json")["Findings"]
    assert asff_problems(asff) == []
    assert len(asff) == len(audit.document("results.json")["findings"])
    assert {r["Type"] for f in asff for r in f["Resources"]} == {"Other"}  # a local run knows no instance id
    assert all(f["Id"].startswith("tollgate/acme/servers/ci-runner/host/") for f in asff)


def test_the_audit_cites_the_kisa_items_grouped_by_area(audit: Audit) -> None:
    """Acceptance (issue 20): the findings cite at least 30 distinct KISA items, every one judged to pass or
    fail (a passed item is a finding of outcome pass); every item has a verdict per host."""
    results = audit.document("results.json")
    def cited(outcome: str) -> set[str]:
        return {p["kisa.item"] for f in results["findings"]
                if "kisa.item" in (p := dict(f.get("properties") or [])) and f["outcome"] == outcome}
    verdicts = {k.rsplit("/", 1)[1]: v for k, v in results["metrics"].items() if k.startswith("kisa/")}
    assert len(verdicts) == len(kisa.table().items) == 67
    assert cited("fail") <= {item for item, verdict in verdicts.items() if verdict == "fail"}
    assert cited("pass") == {item for item, verdict in verdicts.items() if verdict == "pass"}
    assert len(cited("fail") | cited("pass")) >= 30  # Lynis plus the native checks judge 30 or more here
    assert len(cited("fail")) >= 10  # a CI container fails at least ten (password ages, lockout, NTP...)
    assert not cited("fail") & cited("pass")
    outcomes = Counter(f["outcome"] for f in results["findings"])
    printed = audit.stdout + audit.stderr  # the summary counts failures as findings, passes apart
    assert f"{outcomes['fail']} findings from" in printed and f"{outcomes['pass']} passed checks" in printed
    for finding in results["findings"]:
        item = dict(finding.get("properties") or []).get("kisa.item")
        if item:
            assert finding["title"].startswith(f"[{item}] ")
            assert finding["location"]["group"] == kisa.table().item(item).area


def _report(audit: Audit, *flags: str) -> None:
    argv = [sys.executable, "-m", "pipeline.cli", "report", str(audit.out / "results.json"), *flags]
    run = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr[-2000:]


def test_the_html_report_groups_the_host_audit_by_area(audit: Audit) -> None:
    html_path = audit.out / "host.html"
    _report(audit, "--html", str(html_path))
    html = html_path.read_text(encoding="utf-8")
    assert "Host audit of" in html and "Lynis hardening index:" in html
    positions = [html.index(f"<h3>{title}: ") for title in kisa.table().areas.values()]
    assert positions == sorted(positions)  # the four areas, in the guide's order
    for item in kisa.table().items:
        assert f"<td>{item.id}</td>" in html


def test_the_pdf_shows_the_areas_on_its_pages(audit: Audit, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint", reason="WeasyPrint is missing: pip install 'tollgate[pdf]'")
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            pytest.skip("poppler is not installed; as root: apt-get install -y --no-install-recommends poppler-utils")
    pdf = audit.out / "host.pdf"
    _report(audit, "--pdf", str(pdf))

    def page_text(number: int) -> str:
        run = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
                             capture_output=True, text=True, check=False, timeout=300)
        return " ".join(run.stdout.split()) if run.returncode == 0 else ""

    texts = {number: page_text(number) for number in range(1, 13)}
    assert any("Host audit of" in t and "Lynis hardening index" in t for t in texts.values())
    # The page each area's heading (with its pass and fail counts) is on: all four within the first pages
    where = {title: next((n for n, t in texts.items() if f"{title}: " in t), None)
             for title in kisa.table().areas.values()}
    assert None not in where.values(), where
    for number in sorted(set(where.values()) | {1}):  # rendered as a reader sees them, and not blank
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", str(number), "-l", str(number), "-singlefile", str(pdf),
                        str(tmp_path / f"page-{number}")], check=True, timeout=300)
        assert read_png(tmp_path / f"page-{number}.png").non_background_share() > 0.01
