"""The reports' remediation section (proposed Dockerfiles' diffs) and host audit section, in HTML,
Markdown and PDF, built from the metrics a results file carries."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pytest

from normalizers import kisa
from pipeline.remediation.dockerfile import Issue, remediate
from pipeline.report.render import render_html, render_summary
from pipeline.report.view import build_view
from tests.pipeline.report.helpers import METRICS, SCOPE, hostile_verdict, read_png

ORIGINAL = "FROM python:3.11-slim\nRUN pip install -r requirements.txt\nUSER root\nCMD [\"python\", \"<script>.py\"]\n"


def metrics() -> tuple[tuple[str, str], ...]:
    proposal = remediate(ORIGINAL, [Issue("DL3002", 3), Issue("DL3042", 2)])
    diff = "".join(difflib.unified_diff(ORIGINAL.splitlines(True), proposal.text.splitlines(True),
                                        "a/app/Dockerfile", "b/app/Dockerfile"))
    verdicts = tuple((f"kisa/web-01/{item.id}", "fail" if item.id in ("U-02", "U-65") else "pass")
                     for item in kisa.table().items)
    return (*METRICS, ("remediation/app/Dockerfile", diff), *verdicts, ("packages/web-01/count", "412"),
            ("packages/web-01/deb/bash", "pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12"))


def test_the_html_shows_each_diff_line_escaped_and_the_areas_with_counts() -> None:
    view = build_view(SCOPE, hostile_verdict(), metrics=metrics())
    (fix,) = view.remediations
    assert (fix.path, fix.removed) == ("app/Dockerfile", 2)
    html = render_html(view)
    assert '<span class="diff-add">+USER 10001:10001</span>' in html
    assert '<span class="diff-remove">-USER root</span>' in html
    assert "&lt;script&gt;.py" in html and "<script>" not in html
    (audit,) = view.host_audits
    assert [(a.area, a.passed, a.failed) for a in audit.areas] == [
        ("Account management", 12, 1), ("File and directory management", 20, 0),
        ("Service management", 30, 0), ("Patch and log management", 3, 1)]
    assert all(f.name not in ("packages/web-01/deb/bash",) for f in view.facts)  # one fact per host: the count
    assert any(f.name == "packages/web-01/count" and f.value == "412" for f in view.facts)


def test_the_job_summary_lists_the_proposals_and_the_failed_items() -> None:
    summary = render_summary(build_view(SCOPE, hostile_verdict(), metrics=metrics()))
    assert "### Remediation" in summary and "- app\\/Dockerfile: 6 lines added, 2 removed" in summary
    assert "| Patch and log management | 3 | 1 | 0 | 0 | 0 | U\\-65 |" in summary


def test_the_pdf_carries_the_remediation_section(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint", reason="WeasyPrint is missing: pip install 'tollgate[pdf]'")
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler is not installed")
    from pipeline.report.pdf import write_pdf  # noqa: PLC0415 - WeasyPrint only where it is installed

    pdf = tmp_path / "report.pdf"
    assert write_pdf(render_html(build_view(SCOPE, hostile_verdict(), metrics=metrics())), pdf) == ()
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Remediation: proposed Dockerfiles" in text and "+USER 10001:10001" in text
    assert "Account management: 12 pass, 1 fail" in text
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "p")], check=True)
    assert all(read_png(p).non_background_share() > 0.01 for p in tmp_path.glob("p-*.png"))


def test_the_rebuilt_proposals_counts_show_before_and_after() -> None:
    rescanned = (*metrics(), ("remediation-rescan/app/Dockerfile/before", "7"),
                 ("remediation-rescan/app/Dockerfile/after", "2"), ("remediation-rescan/app/Dockerfile/image", "11"))
    view = build_view(SCOPE, hostile_verdict(), metrics=rescanned)
    line = "rebuilt and rescanned: 7 findings before, 2 after; the rebuilt image: 11 findings"
    summary = render_summary(view)  # Markdown: the punctuation is escaped
    assert line in render_html(view) and "rebuilt and rescanned" in summary and "11 findings" in summary
    plain = build_view(SCOPE, hostile_verdict(), metrics=metrics())
    assert "rebuilt and rescanned" not in render_html(plain) and plain.remediations[0].rescan == ""
