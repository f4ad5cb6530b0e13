"""GitHub annotations: escaped like @actions/core, within 10 per level per step, the rest counted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from normalizers.model import CodeLocation, Severity
from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.gate import evaluate
from pipeline.policy import Policy
from pipeline.report.annotations import PER_LEVEL_LIMIT, annotations_for, workflow_command
from pipeline.report.escape import command_data, command_property, console_text
from tests.pipeline.helpers import code, finding, fingerprinted, package, write_results
from tests.pipeline.report.helpers import HOSTILE, TODAY, hostile_verdict

# One workflow command per line: `::level key=value,…::message`, nothing unescaped inside.
COMMAND = re.compile(r"^::(error|warning|notice) ((?:[a-zA-Z]+=[^,:\r\n]*)(?:,[a-zA-Z]+=[^,:\r\n]*)*)::([^\r\n]*)$")


def test_escaping_matches_actions_core() -> None:
    assert command_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert command_property("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext%3A a%2Cb"
    assert console_text("ok\n::add-mask::x\x1b[0m\u202e") == "ok ::add-mask::x[0m"


def test_a_hostile_finding_is_one_command_with_escaped_values() -> None:
    hostile = finding("B602", Severity.HIGH, tool="bandit", title=HOSTILE[9], description=HOSTILE[0],
                      location=CodeLocation("src/a,b:c.py", 7, 9, 3, 12))
    line = workflow_command("error", hostile, hostile.location)  # type: ignore[arg-type]
    assert "\n" not in line and "\r" not in line
    match = COMMAND.match(line)
    assert match is not None
    properties = dict(pair.split("=", 1) for pair in match.group(2).split(","))
    assert properties == {"file": "src/a%2Cb%3Ac.py", "line": "7", "endLine": "9", "col": "3", "endColumn": "12",
                          "title": "HIGH bandit%3A B602"}
    assert match.group(3) == ("line one%0D%0A::add-mask::secret%0A::error::fake%0A"
                              "<script>alert(document.cookie)</script>")


def test_only_new_open_code_findings_are_annotated_failing_first() -> None:
    lines = annotations_for(hostile_verdict()).lines
    assert [COMMAND.match(line).group(1) for line in lines] == ["error", "error"]  # type: ignore[union-attr]
    assert "file=src/app.py" in lines[0] and "file=src/run|me.py" in lines[1]  # package and URL findings: none
    assert all(COMMAND.match(line) for line in lines)


def test_each_level_stops_at_githubs_limit_and_the_rest_is_counted() -> None:
    findings = [
        *(finding(f"high-{i}", Severity.HIGH, location=code(line=i)) for i in range(1, 26)),
        *(finding(f"medium-{i}", Severity.MEDIUM, location=code(line=100 + i)) for i in range(12)),
        *(finding(f"low-{i}", Severity.LOW, location=code(line=200 + i)) for i in range(3)),
        finding("CVE-2024-1", Severity.CRITICAL, tool="trivy", location=package()),  # no file line: no annotation
    ]
    annotations = annotations_for(evaluate(fingerprinted(*findings), Policy(), today=TODAY))
    levels = [COMMAND.match(line).group(1) for line in annotations.lines]  # type: ignore[union-attr]
    assert (levels.count("error"), levels.count("warning"), levels.count("notice")) == (PER_LEVEL_LIMIT, 10, 3)
    assert annotations.left_out == (("error", 15), ("warning", 2))
    assert annotations.left_out_note() == (
        "tollgate: 15 error, 2 warning annotations left out: GitHub shows at most 10 of each level per step; "
        "the job summary and the reports list every finding")
    assert annotations_for(evaluate([], Policy(), today=TODAY)).left_out_note() is None


def test_gate_annotations_on_stdout_and_the_left_out_note_in_the_log(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    findings = [finding(f"r{i}", Severity.CRITICAL, location=code("src/a.py", i)) for i in range(1, 13)]
    results = write_results(tmp_path / "results.json", findings)
    assert main(["gate", str(results), "--annotations"]) == ExitCode.GATE_FAILED
    captured = capsys.readouterr()
    commands = [line for line in captured.out.splitlines() if line.startswith("::")]
    assert len(commands) == 10 and all(COMMAND.match(line) for line in commands)
    assert "tollgate: 2 error annotations left out" in captured.err
