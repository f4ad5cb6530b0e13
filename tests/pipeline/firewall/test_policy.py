"""Blocklist, allowlist and quarantine with PEP 440 and semver ranges; the `firewall:` section's validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from normalizers.model import Severity
from pipeline.errors import ConfigError
from pipeline.firewall.config import firewall_config_from_section, load_firewall_config
from pipeline.firewall.model import Ecosystem, RuleId
from pipeline.firewall.policy import blocklist_hits, in_range, is_allowlisted, quarantine_hits
from tests.conftest import FIXTURES


@pytest.mark.parametrize("versions, version, inside", [
    ("==4.1", "4.1", True),
    ("==4.1", "4.1.0", True),  # PEP 440: trailing zeros are the same release
    ("==4.1", "4.1.1", False),
    ("==4.1.*", "4.1.13", True),
    (">=4.1,<4.1.8", "4.1.7", True),
    (">=4.1,<4.1.8", "4.1.8", False),
    (">=4.1,<4.2", "4.1.1rc1", True),  # pre-releases inside a range are held back too
    ("~=4.1.0", "4.1.9", True),
    ("~=4.1.0", "4.2", False),
    ("!=4.1.3", "4.1.3", False),
    ("==4.1", "not-a-version", False),
])
def test_pep440_ranges(versions: str, version: str, inside: bool) -> None:
    assert in_range(Ecosystem.PYPI, versions, version) is inside


@pytest.mark.parametrize("versions, version, inside", [
    ("^4.17.0", "4.17.21", True),
    ("^4.17.0", "5.0.0", False),
    ("~1.2.3", "1.2.9", True),
    ("~1.2.3", "1.3.0", False),
    (">=1.0.0 <1.2.3", "1.2.2", True),
    (">=1.0.0 <1.2.3", "1.2.3", False),
    ("1.x || >=2.5.0", "2.4.0", False),
    ("1.x || >=2.5.0", "1.9.9", True),
    ("3.3.6", "3.3.6", True),
    ("^1.0.0", "1.1.0-beta.1", True),  # a pre-release inside a range is held back, as with PEP 440
    ("^4.17.0", "4.18.0-beta.1", True),
    ("^1.0.0", "2.0.0-rc.1", False),  # ... but not a pre-release of the excluded upper bound
    (">=1.0.0 <1.2.3", "1.2.3-rc.1", False),
    ("^1.0.0", "1.0.0-rc.1", False),  # before the range starts
    (">=1.0.0-rc.1 <1.2.3", "1.0.0-rc.2", True),
    ("3.3.6", "3.3.6-beta", False),
    ("*", "1.0.0-alpha", True),
    ("1.x || >=2.5.0", "2.6.0-next.0", True),
    ("^1.0.0", "v1.0.2", True),
    ("^1.0.0", "1.0", False),  # not semver at all
])
def test_semver_ranges(versions: str, version: str, inside: bool) -> None:
    assert in_range(Ecosystem.NPM, versions, version) is inside


def config(section: dict[str, object]) -> object:
    return firewall_config_from_section(section, ".tollgate.yml", Path("/repo"))


def test_quarantine_like_seed_c() -> None:
    section = {"quarantine": [{"ecosystem": "pypi", "name": "Django", "versions": "==4.1", "reason": "held back",
                               "reference": "https://example.com/django-4.1"}]}
    loaded = firewall_config_from_section(section, ".tollgate.yml", Path("/repo"))
    (hit,) = quarantine_hits(loaded, Ecosystem.PYPI, "django", "4.1")
    assert (hit.rule, hit.severity, hit.reference) == (RuleId.QUARANTINE, Severity.HIGH, "https://example.com/django-4.1")
    assert hit.detail.startswith("Requested item is quarantined: django 4.1 (pinned) falls in ==4.1")
    assert "quarantine[0]: held back" in hit.detail
    assert quarantine_hits(loaded, Ecosystem.PYPI, "django", "4.1.1") == []
    assert quarantine_hits(loaded, Ecosystem.NPM, "django", "4.1.0") == []  # another ecosystem's namesake
    assert quarantine_hits(loaded, Ecosystem.PYPI, "django", None) == []


def test_blocklist_with_and_without_a_range() -> None:
    loaded = firewall_config_from_section({"blocklist": [
        {"ecosystem": "npm", "name": "event-stream", "versions": "3.3.6", "reason": "flatmap-stream backdoor"},
        {"ecosystem": "pypi", "name": "Py_Yaml", "reason": "we use ruamel", "severity": "medium"},
    ]}, ".tollgate.yml", Path("/repo"))
    (hit,) = blocklist_hits(loaded, Ecosystem.NPM, "event-stream", "3.3.6")
    assert hit.severity is Severity.CRITICAL
    assert hit.title == "event-stream 3.3.6 (blocked range 3.3.6) is on the blocklist"
    assert blocklist_hits(loaded, Ecosystem.NPM, "event-stream", "3.3.5") == []
    assert blocklist_hits(loaded, Ecosystem.NPM, "event-stream", None) == []  # a range needs a version
    (any_version,) = blocklist_hits(loaded, Ecosystem.PYPI, "py-yaml", None)  # PEP 503: Py_Yaml is py-yaml
    assert any_version.severity is Severity.MEDIUM


def test_allowlist_is_per_ecosystem_and_normalized() -> None:
    loaded = firewall_config_from_section({"allowlist": [{"ecosystem": "pypi", "name": "Req_Eusts", "reason": "ours"}]},
                                          ".tollgate.yml", Path("/repo"))
    assert is_allowlisted(loaded, Ecosystem.PYPI, "req-eusts")
    assert not is_allowlisted(loaded, Ecosystem.NPM, "req-eusts")


def test_every_config_error_names_its_path() -> None:
    section = {
        "quarantine": [{"ecosystem": "pypi", "name": "django", "reason": "x"},
                       {"ecosystem": "npm", "name": "x", "versions": "^1", "reason": "y"}],
        "blocklist": [{"ecosystem": "cargo", "name": "x", "reason": "y"}],
        "reputation": {"rules": {"downloads": {"below": -1}}, "thresholds": {"red": "high"}},
        "registy": {},
    }
    with pytest.raises(ConfigError) as caught:
        config(section)
    message = str(caught.value)
    assert ".tollgate.yml: firewall.quarantine[0]: 'versions' is a required property" in message
    assert ".tollgate.yml: firewall.blocklist[0].ecosystem: 'cargo' is not one of ['pypi', 'npm']" in message
    assert "firewall.reputation.rules.downloads.below" in message and "firewall.reputation.thresholds.red" in message
    assert "'registy' was unexpected" in message


def test_ranges_are_checked_in_their_ecosystems_syntax() -> None:
    with pytest.raises(ConfigError) as caught:
        config({"quarantine": [{"ecosystem": "pypi", "name": "django", "versions": "^4.1", "reason": "x"},
                               {"ecosystem": "npm", "name": "x", "versions": "==4.1.x", "reason": "y"}]})
    assert str(caught.value).splitlines() == [
        ".tollgate.yml: firewall.quarantine[0].versions: '^4.1' is not a PEP 440 version range (e.g. ==4.1 or "
        ">=4.1,<4.1.8)",
        ".tollgate.yml: firewall.quarantine[1].versions: '==4.1.x' is not an npm semver range (e.g. ^4.17.0 or "
        ">=1.0.0 <1.2.3)",
    ]


def test_points_table_defaults_and_overrides(tmp_path: Path) -> None:
    default = load_firewall_config(None).reputation
    assert [(r.name, r.points, r.limit, r.unknown) for r in default.rules][:4] == [
        ("downloads", 20, 300, 20), ("stars", 10, 30, 10), ("last-release", 10, 730, 0), ("versions", 10, 5, 0)]
    assert (default.yellow, default.red) == (30, 50)
    path = tmp_path / ".tollgate.yml"
    path.write_text("firewall:\n  registry: {cache-dir: cache}\n  reputation:\n    thresholds: {red: 40}\n"
                    "    rules:\n      stars: {unknown: 0}\n", encoding="utf-8")
    loaded = load_firewall_config(path)
    assert (loaded.reputation.red, loaded.reputation.rule("stars").unknown, loaded.reputation.rule("stars").points) == (
        40, 0, 10)
    assert loaded.registry.cache_dir == tmp_path / "cache"  # relative to the configuration file


def test_the_example_config_has_seed_cs_quarantine() -> None:
    loaded = load_firewall_config(FIXTURES.parents[1] / "examples" / ".tollgate.yml")
    (entry,) = loaded.quarantine
    assert (entry.name, entry.versions) == ("django", "==4.1")
    assert loaded.registry.cache_dir.name == "registry-cache" and loaded.registry.cache_dir.is_dir()


@pytest.mark.parametrize("text, message", [
    ("firewall: []\n", ".tollgate.yml: firewall: [] is not of type 'object'"),
    ("firewall: false\n", ".tollgate.yml: firewall: False is not of type 'object'"),
    ("- firewall\n", ".tollgate.yml: the configuration must be a mapping"),
    ("firewall:\n  registry: {timeout: .nan}\n",
     ".tollgate.yml: firewall.registry.timeout: nan is not a finite number"),
    ("firewall:\n  registry: {ttl-hours: .inf}\n", ".tollgate.yml: firewall.registry.ttl-hours: inf is greater than"),
    ("firewall:\n  reputation: {thresholds: {yellow: 60}}\n",
     ".tollgate.yml: firewall.reputation.thresholds: yellow (60) is above red (50), so no package could ever be "
     "Yellow"),
    ("firewall:\n  registry: {pypi-url: 'file:///etc'}\n",
     ".tollgate.yml: firewall.registry.pypi-url: 'file:///etc' is not an http(s) URL"),
    ("firewall:\n  registry: {npm-url: 'https://ci:hunter2@nexus.example/npm'}\n",
     ".tollgate.yml: firewall.registry.npm-url: give no user or password in the URL"),
    ("firewall:\n  allowlist: [{ecosystem: pypi, name: '  ', reason: x}]\n",
     ".tollgate.yml: firewall.allowlist[0].name: '  ' does not match"),
])
def test_a_firewall_section_of_the_wrong_type_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / ".tollgate.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_firewall_config(path)
    assert str(caught.value).replace(str(path), ".tollgate.yml").startswith(message)
    assert "hunter2" not in str(caught.value)
