"""The results file is lossless: every field of every location kind survives a round trip."""

from __future__ import annotations

import orjson
import pytest

from normalizers.errors import MalformedReportError
from normalizers.identity import with_fingerprints
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Cvss,
    Finding,
    HostLocation,
    ImageLocation,
    PackageLocation,
    Remediation,
    Scope,
    Severity,
    Skipped,
    Tool,
    UrlLocation,
)
from normalizers.results import Results, results_from_dict, results_to_dict

PACKAGE = PackageLocation("openssl", "1.1.1c", "pkg:apk/alpine/openssl@1.1.1c?arch=x86_64", "apk", "lib/apk/db",
                          12, ("1.1.1d", "3.0.1"))
LOCATIONS = [
    CodeLocation("src/app.py", 3, 4, 1, 20, "eval(x)"),
    PACKAGE,
    UrlLocation("http://127.0.0.1:8080/search?q=1", "POST", "q", "<script>", "<script>"),
    ImageLocation("alpine:3.10", "sha256:ab", "sha256:cd", PACKAGE),
    HostLocation("web-1", "i-0123456789abcdef0", "AUTH-9286", "accounts"),
]


def full_finding(location: object) -> Finding:
    return Finding(
        tool=Tool("tool", Category.SCA, "1.0"), rule_id="R1", title="t", severity=Severity.HIGH,
        location=location,  # type: ignore[arg-type]
        description="d", original_severity="High", confidence=Confidence.MEDIUM, cwe=(79, 89),
        cvss=(Cvss("3.1", 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "nvd"),),
        vulnerability_ids=("CVE-2020-1", "GHSA-1"), remediation=Remediation("upgrade", "https://x"),
        references=("https://a",), active=False, suppression_reason="accepted", confirmed_by=("trivy",),
        properties=(("k", "v"),),
    )


@pytest.mark.parametrize("location", LOCATIONS, ids=lambda loc: type(loc).__name__)
def test_round_trip_is_lossless(location: object) -> None:
    findings = tuple(with_fingerprints([full_finding(location)]))
    results = Results(Scope("acme/web", "prod", "main", "abc"), findings, (Skipped("zap", "no uri", "site[0]"),),
                      ("r.json",), (("hardening_index", "64"),))
    document = orjson.loads(orjson.dumps(results_to_dict(results)))
    assert results_from_dict(document) == results


def test_a_foreign_document_is_refused_with_its_name() -> None:
    with pytest.raises(MalformedReportError, match=r"other\.json: not a Tollgate results file"):
        results_from_dict({"runs": []}, "other.json")


def test_a_bad_record_is_refused_not_half_read() -> None:
    document = results_to_dict(Results(Scope("acme/web"), tuple(with_fingerprints([full_finding(LOCATIONS[0])]))))
    document["findings"][0]["severity"] = "SEVERE"
    with pytest.raises(MalformedReportError, match="bad record"):
        results_from_dict(document, "r.json")
