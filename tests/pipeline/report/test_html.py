"""The HTML report: self-contained, autoescaped, and rendered for real in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from normalizers.model import Severity
from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.report.render import render_html
from tests.pipeline.helpers import finding, write_results
from tests.pipeline.report.helpers import HOSTILE, counting_server, hostile_findings, hostile_view, read_png

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "span", "h1", "h2", "p", "section",
                "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "svg", "text", "rect", "div",
                "a", "br", "footer"}
CHROMIUM_SKIP = "Chromium is not installed; as root: apt-get install -y --no-install-recommends chromium"


class Markup(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_hostile_scanner_text_is_escaped_into_text() -> None:
    markup = render_html(hostile_view())
    parsed = Markup(markup)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    assert not [(tag, name) for tag, attrs in parsed.tags for name in attrs if name.startswith("on")]
    assert not [tag for tag, attrs in parsed.tags if "src" in attrs]
    hrefs = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert hrefs and all(str(href).startswith("https://") for href in hrefs)
    text = "".join(parsed.text)
    for hostile in HOSTILE[:4]:
        assert hostile in text  # shown to the reader exactly as the scanner wrote it
    assert "<script>" not in markup and "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in markup
    assert "\u202e" not in markup and "\x1b" not in markup  # no reordered or terminal-escaped text


def test_the_report_is_self_contained() -> None:
    markup = render_html(hostile_view())
    parsed = Markup(markup)
    assert not [tag for tag, _ in parsed.tags if tag in ("script", "link", "img", "iframe", "object")]
    (policy,) = [attrs["content"] for tag, attrs in parsed.tags if attrs.get("http-equiv") == "Content-Security-Policy"]
    assert policy == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    style = markup.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "@import" not in style
    assert sum(tag == "svg" for tag, _ in parsed.tags) == 2  # the severity and baseline charts, inline


def test_the_severity_chart_is_proportional() -> None:
    parsed = Markup(render_html(hostile_view()))
    bars = [attrs for tag, attrs in parsed.tags if tag == "rect"][:5]  # critical … info
    assert [float(str(bar["width"])) for bar in bars] == [270.0, 270.0, 135.0, 0.0, 0.0]  # 2, 2, 1, 0, 0
    assert [bar["fill"] for bar in bars] == ["#8e0000", "#d32f2f", "#ef8f00", "#1e6fbf", "#6b7a89"]


def section_rows(markup: str, section: str) -> tuple[list[list[str]], Markup]:
    """The body rows of one section's table as text, and the section's parsed markup."""
    part = markup.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    body = part.split("<tbody>", 1)[1]
    rows = [["".join(Markup(cell).text).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]
    return rows, Markup(part)


def test_host_hardening_and_scan_facts_show_metrics_as_text() -> None:
    markup = render_html(hostile_view())
    hosts, parsed = section_rows(markup, "hosts")
    assert hosts == [["i-0abc1234", "56", "235", "3.0.8"], ["web-01", "72", "241", "3.0.9"],
                     [HOSTILE[1], "<b>99</b>", "", ""]]
    bars = [attrs["style"] for tag, attrs in parsed.tags if tag == "span" and "style" in attrs]
    assert bars == ["width: 56%", "width: 72%"]  # only a whole number 0..100 becomes a bar's width
    facts, parsed = section_rows(markup, "facts")
    assert facts == [["ncp-wsc.high", "2"], ["ncp-wsc.target_info", HOSTILE[0]], [f"zap/{HOSTILE[2]}", HOSTILE[3]]]
    assert {tag for tag, _ in parsed.tags} == {"h2", "table", "thead", "tbody", "tr", "th", "td"}
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;</td>" in markup


def test_report_cli_writes_the_html_file(tmp_path: Path) -> None:
    results = write_results(tmp_path / "results.json", hostile_findings())
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(results), "--html", str(out)]) == ExitCode.PASSED
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", str(results)]) == ExitCode.USAGE  # nothing to write


def screenshot(page: Path, png: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip(CHROMIUM_SKIP)
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               f"--screenshot={png}", "--window-size=1200,1600", page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_chromium_renders_the_report_and_fetches_nothing(tmp_path: Path) -> None:
    with counting_server() as (base, requests):
        # Scanner text naming a live local server: were it ever markup, Chromium would call it.
        bait = (f'<img src="{base}/img.png"> <link rel=stylesheet href="{base}/x.css"> '
                f"![x]({base}/md.png) <script src={base}/x.js></script>")
        findings = [*hostile_findings(), finding("B105", Severity.CRITICAL, tool="bandit", title=bait,
                                                 description=bait, references=(f"{base}/ref",))]
        results = write_results(tmp_path / "results.json", findings)
        page = tmp_path / "report.html"
        assert main(["report", str(results), "--html", str(page)]) == ExitCode.PASSED
        png = tmp_path / "report.png"
        run = screenshot(page, png, tmp_path / "profile")
        assert run.returncode == 0, run.stderr[-2000:]
    assert requests == []
    image = read_png(png)
    assert (image.width, image.height) == (1200, 1600)
    assert png.stat().st_size > 20_000
    assert image.non_background_share() > 0.05  # text, tables and charts, not a blank page
    colours = image.colours(step=2)
    assert len(colours) > 50
    assert (0x8E, 0x00, 0x00) in {colour[:3] for colour in colours}  # the critical bar: the SVG chart rendered
