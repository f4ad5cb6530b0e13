"""The bounded reader: what a report's JSON and XML may hold before any parser sees it.

Each class below once crashed `tollgate normalize` with an internal error (exit 3) or made orjson
fail while writing; every one is now an input error (exit 2) or a harmless replacement.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from normalizers.errors import MalformedReportError
from normalizers.numbers import finite_float, small_int
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import MAX_DEPTH, Report
from normalizers.results import results_from_dict
from pipeline.cli import main
from tests.conftest import FIXTURES

SUPPLY_CHAIN_REPORT = FIXTURES / "supply_chain" / "report" / "tollgate-supply-chain-fixtures.json"
RESULTS_FILE = FIXTURES / "tollgate_results" / "trivy-fs.results.json"


def json_report(text: str) -> Report:
    return Report("test.json", text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 10_000 + "]" * 10_000, "nested deeper"),
    ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nested deeper"),
    ('{"line": ' + "9" * 5000 + "}", "outside 64 bits"),
    ('{"line": ' + str(2**64 + 1) + "}", "outside 64 bits"),
    ('{"line": -' + str(2**63 + 1) + "}", "outside 64 bits"),
    ('{"score": 1e400}', "too large"),
    ('{"score": ' + "1" * 400 + ".5}", "too large"),
    ('{"score": NaN}', "not a JSON number"),
    ('{"score": -Infinity}', "not a JSON number"),
])
def test_json_outside_the_bounds_is_malformed(text: str, message: str) -> None:
    with pytest.raises(MalformedReportError, match=message):
        json_report(text).json  # noqa: B018


def test_json_within_the_bounds_reads_as_before() -> None:
    document = json_report('{"a": [1, -9223372036854775808, 9223372036854775807, 7.5, "x"]}').json
    assert document == {"a": [1, -(2**63), 2**63 - 1, 7.5, "x"]}
    assert json_report('{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH).json is not None


def test_lone_surrogates_are_replaced_and_pairs_kept() -> None:
    document = json_report(r'{"\ud800key": ["a\udfffb", "\ud83d\ude00", "\\ud800"]}').json
    assert document == {"\ufffdkey": ["a\ufffdb", "\U0001f600", "\\ud800"]}


def test_deep_xml_is_malformed() -> None:
    deep = b"<r>" + b"<n>" * 10_000 + b"</n>" * 10_000 + b"</r>"
    with pytest.raises(MalformedReportError, match="nested deeper"):
        Report("test.xml", deep).xml  # noqa: B018


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7), ("42", 42), (" 42 ", 42), ("-3", -3), ("9" * 5000, None), (2**64, None), ("1.5", None),
    (True, None), ("\u0661\u0662", None), (None, None), ([], None),
])
def test_small_int(value: object, expected: int | None) -> None:
    assert small_int(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (7.5, 7.5), ("7.5", 7.5), (3, 3.0), ("nan", None), ("inf", None), (float("nan"), None), ("1e400", None),
    ("9" * 400, None), (10**400, None), (True, None), ("", None), ("high", None), ({}, None),
])
def test_finite_float(value: object, expected: float | None) -> None:
    assert finite_float(value) == expected


def test_supply_chain_records_of_the_wrong_type_are_skipped(tmp_path: Path) -> None:
    document = json.loads(SUPPLY_CHAIN_REPORT.read_text(encoding="utf-8"))
    document["findings"][0]["rule_id"] = []
    document["findings"][1]["similar_packages"] = 1.5
    result = parse_report(Report("sc.json", json.dumps(document).encode()), ParseOptions(source_root=str(tmp_path)))
    assert any("unknown rule []" in s.reason for s in result.skipped)
    assert len(result.findings) + result.reconciliation.merged + len(result.skipped) >= len(document["findings"])


@pytest.mark.parametrize(("field", "value"), [("rule_id", {"a": 1}), ("title", 1.5), ("cwe", ["CWE-79"]),
                                              ("properties", [1, 2]), ("references", "https://x")])
def test_a_results_file_with_a_field_of_the_wrong_type_is_malformed(field: str, value: object) -> None:
    document = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))
    document["findings"][0][field] = value
    with pytest.raises(MalformedReportError, match="bad record"):
        results_from_dict(document, "r.json")


@pytest.mark.parametrize("content", [
    "[" * 10_000 + "]" * 10_000, '{"SchemaVersion": 2, "Results": [{"Target": "x", "Line": ' + "9" * 5000 + "}]}",
])
def test_the_cli_exits_2_with_one_line(tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.json"
    report.write_text(content, encoding="utf-8")
    assert main(["normalize", str(report), "--repo", "o/r", "--sarif", str(tmp_path / "o.sarif")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "internal" not in error
