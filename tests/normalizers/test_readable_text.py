"""Readable text: real titles, no metavariable templates, no Trivy label block, no title repeated."""

from __future__ import annotations

import re

from normalizers.model import Finding
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.text import resolve_metavariables, split_labelled_header, without_title
from tests.conftest import FIXTURES

APP = FIXTURES / "merge" / "vulnerable-app"
APP_ROOT = "/work/wt-trust2/examples/vulnerable-app"
METAVARIABLE = re.compile(r"\$[A-Z_]+\b")


def _findings(name: str) -> tuple[Finding, ...]:
    return parse_report(Report.from_path(str(APP / name)), ParseOptions(source_root=APP_ROOT)).findings


def _texts(finding: Finding) -> list[str]:
    remediation = finding.remediation.text if finding.remediation and finding.remediation.text else ""
    return [finding.title, finding.description, remediation]


def test_semgrep_titles_come_from_the_message_and_templates_are_resolved() -> None:
    findings = _findings("semgrep.sarif")
    assert findings
    for finding in findings:
        assert "Finding:" not in finding.title, finding.title
        for text in _texts(finding):
            assert not METAVARIABLE.search(text), text
    shell = next(f for f in findings if f.rule_id == "subprocess-shell-true")
    assert shell.title.startswith("run() runs its command through a shell")


def test_trivy_label_block_is_dropped_and_its_link_kept_as_a_reference() -> None:
    root = next(f for f in _findings("trivy-config.sarif") if f.rule_id == "DS-0002")
    assert root.title == "Image user should not be 'root'"
    assert root.description.startswith("Last USER command in Dockerfile should not be 'root'")
    for label in ("Artifact:", "Type:", "Severity:", "Link:", "Vulnerability DS-0002"):
        assert label not in root.description
    assert "https://avd.aquasec.com/misconfig/ds-0002" in root.references


def test_no_description_repeats_its_title() -> None:
    for name in ("bandit.sarif", "semgrep.sarif", "checkov.sarif", "hadolint.sarif", "trivy-config.sarif"):
        for finding in _findings(name):
            assert not finding.description.startswith(finding.title.rstrip(".")), (name, finding.rule_id)


def test_resolve_metavariables() -> None:
    template = "SQL built by string formatting is passed to $METHOD(); user input can change the query."
    message = "SQL built by string formatting is passed to execute(); user input can change the query."
    assert resolve_metavariables(template, message) == message
    assert resolve_metavariables("Call to $FUNC() found", "something else entirely") is None
    assert resolve_metavariables("no variables here", "x") == "no variables here"


def test_split_labelled_header_leaves_ordinary_text_alone() -> None:
    assert split_labelled_header("Type: this is just a sentence") == ("Type: this is just a sentence", ())
    text = "Artifact: a\nType: b\nMessage: the point\nLink: [X](https://example.test/x)\nMore prose."
    assert split_labelled_header(text) == ("the point\nMore prose.", ("https://example.test/x",))


def test_without_title_cuts_only_a_whole_repeat() -> None:
    assert without_title("Possible SQL injection.", "Possible SQL injection.") == ""
    assert without_title("Possible SQL injection. Use parameters.", "Possible SQL injection") == "Use parameters."
    assert without_title("Possible SQL injection vector", "Possible SQL injection") == "Possible SQL injection vector"
