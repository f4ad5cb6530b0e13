"""The bounded reader: what a report's JSON and XML may hold before any parser sees it.

Each class below once crashed `tollgate normalize` with an internal error (exit 3) or made orjson
fail while writing; every one is now an input error (exit 2) or a harmless replacement.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from normalizers.errors import MalformedReportError, ReportTooLargeError
from normalizers.numbers import finite_float, small_int
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import MAX_DEPTH, Report, read_stream
from normalizers.results import results_from_dict
from normalizers.source_tree import SourceTree
from pipeline.cli import main
from tests.conftest import FIXTURES, ROOT

SUPPLY_CHAIN_REPORT = FIXTURES / "supply_chain" / "report" / "tollgate-supply-chain-fixtures.json"
RESULTS_FILE = FIXTURES / "tollgate_results" / "trivy-fs.results.json"


def json_report(text: str) -> Report:
    return Report("test.json", text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 10_000 + "]" * 10_000, "nested deeper"),
    ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nested deeper"),
    ('{"line": ' + "9" * 5000 + "}", "outside 64 bits"),
    ('{"score": 1e400}', "too large"),
    ('{"score": ' + "1" * 400 + ".5}", "too large"),
    ('{"score": NaN}', "not a JSON number"),
    ('{"score": -Infinity}', "not a JSON number"),
])
def test_json_outside_the_bounds_is_malformed(text: str, message: str) -> None:
    with pytest.raises(MalformedReportError, match=message):
        json_report(text).json  # noqa: B018


@pytest.mark.parametrize("number", [2**63 + 1, 2**64 + 1, -(2**63 + 1), -(2**70)])
def test_integers_beyond_64_bits_read_as_numbers_that_can_be_written_again(number: int) -> None:
    # orjson reads them as an unsigned 64-bit integer or a float, as JSON allows; either can be written
    document = json_report(f'{{"line": {number}}}').json
    assert orjson.loads(orjson.dumps(document))["line"] == pytest.approx(number)


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


# --- non-regular inputs: read once ----------------------------------------------------------

TRIVY = FIXTURES / "trivy" / "alpine-310.json.golden"


def test_a_pipe_is_read_once_not_reopened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`tollgate normalize <(cat r.json)`: the shell passes /dev/fd/N, a pipe that cannot be read twice."""
    read_end, write_end = os.pipe()
    os.write(write_end, TRIVY.read_bytes())
    os.close(write_end)
    try:
        assert main(["normalize", f"/dev/fd/{read_end}", "--repo", "o/r", "--sarif", str(tmp_path / "o.sarif")]) == 0
    finally:
        os.close(read_end)
    assert "4 findings from 1 reports" in capsys.readouterr().out


def test_a_fifo_with_a_late_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        time.sleep(0.3)
        fifo.write_bytes(TRIVY.read_bytes())

    writer = threading.Thread(target=write)
    writer.start()
    report = Report.from_path(str(fifo))
    writer.join()
    assert report.raw == TRIVY.read_bytes() and report.json["ArtifactName"]


def test_a_fifo_without_a_writer_times_out_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr("normalizers.raw_report.STREAM_IDLE_SECONDS", 0.5)
    started = time.monotonic()
    assert main(["normalize", str(fifo), "--repo", "o/r"]) == 2
    assert time.monotonic() - started < 5
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "nothing to read for 0.5 s" in error


def test_a_stream_over_the_size_limit_is_refused() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"[1, 2, 3, 4, 5, 6, 7, 8]")
    os.close(write_end)
    try:
        with pytest.raises(ReportTooLargeError):
            read_stream(read_end, "pipe", max_bytes=8)
    finally:
        os.close(read_end)


@pytest.mark.parametrize("argument", ["-", "/dev/stdin"])
def test_stdin_is_read_once(argument: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "normalize", argument, "--repo", "o/r",
         "--sarif", str(tmp_path / "o.sarif")],
        input=TRIVY.read_bytes(), capture_output=True, check=False, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert b"4 findings from 1 reports" in result.stdout


def test_a_path_with_a_nul_is_no_file_to_read(tmp_path: Path) -> None:
    """The fuzzer's find: `"path": "a\\u0000b"` in a report made pathlib raise ValueError (exit 3)."""
    assert SourceTree(str(tmp_path)).lines("src/a\x00b.py") is None


def test_a_package_name_packageurl_cannot_spell_has_no_purl(tmp_path: Path) -> None:
    """The fuzzer's find: npm name `/` made packageurl-python raise TypeError (an internal error)."""
    document = json.loads(SUPPLY_CHAIN_REPORT.read_text(encoding="utf-8"))
    record = next(f for f in document["findings"] if f["package"]["ecosystem"] == "npm")
    record["package"]["name"] = "/"
    result = parse_report(Report("sc.json", json.dumps(document).encode()), ParseOptions(source_root=str(tmp_path)))
    assert any(f.location.name == "/" and f.location.purl is None for f in result.findings  # type: ignore[union-attr]
               if hasattr(f.location, "purl"))
