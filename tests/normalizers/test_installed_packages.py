"""The host's package inventory: this machine's real dpkg database, purls as Trivy writes them, and
matching through a recorded real Trivy report of a whole root filesystem (tests/fixtures/trivy/SOURCES.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packageurl import PackageURL

from normalizers.installed_packages import InstalledPackage, read_line, read_os
from normalizers.model import PackageLocation
from normalizers.tool_id import ToolId
from pipeline.scanners.lynis import packages_script
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import parse_bytes, parse_fixture

DPKG_STATUS = Path("/var/lib/dpkg/status")


def inventory_lines() -> list[str]:
    run = subprocess.run(["sh", "-s"], input=packages_script(), capture_output=True, text=True, timeout=120,
                         check=True)
    return run.stdout.splitlines()


def dpkg_installed(text: str) -> dict[str, str]:
    """name -> version of every installed package, read straight from the dpkg status file."""
    found = {}
    for paragraph in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in paragraph.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            found[fields["Package"]] = fields["Version"]
    return found


def test_the_inventory_lists_every_package_of_this_machines_dpkg_database() -> None:
    if not DPKG_STATUS.is_file():
        pytest.skip("no dpkg database on this machine")
    lines = inventory_lines()
    packages = [p for line in lines if line.startswith("tollgate_package[]=")
                if (p := read_line(line.split("=", 1)[1])) is not None]
    assert len(packages) == len(lines) - 1  # every line but tollgate_os= is a package
    expected = dpkg_installed(DPKG_STATUS.read_text(encoding="utf-8", errors="replace"))
    assert len(expected) > 50
    assert {p.name: p.version for p in packages if p.kind == "deb"} == expected
    os_id, os_version = read_os(lines[0].split("=", 1)[1])
    for package in packages:
        purl = PackageURL.from_string(package.purl(os_id, os_version))
        assert (purl.type, purl.name, purl.namespace) == ("deb", package.name, os_id)


def test_purls_are_the_ones_trivy_writes_for_the_same_package() -> None:
    ubuntu = InstalledPackage("deb", "bash", "5.1-6ubuntu1", "amd64").purl("ubuntu", "22.04")
    assert ubuntu == "pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04"
    os_id, _ = read_os("amzn|2|")
    amazon = InstalledPackage("rpm", "bind-export-libs", "32:9.11.4-26.P2.amzn2.5.2", "x86_64").purl(os_id, "2 (Karoo)")
    assert amazon == ("pkg:rpm/amazon/bind-export-libs@9.11.4-26.P2.amzn2.5.2"
                      "?arch=x86_64&distro=amazon-2%20%28Karoo%29&epoch=32")  # as in the recorded Trivy report


def test_a_recorded_root_filesystem_scan_matches_the_inventorys_purls() -> None:
    result = parse_fixture("trivy", "ubuntu-gp2-x86-vm.json.golden", ToolId.TRIVY)
    assert result.findings and result.skipped == ()
    inventory = {InstalledPackage("deb", "bash", "5.1-6ubuntu1", "amd64").purl("ubuntu", "22.04")}
    for finding in result.findings:
        package = getattr(finding.location, "package", None) or finding.location
        assert isinstance(package, PackageLocation)
        assert finding.vulnerability_ids and package.purl in inventory


def test_the_host_report_carries_the_inventory_as_metrics() -> None:
    raw = (FIXTURES / "lynis" / "lynis-3.0.8-debian12.dat").read_bytes()
    lines = b"tollgate_os=debian|12|\ntollgate_package[]=deb|bash|5.2.15-2+b7|amd64|\ntollgate_package[]=deb|broken|\n"
    result = parse_bytes("host.dat", raw + lines, ToolId.LYNIS)
    metrics = dict(result.metrics)
    assert metrics["packages/vm/count"] == "1"
    assert metrics["packages/vm/deb/bash"] == "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12"
    assert [s.reason for s in result.skipped] == ["not a package line: TYPE|NAME|VERSION|ARCH|"]
