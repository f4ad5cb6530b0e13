"""`tollgate report --pdf`: WeasyPrint renders the HTML report; poppler proves what is on page 1."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from normalizers.tool_id import ToolId
from pipeline.cli import main
from pipeline.commands import report
from pipeline.errors import ExitCode
from pipeline.report.pdf import write_pdf
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import parse_fixture
from tests.pipeline.helpers import write_results
from tests.pipeline.report.helpers import Png, counting_server, hostile_findings, read_png

pytest.importorskip("weasyprint", reason="WeasyPrint is missing: pip install 'tollgate[pdf]'")
POPPLER_SKIP = "poppler is not installed; as root: apt-get install -y --no-install-recommends poppler-utils"
# A 1x1 PNG, for the resources that must load: `data:` and `file:` URLs.
DOT = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")

pytestmark = pytest.mark.slow


def poppler(tool: str, *args: str) -> str:
    executable = shutil.which(tool)
    if executable is None:
        pytest.skip(POPPLER_SKIP)
    return subprocess.run([executable, *args], capture_output=True, text=True, timeout=120, check=True).stdout


def test_the_pdf_has_the_summary_table_on_page_one(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results.json", hostile_findings())
    pdf = tmp_path / "report.pdf"
    assert main(["report", str(results), "--pdf", str(pdf)]) == ExitCode.PASSED
    assert pdf.read_bytes().startswith(b"%PDF-")
    page_one = poppler("pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-")
    assert "Open findings by severity and tool" in page_one
    header = next(line for line in page_one.splitlines() if line.strip().startswith("Tool"))
    assert header.split() == ["Tool", "Critical", "High", "Medium", "Low", "Info", "Total"]
    assert "FAILED" in page_one and "Failed: 4 findings at or above the threshold (2 critical, 2 high)." in page_one
    poppler("pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page"))
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    first = read_png(pages[0])
    assert first.width > first.height  # A4 landscape
    assert first.non_background_share() > 0.03 and len(first.colours(step=2)) > 30


def test_a_combined_report_with_a_host_audit_renders_host_test_and_group(tmp_path: Path) -> None:
    audit = parse_fixture("lynis", "lynis-3.0.8-debian12.dat", ToolId.LYNIS).findings
    results = write_results(tmp_path / "results.json", [*hostile_findings(), *audit])
    pdf = tmp_path / "combined.pdf"
    assert main(["report", str(results), "--pdf", str(pdf)]) == ExitCode.PASSED
    page_one = poppler("pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-")
    rows = {line.split()[0]: line.split()[1:] for line in page_one.splitlines() if line.strip()}
    assert rows["Lynis"] == ["0", "1", "1", "44", "0", "46"]  # the summary table holds the host audit
    # -raw keeps the hyphen where a narrow cell wraps ("(patches-and-" / "logs)"); the default mode drops it.
    text = " ".join(poppler("pdftotext", "-raw", str(pdf), "-").split()).replace("- ", "-")
    for location in ("vm: PKGS-7392 (patches-and-logs)", "vm: AUTH-9286 (accounts)",
                     "vm: FILE-6310 (files-and-permissions)", "vm: NETW-3200 (services)"):
        assert location in text
    poppler("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "combined"))
    (page,) = tmp_path.glob("combined-*.png")
    assert read_png(page).non_background_share() > 0.03


def test_the_lynis_hardening_index_reaches_the_pdf_through_the_results_file(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    report_file = FIXTURES / "lynis" / "lynis-3.0.8-debian12.dat"
    assert main(["normalize", str(report_file), "--json", str(results), "--repo", "acme/servers"]) == ExitCode.PASSED
    pdf = tmp_path / "host.pdf"
    assert main(["report", str(results), "--pdf", str(pdf)]) == ExitCode.PASSED
    page_one = poppler("pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-")
    lines = [line.split() for line in page_one.splitlines()]
    assert ["Host", "hardening"] in lines
    assert ["Host", "Hardening", "index", "(0–100)", "Tests", "performed", "Lynis", "version"] in lines
    assert ["vm", "56", "235", "3.0.8"] in lines  # the recorded audit's hostname, index, tests and version
    poppler("pdftoppm", "-png", "-r", "96", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "host"))
    (page,) = tmp_path.glob("host-*.png")
    assert 0.53 < meter_fill(read_png(page)) < 0.59  # the bar beside the index is 56% full


def meter_fill(image: Png) -> float:
    """The filled share of the hardening-index bar: its fill and track colours on its middle pixel row."""
    fill, track = (0x1E, 0x6F, 0xBF), (0xEA, 0xEE, 0xF2)  # report.html.j2's .meter colours
    rows = [[image.pixel(x, y)[:3] for x in range(image.width)] for y in range(image.height)]
    row = max(rows, key=lambda pixels: pixels.count(track))
    assert row.count(track) > 10, "no hardening-index bar on page 1"
    return row.count(fill) / (row.count(fill) + row.count(track))


def test_remote_fetches_are_blocked_and_local_ones_load(tmp_path: Path) -> None:
    dot = tmp_path / "dot.png"
    dot.write_bytes(DOT)
    data_url = "data:image/png;base64," + base64.b64encode(DOT).decode()
    with counting_server() as (base, requests):
        html = (f'<html><head><link rel="stylesheet" href="{base}/style.css"></head><body><p>report</p>'
                f'<img src="{base}/remote.png"><img src="{data_url}"><img src="{dot.as_uri()}"></body></html>')
        blocked = write_pdf(html, tmp_path / "out.pdf")
    assert requests == []
    assert sorted(blocked) == [f"{base}/remote.png", f"{base}/style.css"]
    listing = poppler("pdfimages", "-list", str(tmp_path / "out.pdf")).splitlines()[2:]
    assert [row.split()[2] for row in listing].count("image") == 2  # data: and file:, nothing from the network


def test_report_cli_warns_about_a_blocked_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with counting_server() as (base, requests):
        monkeypatch.setattr(report, "render_html", lambda view: f'<img src="{base}/beacon.png">')
        results = write_results(tmp_path / "results.json", hostile_findings())
        assert main(["report", str(results), "--pdf", str(tmp_path / "r.pdf")]) == ExitCode.PASSED
    assert requests == []
    assert f"tollgate: warning: the PDF renderer was kept from fetching {base}/beacon.png" in capsys.readouterr().err
