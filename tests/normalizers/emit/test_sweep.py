"""Every report Tollgate reads becomes SARIF that GitHub accepts and ASFF that Security Hub accepts.

The fixture sweep runs everywhere; the corpus sweep covers every recorded report in
the optional corpus beside the checkout (docs/development.md) and skips without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from normalizers.dedupe import merge_duplicates
from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.emit.sarif import emit_sarif
from normalizers.errors import NormalizerError
from normalizers.model import Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from tests.conftest import ABSENT, CORPUS, FIXTURES
from tests.validation import asff_problems, sarif_problems

REPORT_SUFFIXES = {".json", ".xml", ".sarif", ".golden", ".dat"}
NOT_REPORTS = {"schemas"}
CONTEXT = AsffContext("123456789012", "eu-west-1", Scope("acme/web", branch="main"))


def fixture_reports() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in REPORT_SUFFIXES
                  and p.relative_to(FIXTURES).parts[0] not in NOT_REPORTS and "xsd" not in p.parts)


def corpus_reports() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in {"MANIFEST.tsv", "DD_EXPECTED.tsv"}
                  and p.suffix not in {".md", ".tsv"})


def emit_and_validate(path: Path) -> int:
    """Findings emitted and validated; 0 when the report is refused with a NormalizerError."""
    try:
        parsed = parse_report(Report.from_path(str(path)), ParseOptions(source_root="/src"))
    except NormalizerError as refused:
        assert str(path) in str(refused) and "\n" not in str(refused)
        return 0
    findings = merge_duplicates(parsed.findings)
    sarif = emit_sarif(findings)
    for document in sarif.documents:
        assert sarif_problems(document) == [], path
    asff = emit_asff(findings, CONTEXT).findings
    assert asff_problems(asff) == [], path
    assert len(asff) == len(findings)
    return len(findings)


@pytest.mark.parametrize("path", fixture_reports(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_report_emits_valid_sarif_and_asff(path: Path) -> None:
    emit_and_validate(path)


def test_the_fixture_sweep_sees_findings() -> None:
    assert sum(emit_and_validate(p) for p in fixture_reports()[:40]) > 100


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} {ABSENT}")
def test_every_corpus_report_emits_valid_sarif_and_asff_or_is_refused_cleanly() -> None:
    total = 0
    for path in corpus_reports():
        total += emit_and_validate(path)
    assert total > 1000
