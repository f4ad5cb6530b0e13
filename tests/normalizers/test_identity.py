"""Identity (DESIGN.md §3): stable across runs and line moves, scoped by repository."""

from __future__ import annotations

import dataclasses

from normalizers.identity import fingerprint, image_repository, package_key, scoped_id, url_key, with_fingerprints
from normalizers.model import (
    Category,
    CodeLocation,
    Finding,
    ImageLocation,
    PackageLocation,
    Scope,
    Severity,
    Tool,
    UrlLocation,
)

BANDIT = Tool("bandit", Category.SAST, "1.7.9")


def code_finding(line: int, snippet: str = "subprocess.call(cmd, shell=True)", rule: str = "B602") -> Finding:
    return Finding(BANDIT, rule, "shell", Severity.HIGH, CodeLocation("app/run.py", line, line, snippet=snippet))


def test_code_identity_ignores_line_numbers_and_indentation() -> None:
    assert fingerprint(code_finding(10)) == fingerprint(code_finding(13))
    indented = code_finding(13, snippet="    subprocess.call(cmd,   shell=True)\n")
    assert fingerprint(code_finding(10)) == fingerprint(indented)


def test_moving_every_result_three_lines_down_keeps_every_id() -> None:
    before = [code_finding(5), code_finding(9), code_finding(20, snippet="eval(x)", rule="B307")]
    after = [dataclasses.replace(f, location=dataclasses.replace(f.location, start_line=f.location.start_line + 3,
                                                                 end_line=f.location.end_line + 3))
             for f in before]
    assert [f.fingerprint for f in with_fingerprints(before)] == [f.fingerprint for f in with_fingerprints(after)]


def test_identical_lines_in_one_file_stay_two_findings() -> None:
    first, second = with_fingerprints([code_finding(5), code_finding(9)])
    assert first.fingerprint != second.fingerprint


def test_same_line_reported_twice_is_one_identity() -> None:
    first, second = with_fingerprints([code_finding(5), code_finding(5)])
    assert first.fingerprint == second.fingerprint


def test_package_identity_drops_qualifiers_but_keeps_version() -> None:
    purl = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    with_qualifiers = PackageLocation("log4j-core", "2.14.1", purl + "?type=jar")
    plain = PackageLocation("log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    newer = PackageLocation("log4j-core", "2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1")
    assert package_key(with_qualifiers) == package_key(plain) != package_key(newer)


def test_url_identity_ignores_query_values_and_host_case() -> None:
    a = UrlLocation("https://App.example.com/search?q=1", "GET", "q")
    b = UrlLocation("https://app.example.com/search?q=<script>", "get", "q")
    assert url_key(a) == url_key(b)
    assert url_key(a) != url_key(UrlLocation("https://app.example.com/search", "POST", "q"))



def test_url_identity_ignores_a_spelled_out_default_port_only() -> None:
    """ZAP writes `https://host:443/` where Wapiti writes `https://host/`: one place, one finding."""
    plain = url_key(UrlLocation("https://app.example.com/login", "POST", "user"))
    assert url_key(UrlLocation("https://app.example.com:443/login", "POST", "user")) == plain
    assert url_key(UrlLocation("http://app.example.com:80/login", "POST", "user")) == plain.replace("https", "http")
    assert url_key(UrlLocation("https://app.example.com:8443/login", "POST", "user")) != plain
    assert url_key(UrlLocation("http://app.example.com:443/login", "POST", "user")) != plain.replace("https", "http")


def test_url_identity_of_a_url_whose_port_python_cannot_read() -> None:
    """A scanned site can send any URL: a port out of range or not a number is kept as written, not a crash."""
    assert url_key(UrlLocation("http://app.example.com:99999/x")) == "http|app.example.com:99999|/x|GET|"
    assert url_key(UrlLocation("http://u:p@App.example.com:8o/x")) == "http|app.example.com:8o|/x|GET|"


def test_url_identity_keeps_ipv6_brackets() -> None:
    """`[::1:8080]` and `[::1]:8080` are different hosts; without brackets both keys read `::1:8080`."""
    assert url_key(UrlLocation("http://[::1:8080]/")) != url_key(UrlLocation("http://[::1]:8080/"))
    assert url_key(UrlLocation("http://[::1]:80/")) == "http|[::1]|/|GET|"

def test_image_identity_ignores_tag_and_digest() -> None:
    assert image_repository("registry:5000/team/app:1.2@sha256:abc") == "registry:5000/team/app"
    assert image_repository("alpine") == "alpine"
    pkg = PackageLocation("openssl", "1.1.1", "pkg:apk/alpine/openssl@1.1.1")
    trivy = Tool("trivy", Category.IMAGE)
    old = Finding(trivy, "CVE-2023-0001", "t", Severity.HIGH, ImageLocation("app:1.0", package=pkg))
    new = Finding(trivy, "CVE-2023-0001", "t", Severity.HIGH, ImageLocation("app:1.1@sha256:ff", package=pkg))
    assert fingerprint(old) == fingerprint(new)


def test_one_cve_in_two_packages_is_two_identities() -> None:
    trivy = Tool("trivy", Category.IMAGE)
    libssl = ImageLocation("alpine:3.10", package=PackageLocation("libssl1.1", "1.1.1c"))
    libcrypto = ImageLocation("alpine:3.10", package=PackageLocation("libcrypto1.1", "1.1.1c"))
    a = Finding(trivy, "CVE-2019-1549", "t", Severity.MEDIUM, libssl, vulnerability_ids=("CVE-2019-1549",))
    b = Finding(trivy, "CVE-2019-1549", "t", Severity.MEDIUM, libcrypto, vulnerability_ids=("CVE-2019-1549",))
    assert fingerprint(a) != fingerprint(b)


def test_two_tools_agree_on_cve_identity() -> None:
    location = PackageLocation("bcprov-jdk15on", "1.55", "pkg:maven/org.bouncycastle/bcprov-jdk15on@1.55",
                               manifest_path="pom.xml")
    dc = Finding(Tool("dependency-check", Category.SCA), "CVE-2018-1000613", "t", Severity.CRITICAL, location,
                 vulnerability_ids=("CVE-2018-1000613",))
    trivy = Finding(Tool("trivy", Category.SCA), "CVE-2018-1000613", "t", Severity.HIGH, location,
                    vulnerability_ids=("GHSA-xxxx-yyyy-zzzz", "CVE-2018-1000613"))
    assert fingerprint(dc) == fingerprint(trivy)


def test_scoped_id_differs_per_repository_and_is_bounded() -> None:
    finding = with_fingerprints([code_finding(1)])[0]
    a = scoped_id(Scope("acme/web"), finding)
    b = scoped_id(Scope("acme/api"), finding)
    assert a != b and finding.fingerprint in a
    long_repo = "acme/" + "x" * 600
    long_a, long_b = scoped_id(Scope(long_repo), finding), scoped_id(Scope(long_repo + "y"), finding)
    assert len(long_a) <= 512 and len(long_b) <= 512 and long_a != long_b


def test_scoped_id_is_deterministic() -> None:
    assert scoped_id(Scope("acme/web", "prod"), with_fingerprints([code_finding(1)])[0]) == scoped_id(
        Scope("acme/web", "prod"), with_fingerprints([code_finding(1)])[0]
    )
