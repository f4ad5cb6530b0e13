"""Helpers shared by the parser tests: parse a fixture, read the corpus MANIFEST, break a report."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from normalizers.model import ParseResult
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.results import finding_to_dict
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES


def parse_fixture(area: str, name: str, tool_id: ToolId, source_root: str | None = None) -> ParseResult:
    return parse_path(FIXTURES / area / name, tool_id, source_root)


def parse_path(path: Path, tool_id: ToolId, source_root: str | None = None) -> ParseResult:
    return parse_report(Report.from_path(str(path)), ParseOptions(source_root=source_root), tool_id=tool_id)


def parse_bytes(source: str, raw: bytes, tool_id: ToolId) -> ParseResult:
    return parse_report(Report(source=source, raw=raw), ParseOptions(), tool_id=tool_id)


def finding_dicts(result: ParseResult) -> list[dict[str, Any]]:
    return [finding_to_dict(f) for f in result.findings]


def truncated(path: Path) -> Report:
    """The first half of a real report, as a crashed scanner or a cut download leaves it."""
    raw = path.read_bytes()
    return Report(source=f"{path.name}.truncated", raw=raw[: len(raw) // 2])


def manifest_expected(corpus: Path, tool: str) -> dict[str, str]:
    """file -> DefectDojo's expected_findings for one corpus folder ("" when it asserts none)."""
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["file"]: row["expected_findings"] for row in rows if row["tool"] == tool}

