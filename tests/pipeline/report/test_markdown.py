"""The job summary: GitHub Markdown in which scanner text is inert, rendered by GitHub's own cmark-gfm."""

from __future__ import annotations

import html
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

from normalizers.model import Severity
from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.gate import evaluate
from pipeline.policy import Policy
from pipeline.report.escape import escape_markdown, markdown_link, plain_text, safe_url
from pipeline.report.outputs import append_text, publish_step_summary
from pipeline.report.render import render_summary
from pipeline.report.view import build_view
from tests.pipeline.helpers import SCOPE, finding, fingerprinted, results_document, write_results
from tests.pipeline.report.helpers import HOSTILE, HOSTILE_TEXT, TODAY, hostile_view
from tests.snapshot import assert_snapshot

cmarkgfm = pytest.importorskip("cmarkgfm", reason="GitHub's Markdown renderer: pip install cmarkgfm")
from cmarkgfm.cmark import Options  # noqa: E402 - only after the skip check

ZERO_WIDTH_SPACE = "\u200b"


def render_gfm(markdown: str) -> str:
    """GitHub's renderer with its extensions (tables, autolinks, strikethrough, tag filter), raw HTML allowed:
    escaping must hold on its own, without GitHub's sanitizer behind it."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Elements(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(text: str) -> str:
    """What a reader sees of some text once it sits on one line: whitespace collapsed, controls gone."""
    without_controls = "".join(c for c in text if c.isprintable() or c.isspace())
    return " ".join(without_controls.split())


@pytest.mark.parametrize("text", [*HOSTILE, HOSTILE_TEXT, string.punctuation, "plain words, nothing odd"])
def test_escaped_text_renders_as_itself_and_as_nothing_else(text: str) -> None:
    rendered = render_gfm(f"| cell |\n|---|\n| {escape_markdown(text)} |\n")
    elements = Elements(rendered)
    assert [tag for tag, _ in elements.tags] == ["table", "thead", "tr", "th", "tbody", "tr", "td"]
    cell = "".join(elements.text).split("cell", 1)[1]
    assert visible(cell.replace(ZERO_WIDTH_SPACE, "")) == visible(text.replace("\u202e", "").replace("\u202c", ""))


def test_mentions_are_broken_by_a_zero_width_space() -> None:
    rendered = html.unescape(re.sub(r"<[^>]+>", "", render_gfm(escape_markdown("@octocat and @github/security"))))
    assert re.search(r"@\w", rendered) is None
    assert rendered.strip() == f"@{ZERO_WIDTH_SPACE}octocat and @{ZERO_WIDTH_SPACE}github/security"


def test_every_ascii_punctuation_character_is_neutralised() -> None:
    escaped = escape_markdown(string.punctuation)
    assert escaped == r"\!\"\#\$\%&amp;\'\(\)\*\+\,\-\.\/\:\;&lt;\=&gt;\?@" + ZERO_WIDTH_SPACE + r"\[\\\]\^\_\`\{\|\}\~"
    assert escape_markdown("a\nb\r\nc\td\u2028e") == "a b  c d e"
    assert escape_markdown("\x1b[31m\u202ex\x00") == r"\[31mx"


def test_plain_text_drops_controls_and_bidi_overrides_but_keeps_lines() -> None:
    assert plain_text("\u202eevil\u202c\n\x1b[31mred\x00\ttab") == "evil\n[31mred\ttab"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://owasp.org/Top10/A03_2021-Injection", "https://owasp.org/Top10/A03_2021-Injection"),
    ("https://example.com/a_(b)?q=<x>&y='z'", "https://example.com/a_%28b%29?q=%3Cx%3E&y=%27z%27"),
    ("  https://example.com/ok  ", "https://example.com/ok"),
    ("javascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("//evil.example/x", None),
    ("/relative/path", None),
    ("https://", None),
    ("http://[::1", None),
    (None, None),
])
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_markdown_links_keep_their_target_intact() -> None:
    link = markdown_link("see [this] (ok)", "https://example.com/a_(b)")
    (anchor,) = [attrs for tag, attrs in Elements(render_gfm(link)).tags if tag == "a"]
    assert anchor["href"] == "https://example.com/a_%28b%29"
    assert markdown_link("x", "javascript:alert(1)") == "x"


def test_the_summary_renders_hostile_findings_as_text_only() -> None:
    markdown = render_summary(hostile_view())
    elements = Elements(render_gfm(markdown))
    tags = {tag for tag, _ in elements.tags}
    assert tags <= {"h2", "h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "a", "ul", "li", "br"}
    hrefs = [attrs["href"] for tag, attrs in elements.tags if tag == "a"]
    allowed = ("https://github.com/acme/shop/blob/", "https://nvd.nist.gov/", "https://owasp.org/")
    assert hrefs and all(str(h).startswith(allowed) for h in hrefs)
    assert "https://owasp.org/www-community/attacks/xss/" in hrefs  # the ZAP finding's first *safe* reference
    text = "".join(elements.text)
    assert re.search(r"@\w", text) is None
    assert "<script>alert(document.cookie)</script>" not in markdown
    assert "\n::" not in markdown


def test_the_summary_tables_keep_their_shape() -> None:
    markdown = render_summary(hostile_view())
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
    assert widths == {8, 5, 3, 4, 7}  # severity x tool: 7 columns; hosts: 4; facts: 2; baseline: 3; top findings: 6
    rendered = render_gfm(markdown)
    assert rendered.count("<table>") == 5
    assert all(row.count("<td") in (2, 3, 4, 6, 7) for row in re.findall(r"<tr>.*?</tr>", rendered, re.DOTALL)
               if "<td" in row)


def test_the_summary_content() -> None:
    view = hostile_view()
    assert (view.new, view.unchanged, view.fixed) == (5, 1, 1)
    assert [(row.tool, row.counts, row.total) for row in view.tools] == [
        ("bandit", (0, 1, 0, 0, 0), 1), ("semgrep", (1, 0, 0, 0, 0), 1),
        ("trivy", (1, 0, 1, 0, 0), 2), ("zap", (0, 1, 0, 0, 0), 1)]
    assert view.totals.counts == (2, 2, 1, 0, 0) and view.totals.total == 5
    assert [(f.severity, f.status, f.failing) for f in view.top] == [
        ("critical", "new", True), ("critical", "new", True), ("high", "new", True),
        ("high", "new", False), ("medium", "unchanged", False)]
    assert view.verdict == "Failed: 3 new findings at or above the threshold (2 critical, 1 high)."
    assert [(e.label, e.expires, e.would_match) for e in view.expired] == [
        ("suppressions[1] (package pkg:npm/minimist)", "2026-01-31", 1)]
    assert (view.suppressed_by_policy, view.suppressed_by_tools) == (1, 0)
    assert_snapshot("report/summary", {"markdown": render_summary(view).splitlines()})


def test_a_summary_of_maximal_hostile_input_stays_far_below_githubs_1_mib() -> None:
    long_text = (HOSTILE_TEXT * 50)[:5000]
    findings = [finding(f"rule-{i}" + "&" * 300, Severity.CRITICAL, tool="semgrep", title=long_text,
                        description=long_text) for i in range(200)]
    view = build_view(SCOPE, evaluate(fingerprinted(*findings), Policy(), today=TODAY))
    assert len(render_summary(view).encode()) < 200_000


def test_the_step_summary_is_appended_never_replaced(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("## from an earlier step\n", encoding="utf-8")
    assert publish_step_summary("## Tollgate", {"GITHUB_STEP_SUMMARY": str(summary)}) == str(summary)
    append_text(summary, "third\n")
    assert summary.read_text(encoding="utf-8") == "## from an earlier step\n## Tollgate\nthird\n"


def test_gate_summary_goes_to_github_step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    results = write_results(tmp_path / "results.json", [finding(severity=Severity.CRITICAL)])
    assert main(["gate", str(results), "--summary"]) == ExitCode.GATE_FAILED
    assert main(["gate", str(results), "--summary", "--fail-on", "none"]) == ExitCode.PASSED
    text = summary.read_text(encoding="utf-8")
    assert text.count("## ❌ Tollgate gate failed") == 1 and text.count("## ✅ Tollgate gate passed") == 1
    assert "## " not in capsys.readouterr().out  # in Actions the summary goes to the file only


def test_report_summary_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = write_results(tmp_path / "results.json", [finding(severity=Severity.CRITICAL)])
    assert main(["report", str(results), "--summary", "-"]) == ExitCode.PASSED  # the report never gates
    assert capsys.readouterr().out.startswith("## ❌ Tollgate gate failed\n")



def table_after(rendered: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after `heading` in rendered GFM, each cell as the reader sees it."""
    table = rendered.split(f"<h3>{heading}</h3>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [[visible(html.unescape(re.sub(r"<[^>]+>", "", cell))) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def test_scan_facts_show_each_host_weakest_first_and_every_other_metric_as_text() -> None:
    rendered = render_gfm(render_summary(hostile_view()))
    assert table_after(rendered, "Host hardening") == [
        ["i-0abc1234", "56", "235", "3.0.8"],
        ["web-01", "72", "241", "3.0.9"],
        [HOSTILE[1], "<b>99</b>", "", ""],  # no readable index: last, and shown as the text it is
    ]
    assert table_after(rendered, "Scan facts") == [
        ["ncp-wsc.high", "2"],
        ["ncp-wsc.target_info", HOSTILE[0]],
        [f"zap/{HOSTILE[2]}", HOSTILE[3]],
    ]
    tags = {tag for tag, _ in Elements(rendered).tags}
    assert not tags & {"script", "img", "b"}
    assert all(attrs["href"] != "javascript:alert(1)" for tag, attrs in Elements(rendered).tags if tag == "a")


def test_a_report_without_metrics_has_no_scan_fact_sections() -> None:
    markdown = render_summary(build_view(SCOPE, evaluate(fingerprinted(finding()), Policy(), today=TODAY)))
    assert "Host hardening" not in markdown and "Scan facts" not in markdown


def test_scan_facts_are_bounded_and_the_rest_counted() -> None:
    metrics = [(f"tool.fact-{i:03}", "x" * 500) for i in range(150)]
    metrics += [(f"lynis/host-{i:03}/hardening_index", str(i % 101)) for i in range(120)]
    view = build_view(SCOPE, evaluate([], Policy(), today=TODAY), metrics=metrics)
    assert (len(view.facts), len(view.hosts), view.facts_left_out) == (100, 100, 70)
    assert max(len(f.value) for f in view.facts) <= 160
    assert [h.hardening_index for h in view.hosts[:3]] == ["0", "0", "1"]  # weakest first
    assert "70 more scan facts are in the results file." in render_summary(view)


def write_results_with_metrics(path: Path, metrics: dict[str, object]) -> Path:
    document = results_document([finding(severity=Severity.LOW)])
    path.write_text(json.dumps({**document, "metrics": metrics}), encoding="utf-8")
    return path


def test_report_reads_the_metrics_of_every_results_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = write_results_with_metrics(tmp_path / "host.json", {"lynis/web-01/hardening_index": "61",
                                                               "lynis/web-01/tests_performed": 230})
    second = write_results_with_metrics(tmp_path / "later.json", {"lynis/web-01/hardening_index": "64",
                                                                 "ncp-wsc.high": "1"})
    assert main(["report", str(first), str(second), "--summary", "-"]) == ExitCode.PASSED
    out = capsys.readouterr().out
    assert "| web\\-01 | 64 | 230 |  |" in out  # the later file's index, the earlier file's test count
    assert "| ncp\\-wsc\\.high | 1 |" in out


def test_a_hardening_index_of_any_length_or_digits_is_text_not_a_crash(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """int() refuses more than 4300 digits (an internal error, exit 3), and reads Arabic-Indic digits as a number."""
    metrics = {"lynis/a/hardening_index": "9" * 5000, "lynis/b/hardening_index": "\u0665\u0666"}
    results = write_results_with_metrics(tmp_path / "host.json", dict(metrics))
    assert main(["report", str(results), "--summary", "-"]) == ExitCode.PASSED
    hosts = build_view(SCOPE, evaluate([], Policy(), today=TODAY), metrics=metrics.items()).hosts
    assert [h.hardening_percent for h in hosts] == [None, None]
    assert "| a | 999" in capsys.readouterr().out


def test_metrics_that_are_not_an_object_are_one_line_exit_2(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    document = {**results_document([finding()]), "metrics": ["lynis/web-01/hardening_index=56"]}
    (tmp_path / "results.json").write_text(json.dumps(document), encoding="utf-8")
    assert main(["report", str(tmp_path / "results.json"), "--summary", "-"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "metrics must be an object" in err and "Traceback" not in err
