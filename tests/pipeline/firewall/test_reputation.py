"""The points table on recorded registry metadata (seed B's request2: 50 points, Red), the registry cache,
offline mode, and the checks that need metadata (confusion, quarantine of ranges)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from normalizers.model import Severity
from pipeline.firewall.cache import DiskCache
from pipeline.firewall.config import RegistrySettings, firewall_config_from_section
from pipeline.firewall.engine import Firewall
from pipeline.firewall.facts import facts_from
from pipeline.firewall.model import DeclaredPackage, Ecosystem, RuleId
from pipeline.firewall.registry import Registry, Status, trim_pypi
from pipeline.firewall.reputation import RiskLevel
from tests.pipeline.firewall.helpers import (
    SUPPLY_CHAIN,
    FakeRegistry,
    offline_firewall,
    online_registry,
    recorded_body,
)

REQUEST2 = DeclaredPackage("request2", Ecosystem.PYPI, "requirements.txt", 7)


def test_request2_scores_50_red_like_seed_b() -> None:
    verdict = offline_firewall().check(REQUEST2)
    assert verdict.score is not None
    assert (verdict.score.points, verdict.score.level) == (50, RiskLevel.RED)
    assert [(r.rule, r.points) for r in verdict.score.reasons] == [
        ("downloads", 20), ("stars", 10), ("last-release", 10), ("versions", 10)]
    details = [r.detail for r in verdict.score.reasons]
    assert details[0].startswith("downloads in the last month: unknown (offline: pypistats.org answer not in the cache")
    assert details[1].startswith("GitHub stars: unknown (raphamoral/request2: offline: api.github.com")
    assert details[2] == "last release 2021-10-03, 1885 days ago (more than 730 days)"
    assert details[3] == "2 releases (< 5)"


def test_request2s_package_check_answer_has_seed_bs_shape() -> None:
    answer = offline_firewall().check(REQUEST2).answer()
    assert list(answer)[:9] == ["package_name", "platform", "version", "score", "risk_level", "status", "message",
                                "similar_packages", "reasons"]
    assert (answer["package_name"], answer["platform"], answer["version"]) == ("request2", "pypi", "0.2")
    assert (answer["score"], answer["risk_level"], answer["status"]) == (50, "Red", "blocked")
    assert answer["message"].startswith("High risk package")
    assert answer["similar_packages"] == ["requests"]
    assert [reason["points"] for reason in answer["reasons"]] == [20, 10, 10, 10]
    assert answer["metadata"].startswith("registry metadata offline: from the cache, recorded 2026-12-01")


def test_trimming_keeps_every_fact_the_score_reads() -> None:
    raw = json.loads((SUPPLY_CHAIN / "request2.raw.json").read_text(encoding="utf-8"))
    assert facts_from(Ecosystem.PYPI, trim_pypi(raw)) == facts_from(Ecosystem.PYPI, raw)
    # The recorded cache predates keeping each release's sdist (the artifact to inspect): all else is equal.
    assert replace(facts_from(Ecosystem.PYPI, raw), artifacts=()) == facts_from(
        Ecosystem.PYPI, recorded_body("pypi.org", "pypi%2Frequest2%2Fjson.json"))


def test_thresholds_and_unknown_points_are_configurable() -> None:
    lenient = offline_firewall({"reputation": {"thresholds": {"red": 60},
                                               "rules": {"stars": {"unknown": 0}}}}).check(REQUEST2)
    assert lenient.score is not None and (lenient.score.points, lenient.score.level) == (40, RiskLevel.YELLOW)


def test_a_popular_package_needs_no_downloads_api() -> None:
    verdict = offline_firewall().check(DeclaredPackage("django", Ecosystem.PYPI, "requirements.txt", 1))
    assert verdict.score is not None and verdict.score.level is RiskLevel.GREEN
    assert [r.rule for r in verdict.score.reasons] == ["stars"]  # unknown here; never invented
    assert verdict.answer()["status"] == "allowed"


def test_npm_facts_from_recorded_packuments() -> None:
    crossenv = facts_from(Ecosystem.NPM, recorded_body("registry.npmjs.org", "crossenv.json"))
    assert crossenv.versions == ("0.0.2-security",) and crossenv.github_repository == "npm/security-holder"
    cross_env = facts_from(Ecosystem.NPM, recorded_body("registry.npmjs.org", "cross-env.json"))
    assert len(cross_env.versions) > 40 and cross_env.github_repository == "kentcdodds/cross-env"
    verdict = offline_firewall().check(DeclaredPackage("crossenv", Ecosystem.NPM, "package.json", 3))
    assert verdict.similar == ("cross-env",) and verdict.risk_level is RiskLevel.RED


def test_a_missing_or_uncached_package_is_never_green() -> None:
    firewall = offline_firewall()
    missing = firewall.check(DeclaredPackage("numppy", Ecosystem.PYPI, "requirements.txt", 2))
    assert missing.lookup is Status.MISSING and missing.score is None
    assert "not on the public registry" in missing.metadata
    uncached = firewall.check(DeclaredPackage("some-unrecorded-package", Ecosystem.PYPI, "requirements.txt", 3))
    assert uncached.lookup is Status.UNKNOWN and uncached.risk_level is RiskLevel.YELLOW
    assert uncached.metadata == "registry metadata unavailable (offline: pypi.org answer not in the cache)"


def test_dependency_confusion() -> None:
    firewall = offline_firewall({"internal": {"prefixes": ["acme-"], "names": ["django"]}})
    unpinned = firewall.check(DeclaredPackage("acme-billing-core", Ecosystem.PYPI, "pyproject.toml", 5, ">=1.0"))
    ((rule, severity, title),) = [(h.rule, h.severity, h.title) for h in unpinned.hits]
    assert (rule, severity) == (RuleId.CONFUSION, Severity.MEDIUM) and "not pinned" in title
    assert "is not there yet, but anyone can claim it" in unpinned.hits[0].detail
    public = firewall.check(DeclaredPackage("django", Ecosystem.PYPI, "pyproject.toml", 6, "==5.0", "5.0"))
    assert [(h.rule, h.severity) for h in public.hits] == [(RuleId.CONFUSION, Severity.HIGH)]
    assert public.score is None and public.reputation_skipped == "an internal name"
    unknown = firewall.check(DeclaredPackage("acme-unrecorded", Ecosystem.PYPI, "pyproject.toml", 7))
    assert "could not be checked (offline: pypi.org answer not in the cache)" in unknown.hits[0].detail


def test_an_unpinned_range_is_quarantined_by_the_release_it_would_install() -> None:
    firewall = offline_firewall({"quarantine": [
        {"ecosystem": "pypi", "name": "django", "versions": ">=4.1,<4.1.13", "reason": "CVE backlog"}]})
    ranged = firewall.check(DeclaredPackage("Django", Ecosystem.PYPI, "requirements.txt", 4, ">=4.1,<4.1.13"))
    (hit,) = ranged.hits
    assert hit.title == "Django 4.1.12 is quarantined"
    assert "the newest release '>=4.1,<4.1.13' allows" in hit.detail
    assert firewall.check(DeclaredPackage("Django", Ecosystem.PYPI, "requirements.txt", 4, ">=4.1,<4.2")).hits == ()


def test_online_lookups_are_cached_and_refetched_after_the_ttl(tmp_path: Path) -> None:
    body = recorded_body("pypi.org", "pypi%2Frequest2%2Fjson.json")
    fake = FakeRegistry({"/pypi/request2/json": body})
    with fake.running() as url:
        registry = online_registry(url, tmp_path / "cache")
        first = registry.metadata(Ecosystem.PYPI, "request2")
        second = registry.metadata(Ecosystem.PYPI, "request2")
        assert (first.status, first.detail) == (Status.FOUND, "from 127.0.0.1")
        assert second.detail.startswith("from the cache, recorded")
        assert fake.requests["/pypi/request2/json"] == 1
        expired = online_registry(url, tmp_path / "cache", ttl_seconds=0.000001)
        assert expired.metadata(Ecosystem.PYPI, "request2").detail == "from 127.0.0.1"
        assert fake.requests["/pypi/request2/json"] == 2
        assert registry.metadata(Ecosystem.PYPI, "nope").status is Status.MISSING
        assert registry.metadata(Ecosystem.PYPI, "nope").detail.startswith("127.0.0.1 answered 404 (from the cache")
    down = online_registry(url, tmp_path / "cache", ttl_seconds=0.000001)  # the server is gone now
    stale = down.metadata(Ecosystem.PYPI, "request2")
    assert stale.status is Status.FOUND
    assert stale.detail.startswith("could not reach 127.0.0.1 (ConnectionError); used the stale cached answer")
    assert down.metadata(Ecosystem.PYPI, "never-cached").status is Status.UNKNOWN


def test_errors_and_timeouts_are_unknown_never_absent(tmp_path: Path) -> None:
    fake = FakeRegistry({}, slow=3.0)
    with fake.running() as url:
        broken = online_registry(f"{url}/broken", tmp_path / "c1").metadata(Ecosystem.PYPI, "x")
        assert (broken.status, broken.detail) == (Status.UNKNOWN, "127.0.0.1 answered HTTP 500")
        slow = online_registry(f"{url}/slow", tmp_path / "c2", timeout=0.3).metadata(Ecosystem.PYPI, "x")
        assert (slow.status, slow.detail) == (Status.UNKNOWN, "could not reach 127.0.0.1 (ReadTimeout)")
    assert not list((tmp_path / "c1").rglob("*.json"))  # an error is not cached


def test_offline_mode_reads_any_age_and_never_touches_the_network() -> None:
    recorded = offline_firewall().registry
    lookup = recorded.metadata(Ecosystem.PYPI, "request2")
    assert lookup.status is Status.FOUND
    assert lookup.detail.startswith("offline: from the cache, recorded 2026-12-01")
    fake = FakeRegistry({"/pypi/request2/json": recorded_body("pypi.org", "pypi%2Frequest2%2Fjson.json")})
    with fake.running() as url:
        offline = online_registry(url, SUPPLY_CHAIN / "registry-cache", ttl_seconds=0.000001, offline=True)
        assert offline.metadata(Ecosystem.PYPI, "request2").detail == "offline: 127.0.0.1 answer not in the cache"
    assert sum(fake.requests.values()) == 0


def test_npm_names_are_asked_for_as_written(tmp_path: Path) -> None:
    """npm's registry is case-sensitive: JSONStream is the popular package, jsonstream another URL."""
    body = {"name": "JSONStream", "dist-tags": {"latest": "1.3.5"}, "versions": {"1.3.5": {}},
            "time": {"1.3.5": "2018-10-06T00:00:00.000Z"}, "maintainers": [{"name": "a"}, {"name": "b"}]}
    fake = FakeRegistry({"/JSONStream": body})
    with fake.running() as url:
        config = firewall_config_from_section({}, "test", tmp_path)
        firewall = Firewall(config, online_registry(url, tmp_path / "cache"))
        verdict = firewall.check(DeclaredPackage("JSONStream", Ecosystem.NPM, "package.json", 3, "1.3.5", "1.3.5"))
    assert dict(fake.requests) == {"/JSONStream": 1}
    assert verdict.lookup is Status.FOUND and verdict.score is not None
    assert "downloads" not in [r.rule for r in verdict.score.reasons]  # ranked in the bundled list by its real name


