"""A big report is sniffed on its outline and parsed record by record (Report.streamed_json); every
parser must find in it exactly what it finds in the whole document.

The fixtures are small, so the test lowers the size from which a report counts as big to 0 and
streams every array of more than one item: each fixture then takes the streamed path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from normalizers import raw_report
from normalizers.errors import NormalizerError
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.results import finding_to_dict
from tests.conftest import FIXTURES
from tests.normalizers.emit.test_sweep import fixture_reports


def parsed(path: Path) -> object:
    try:
        result = parse_report(Report.from_path(str(path)), ParseOptions(source_root="/src"))
    except NormalizerError as refused:
        return f"refused: {refused}"
    return result.tool_id, [finding_to_dict(f) for f in result.findings], result.skipped


@pytest.mark.parametrize("path", fixture_reports(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_a_streamed_report_parses_as_the_whole_document(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = parsed(path)
    monkeypatch.setattr(raw_report, "STREAM_BYTES", 0)
    monkeypatch.setattr(raw_report, "STREAMED_ARRAY_ITEMS", 2)
    assert parsed(path) == whole


def test_the_trivy_fixtures_really_take_the_streamed_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raw_report, "STREAM_BYTES", 0)
    monkeypatch.setattr(raw_report, "STREAMED_ARRAY_ITEMS", 2)
    document = Report.from_path(str(FIXTURES / "trivy" / "alpine-310.json.golden")).streamed_json()
    assert isinstance(document["Results"][0]["Vulnerabilities"], raw_report.JsonRecords)


def test_a_deep_record_in_a_streamed_array_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raw_report, "STREAM_BYTES", 0)
    deep = '{"a":' * raw_report.MAX_DEPTH + "1" + "}" * raw_report.MAX_DEPTH
    report = Report("deep.json", f'{{"Results": [{deep}, {deep}, {deep}]}}'.encode())
    monkeypatch.setattr(raw_report, "STREAMED_ARRAY_ITEMS", 2)
    records = report.streamed_json()["Results"]
    with pytest.raises(raw_report.MalformedReportError, match="nested deeper"):
        records[0]
