"""Identity (docs/design.md): stable across runs and line moves, scoped by repository."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from normalizers.identity import (
    fingerprint,
    image_repository,
    legacy_fingerprints,
    package_key,
    scoped_id,
    url_key,
    with_fingerprints,
)
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
    with_fingerprint,
)
from normalizers.source_tree import SourceTree

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


# --- v2: content from the scanned tree, resource, message (docs/identity.md) -----------------

TRIVY = Tool("trivy", Category.IAC, "0.60.0")
TERRAFORM = """\
resource "aws_subnet" "a" {
  map_public_ip_on_launch = true
}

resource aws_subnet "b" {
  map_public_ip_on_launch = true
}
data "aws_caller_identity" "current" {}
"""
DOCKERFILE = "FROM ubuntu:22.04\nUSER root\nRUN make\nUSER root\n"


def trivy_finding(path: str, line: int, rule: str = "AWS-0164", message: str = "Subnet has a public IP") -> Finding:
    return Finding(TRIVY, rule, "t", Severity.MEDIUM, CodeLocation(path, line, line), message=message)


def _tree(tmp_path: Path, shift: int = 0, comment: str = "") -> SourceTree:
    terraform = TERRAFORM.replace("}\n\nresource", f"}}\n{comment}\n\nresource") if comment else TERRAFORM
    (tmp_path / "main.tf").write_text("\n" * shift + terraform)
    (tmp_path / "Dockerfile").write_text("\n" * shift + DOCKERFILE)
    return SourceTree(str(tmp_path))


def test_tools_without_a_snippet_are_anchored_on_the_line_read_from_the_tree(tmp_path: Path) -> None:
    before = with_fingerprints([trivy_finding("main.tf", 2), trivy_finding("main.tf", 6)], _tree(tmp_path))
    after = with_fingerprints([trivy_finding("main.tf", 7), trivy_finding("main.tf", 12)],
                              _tree(tmp_path, shift=5, comment="# moved"))
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert before[0].fingerprint != before[1].fingerprint  # identical lines, two resources
    assert [f.location.resource for f in before if isinstance(f.location, CodeLocation)] == [
        "aws_subnet.a", "aws_subnet.b"]


def test_terraform_addresses_quoted_bare_data_and_outside_a_block(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    assert tree.terraform_address("main.tf", 1) == "aws_subnet.a"
    assert tree.terraform_address("main.tf", 6) == "aws_subnet.b"
    assert tree.terraform_address("main.tf", 8) == "data.aws_caller_identity.current"
    assert tree.terraform_address("main.tf", 4) is None  # between blocks
    assert tree.terraform_address("../main.tf", 1) is None  # never outside the root


def test_identical_lines_take_their_occurrence_ordinal_not_their_line(tmp_path: Path) -> None:
    def users(tree: SourceTree, first: int, second: int) -> list[str]:
        findings = [Finding(TRIVY, "DS-0002", "root", Severity.HIGH, CodeLocation("Dockerfile", line, line))
                    for line in (first, second)]
        return [f.fingerprint for f in with_fingerprints(findings, tree)]

    before = users(_tree(tmp_path), 2, 4)
    assert before[0] != before[1]
    assert users(_tree(tmp_path, shift=5), 7, 9) == before


def test_a_whole_file_result_on_line_one_survives_blank_lines_on_top(tmp_path: Path) -> None:
    at_top = Finding(TRIVY, "DS-0026", "healthcheck", Severity.LOW, CodeLocation("Dockerfile", 1, 1))
    [before] = with_fingerprints([at_top], _tree(tmp_path))
    [after] = with_fingerprints([at_top], _tree(tmp_path, shift=5))
    assert before.fingerprint == after.fingerprint


def test_one_rule_at_one_place_with_two_messages_is_two_findings() -> None:
    api, audit, again = with_fingerprints([
        trivy_finding("eks.tf", 118, "AWS-0038", "Control plane API logging is not enabled."),
        trivy_finding("eks.tf", 118, "AWS-0038", "Control plane audit logging is not enabled."),
        trivy_finding("eks.tf", 118, "AWS-0038", "Control plane API logging is not enabled."),
    ])
    assert api.fingerprint != audit.fingerprint
    assert api.fingerprint == again.fingerprint  # a true duplicate


def test_a_line_number_quoted_in_the_message_does_not_move_the_identity() -> None:
    assert fingerprint(dataclasses.replace(code_finding(3), message="tainted at line 3")) == fingerprint(
        dataclasses.replace(code_finding(9), message="tainted at line 9"))


def test_secrets_are_never_anchored_on_the_line_that_holds_them(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("TOKEN = 'x'\n")
    secret = Finding(Tool("gitleaks", Category.SECRETS), "token", "t", Severity.HIGH, CodeLocation("app.py", 1, 1))
    [with_tree] = with_fingerprints([secret], SourceTree(str(tmp_path)))
    [without] = with_fingerprints([secret])
    assert with_tree.fingerprint == without.fingerprint


def test_the_v1_identity_is_still_computed_for_the_migration() -> None:
    # v1 anchored on the whole snippet; v2 changes the id, legacy_fingerprints reproduces v1
    finding = code_finding(5, snippet="a = 1\nb = 2")
    [v1] = legacy_fingerprints([finding])
    [v2] = with_fingerprints([finding])
    assert v1 != v2.fingerprint
    assert v1 == _digest_v1(finding)


def _digest_v1(finding: Finding) -> str:
    import hashlib  # noqa: PLC0415 - the v1 formula, written out once here as its specification

    def digest(*parts: str) -> str:
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    location = finding.location
    assert isinstance(location, CodeLocation) and location.snippet
    key = f"code|{location.path}|{digest(' '.join(location.snippet.split()))}"
    return digest("v1", finding.category.value, finding.rule_id, key)


def test_setting_the_identity_is_the_same_value_as_a_replace() -> None:
    """with_fingerprint copies the fields instead of re-running __init__, which is only sound while
    Finding's __init__ does nothing but store them."""
    finding = code_finding(3)
    assert not hasattr(Finding, "__post_init__")
    set_by_copy = with_fingerprint(finding, "f" * 64)
    assert set_by_copy == dataclasses.replace(finding, fingerprint="f" * 64)
    assert finding.fingerprint == "" and hash(set_by_copy) == hash(dataclasses.replace(set_by_copy))
