"""Names and versions are exact: one validator (pipeline/firewall/names.py) for the CLI, the API and
the manifests, with `fullmatch` and no whitespace or control character anywhere.

`$` matches before a final newline: `evilpkg\\n`, with `evilpkg` blocklisted, once came back
Yellow/review (an unknown package) from the API and from `tollgate firewall check`.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from pipeline.cli import main
from pipeline.firewall.manifests.base import Collected
from pipeline.firewall.model import DeclaredPackage, Ecosystem
from pipeline.firewall.names import is_valid, is_valid_version
from pipeline.firewall.server import PackageCheckServer
from tests.loopback import serving
from tests.pipeline.firewall.helpers import offline_firewall

BLOCKED = "evilpkg"
SUFFIXES = ["\n", "\r\n", "\r", "\t", " ", "\x00", "\x0b", "\x0c", "\x85", "\u2028", "\u200b", "\ufeff"]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    section = {"blocklist": [{"ecosystem": "pypi", "name": BLOCKED, "reason": "malware (a test entry)"}]}
    api = PackageCheckServer(("127.0.0.1", 0), offline_firewall(section))
    with serving(api):
        yield "127.0.0.1", api.server_port


def get(address: tuple[str, int], query: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.request("GET", f"/package-check?{query}")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("ecosystem", list(Ecosystem))
def test_names_with_whitespace_or_control_characters_are_invalid(suffix: str, ecosystem: Ecosystem) -> None:
    assert is_valid("left-pad", ecosystem)
    for name in (f"left-pad{suffix}", f"{suffix}left-pad", f"left{suffix}pad"):
        assert not is_valid(name, ecosystem), repr(name)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_versions_with_whitespace_or_control_characters_are_invalid(suffix: str) -> None:
    assert is_valid_version("1.0", Ecosystem.PYPI) and is_valid_version("1.0.0", Ecosystem.NPM)
    assert not is_valid_version(f"1.0{suffix}", Ecosystem.PYPI)  # packaging strips surrounding whitespace
    assert not is_valid_version(f"1.0.0{suffix}", Ecosystem.NPM)  # semantic_version's `$` takes a final \n
    assert not is_valid_version(f"{suffix}1.0", Ecosystem.PYPI)


def test_the_api_blocks_the_name_and_refuses_it_with_a_newline(server: tuple[str, int]) -> None:
    status, body = get(server, f"package_name={BLOCKED}")
    assert (status, body["status"], body["risk_level"]) == (200, "blocked", "Red")
    for suffix in ("\n", "\r\n", "\t", " ", "\x00"):
        status, body = get(server, f"package_name={quote(BLOCKED + suffix)}")
        assert status == 400 and "package_name must be a valid pypi name" in body["error"], repr(suffix)
    status, body = get(server, f"package_name={BLOCKED}&version={quote('1.0' + chr(10))}")
    assert status == 400 and "version must be a PEP 440 version" in body["error"]


@pytest.mark.parametrize(("name", "version"), [(BLOCKED + "\n", None), (BLOCKED, "1.0\n"), (" " + BLOCKED, None)])
def test_the_cli_refuses_them_in_one_line(capsys: pytest.CaptureFixture[str], name: str, version: str | None) -> None:
    arguments = ["firewall", "check", name, "--offline", *(["--version", version] if version else [])]
    assert main(arguments) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(("name", "version"), [(BLOCKED + "\n", None), (BLOCKED, "1.0\n"), (BLOCKED, "1.0 ")])
def test_a_manifest_entry_with_them_is_a_problem_not_a_package(name: str, version: str | None) -> None:
    collected = Collected()
    collected.add(DeclaredPackage(name=name, ecosystem=Ecosystem.PYPI, manifest="requirements.txt", line=3,
                                  spec=f"=={version}" if version else "", version=version))
    assert collected.packages == []
    (problem,) = collected.problems
    assert problem.line == 3 and "not checked" in problem.reason
