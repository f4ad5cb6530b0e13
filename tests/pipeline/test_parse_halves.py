"""A big streamed report is parsed by two processes, each reading half of its records (pipeline.parse_halves):
every finding, skipped record and count must be what one process finds, secrets masked across the halves, and a
failure in either half must be the error one process would raise.

The fixtures are small, so the tests stream every array of more than one item and split from one record on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from normalizers import parsing, raw_report
from normalizers.errors import MalformedReportError
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import ParsedShare, ShareWork, parse_report
from normalizers.raw_report import Report
from normalizers.results import finding_to_dict
from pipeline import forked
from pipeline.parse_halves import in_two_processes
from tests.conftest import FIXTURES

TRIVY_REPORTS = sorted((FIXTURES / "trivy").glob("*.json*"))
SECRETS = ("Sup3rS3cretValueFromTheSecondHalf", "An0therS3cretFromTheFirstHalf")


@pytest.fixture(autouse=True)
def _small_reports_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raw_report, "STREAM_BYTES", 0)
    monkeypatch.setattr(raw_report, "STREAMED_ARRAY_ITEMS", 2)
    monkeypatch.setattr(parsing, "SPLIT_MIN_RECORDS", 1)


def parsed(report: Report, halves: parsing.Halves | None) -> tuple[object, ...]:
    result = parse_report(report, ParseOptions(source_root="/src"), halves=halves)
    return ([finding_to_dict(f) for f in result.findings], result.skipped, result.reconciliation, result.metrics)


def both_halves_used(seen: list[tuple[ParsedShare, ParsedShare]]) -> parsing.Halves:
    def halves(work: ShareWork) -> tuple[ParsedShare, ParsedShare] | None:
        shares = in_two_processes(work)
        assert shares is not None
        seen.append(shares)
        return shares
    return halves


@pytest.mark.parametrize("path", TRIVY_REPORTS, ids=lambda p: p.name)
def test_two_halves_find_what_one_process_finds(path: Path) -> None:
    whole = parsed(Report.from_path(str(path)), None)
    seen: list[tuple[ParsedShare, ParsedShare]] = []
    assert parsed(Report.from_path(str(path)), both_halves_used(seen)) == whole
    assert len(seen) == (1 if Report.from_path(str(path)).streamed_records else 0)  # split where it can be


def _secret(value: str, target: str) -> dict[str, object]:
    return {"Target": target, "Class": "secret", "Secrets": [
        {"RuleID": "generic-password", "Category": "Generic", "Severity": "HIGH", "Title": "Password",
         "StartLine": 3, "EndLine": 3, "Match": f'password = "{value}" # ****'},
        {"RuleID": "generic-token", "Category": "Generic", "Severity": "HIGH", "Title": "Token",
         "StartLine": 9, "EndLine": 9, "Match": "token = ********"}]}


def _vulnerability(number: int, description: str) -> dict[str, object]:
    return {"VulnerabilityID": f"CVE-2099-{number:04d}", "PkgName": f"package-{number}", "InstalledVersion": "1.0",
            "Severity": "LOW", "Title": f"flaw {number}", "Description": description}


def report_with_secrets_in_both_halves(tmp_path: Path) -> Path:
    """Written for this test: the first half's first result holds a secret that the second half's last package
    quotes, and the second half's last result holds one that the first half's first package quotes. Only the
    packages are streamed (6 records, 3 per half) when arrays of 4 items or more are."""
    vulnerabilities = [_vulnerability(n, f"package {n}") for n in range(6)]
    vulnerabilities[0]["Description"] = f"the log shows {SECRETS[0]} in clear"
    vulnerabilities[5]["Description"] = f"the log shows {SECRETS[1]} in clear"
    document = {"SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem", "Results": [
        _secret(SECRETS[1], "first.env"),
        {"Target": "requirements.txt", "Class": "lang-pkgs", "Type": "pip", "Vulnerabilities": vulnerabilities},
        _secret(SECRETS[0], "second.env")]}
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_secret_in_one_half_is_masked_in_the_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raw_report, "STREAMED_ARRAY_ITEMS", 4)
    path = report_with_secrets_in_both_halves(tmp_path)
    whole = parsed(Report.from_path(str(path)), None)
    seen: list[tuple[ParsedShare, ParsedShare]] = []
    split = parsed(Report.from_path(str(path)), both_halves_used(seen))
    assert split == whole
    halves = [[getattr(f.location, "path", f.rule_id) for f in share.findings] for share in seen[0]]
    assert halves == [["first.env", "first.env", *(f"CVE-2099-{n:04d}" for n in range(3))],
                      [*(f"CVE-2099-{n:04d}" for n in range(3, 6)), "second.env", "second.env"]]
    assert not any(secret in json.dumps(split, default=str) for secret in SECRETS)


def test_a_failure_in_the_second_half_is_its_own_error(tmp_path: Path) -> None:
    deep = '{"a":' * raw_report.MAX_DEPTH + "1" + "}" * raw_report.MAX_DEPTH
    records = [json.dumps(_vulnerability(n, "fine")) for n in range(5)] + [deep]
    path = tmp_path / "deep.json"
    path.write_text('{"SchemaVersion": 2, "ArtifactName": ".", "Results": [{"Target": "requirements.txt", '
                    f'"Class": "lang-pkgs", "Vulnerabilities": [{",".join(records)}]}}]}}', encoding="utf-8")
    with pytest.raises(MalformedReportError, match="nested deeper") as alone:
        parsed(Report.from_path(str(path)), None)
    with pytest.raises(MalformedReportError, match="nested deeper") as split:
        parsed(Report.from_path(str(path)), both_halves_used([]))
    assert str(split.value) == str(alone.value)


def test_a_second_half_that_dies_fails_the_parse_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = report_with_secrets_in_both_halves(tmp_path)
    parent = os.getpid()
    share = parsing._parse_share

    def dying(*args: object) -> ParsedShare:
        if os.getpid() != parent:
            os.kill(os.getpid(), 9)
        return share(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(parsing, "_parse_share", dying)
    with pytest.raises(forked.ChildFailed, match="killed by SIGKILL"):
        parsed(Report.from_path(str(path)), in_two_processes)


def test_one_process_parses_where_forking_is_unsafe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "available", lambda: False)
    path = report_with_secrets_in_both_halves(tmp_path)
    assert in_two_processes(lambda first, widen: pytest.fail("no share is parsed apart")) is None
    assert parsed(Report.from_path(str(path)), in_two_processes) == parsed(Report.from_path(str(path)), None)
