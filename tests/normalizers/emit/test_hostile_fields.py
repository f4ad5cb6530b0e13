"""Findings whose fields are hostile (non-finite scores, folders as paths, blank vectors and URLs,
huge labels and lists) still emit SARIF and ASFF that the consumers' validators accept.

The Findings are built here by hand on purpose: each field is what a mutated real report once
produced (tests/fuzzing.py finds them), stated directly so the class is tested, not the sample.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from normalizers.emit.asff import MAX_FINDING_BYTES, AsffContext, emit_asff
from normalizers.emit.sarif import SECURITY_SEVERITY, emit_sarif, security_severity
from normalizers.model import (
    Category,
    CodeLocation,
    Cvss,
    Finding,
    HostLocation,
    ImageLocation,
    PackageLocation,
    Remediation,
    Severity,
    Tool,
    UrlLocation,
)
from normalizers.text import web_url
from tests.normalizers.helpers import NOW, SCOPE
from tests.validation import asff_problems, sarif_problems

CONTEXT = AsffContext(account="123456789012", region="us-east-1", scope=SCOPE, now=NOW)
PACKAGE = Finding(Tool("trivy", Category.SCA), "CVE-2024-0001", "vulnerable package", Severity.HIGH,
                  PackageLocation("pkg", "1.0", manifest_path="go.sum"), vulnerability_ids=("CVE-2024-0001",))
CODE = Finding(Tool("semgrep", Category.SAST), "python.lang.eval", "eval of input", Severity.MEDIUM,
               CodeLocation("src/app.py", 3), cwe=(95,))
URL = Finding(Tool("zap", Category.DAST), "40012", "XSS", Severity.HIGH, UrlLocation("http://127.0.0.1:8080/x"))


def emitted(finding: Finding) -> tuple[list[dict[str, Any]], list[str]]:
    asff = emit_asff([finding], CONTEXT)
    problems = asff_problems(list(asff.findings))
    problems += [p for document in emit_sarif([finding]).documents for p in sarif_problems(document)]
    return list(asff.findings), problems


HOSTILE = {
    "nan score": dataclasses.replace(PACKAGE, cvss=(Cvss("3.1", float("nan"), "CVSS:3.1/AV:N"),)),
    "infinite score": dataclasses.replace(PACKAGE, cvss=(Cvss("3.1", float("inf")), Cvss("2.0", float("-inf")))),
    "blank vector": dataclasses.replace(PACKAGE, cvss=(Cvss("3.1", 7.5, "   "),)),
    "blank source": dataclasses.replace(PACKAGE, cvss=(Cvss("3.1", 7.5, None, " \t"),)),
    "folder path": dataclasses.replace(CODE, location=CodeLocation("src/", 3)),
    "root path": dataclasses.replace(CODE, location=CodeLocation("/", 3)),
    "blank references": dataclasses.replace(PACKAGE, references=("  ", "https:// x", "http://", "\n")),
    "blank remediation url": dataclasses.replace(PACKAGE, remediation=Remediation("upgrade", "   ")),
    "blank package fields": dataclasses.replace(PACKAGE, location=PackageLocation("pkg", " ", ecosystem="\t")),
    "huge severity label": dataclasses.replace(PACKAGE, original_severity="H" * 300_000),
    "blank severity label": dataclasses.replace(PACKAGE, original_severity="   "),
    "huge related ids": dataclasses.replace(PACKAGE, vulnerability_ids=(
        "CVE-2024-0001", *(f"CVE-2024-{i:05d}-{'x' * 200}" for i in range(2000)))),
    "huge everything": dataclasses.replace(
        URL, title="t" * 300_000, description="d" * 300_000, rule_id="r" * 5000,
        location=UrlLocation("http://127.0.0.1/" + "p" * 300_000, parameter="q" * 300_000),
        properties=tuple((f"k{i}", "v" * 300_000) for i in range(60))),
    "bool lines": dataclasses.replace(CODE, location=CodeLocation("src/app.py", True, True, True, True)),  # type: ignore[arg-type]
    "zero and negative lines": dataclasses.replace(CODE, location=CodeLocation("src/app.py", 0, -3, 0, -1)),
    "blank rule id": dataclasses.replace(CODE, rule_id="   "),
    "blank image": dataclasses.replace(PACKAGE, location=ImageLocation(" ", package=PackageLocation(" "))),
    "blank host": dataclasses.replace(CODE, location=HostLocation("  ")),
    "blank url": dataclasses.replace(URL, location=UrlLocation(" ")),
    "blank everything": dataclasses.replace(URL, title=" ", description=" ", message=" ",
                                            location=UrlLocation("http://127.0.0.1/", " ", " ", " ", " ")),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_fields_emit_valid_sarif_and_asff(case: str) -> None:
    findings, problems = emitted(HOSTILE[case])
    assert problems == []
    for finding in findings:
        assert len(orjson.dumps(finding)) <= MAX_FINDING_BYTES


def test_non_finite_scores_are_left_out_not_written_as_null() -> None:
    (finding,), _ = emitted(HOSTILE["nan score"])
    assert "Cvss" not in finding["Vulnerabilities"][0]
    assert security_severity(HOSTILE["nan score"]) == SECURITY_SEVERITY[Severity.HIGH]  # not "nan"


def test_a_folder_path_names_the_folder() -> None:
    (finding,), _ = emitted(HOSTILE["folder path"])
    file_path = finding["Vulnerabilities"][0]["CodeVulnerabilities"][0]["FilePath"]
    assert file_path["FileName"] == "src"


def test_a_huge_label_is_cut_and_the_finding_kept() -> None:
    (finding,), _ = emitted(HOSTILE["huge severity label"])
    assert len(finding["Severity"]["Original"]) == 64


def test_a_finding_that_cannot_fit_is_left_out_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("normalizers.emit.asff.MAX_FINDING_BYTES", 500)
    emission = emit_asff([PACKAGE], CONTEXT)
    assert emission.findings == ()
    assert "left out of the ASFF output" in emission.warnings[-1]


@pytest.mark.parametrize(("value", "expected"), [
    ("https://nvd.nist.gov/x", "https://nvd.nist.gov/x"), (" http://a.example ", "http://a.example"),
    ("https://", None), ("http:///path", None), ("https://a b", None), ("ftp://a.example", None), ("  ", None),
    (None, None),
])
def test_web_url(value: str | None, expected: str | None) -> None:
    assert web_url(value) == expected