@pytest.mark.parametrize("ecosystem, body", [
    (Ecosystem.PYPI, {"info": "x", "releases": []}),
    (Ecosystem.PYPI, {"info": {"project_urls": ["https://github.com/a/b"], "version": 3},
                      "releases": {"1.0": "file", "2.0": [5, {"upload_time_iso_8601": 7}]}}),
    (Ecosystem.NPM, {"dist-tags": {"latest": ["1.0.0"]}, "time": [], "versions": {"1.0.0": "x"},
                     "maintainers": "someone"}),
    (Ecosystem.NPM, []),
])
def test_registry_answers_of_an_odd_shape_read_as_absent_facts(ecosystem: Ecosystem, body: object) -> None:
    facts = facts_from(ecosystem, body)
    assert facts.latest is None and facts.maintainers is None and facts.links == ()


def test_a_cached_file_of_the_wrong_shape_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    url = "https://pypi.org/pypi/requests/json"
    DiskCache(tmp_path).put(url, 200, {"info": "x", "releases": []})
    registry = Registry(RegistrySettings(cache_dir=tmp_path, offline=True), env={})
    lookup = registry.metadata(Ecosystem.PYPI, "requests")
    assert (lookup.status, lookup.detail) == (Status.UNKNOWN, "offline: pypi.org answer not in the cache")
