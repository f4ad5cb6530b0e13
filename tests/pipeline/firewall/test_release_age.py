"""The release-age gate on real registry answers (tests/fixtures/firewall/registry/, SOURCES.md there).

The metadata is never edited: 'young' is made by the clock the firewall is given, a day or two after
the registry's own upload time of the version.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from normalizers.model import Severity
from pipeline.commands.firewall import check
from pipeline.errors import ConfigError, ExitCode
from pipeline.firewall.config import RegistrySettings, firewall_config_from_section
from pipeline.firewall.engine import Firewall
from pipeline.firewall.model import DeclaredPackage, Ecosystem, RuleId
from pipeline.firewall.registry import Registry
from pipeline.firewall.release_age import AgeStatus
from pipeline.firewall.reputation import RiskLevel
from tests.pipeline.firewall.helpers import REAL_REGISTRY, recorded_registry_cache, upload_time

SIX = DeclaredPackage("six", Ecosystem.PYPI, "requirements.txt", 1, spec="==1.17.0", version="1.17.0")
SIX_UPLOADED = upload_time("pypi-six.json", "1.17.0")  # the sdist's and wheel's earliest upload
LEFT_PAD_UPLOADED = upload_time("npm-left-pad.json", "1.3.0")


def firewall_at(cache: Path, now: datetime, section: dict[str, Any] | None = None) -> Firewall:
    config = firewall_config_from_section(section or {}, "test", REAL_REGISTRY)
    registry = Registry(RegistrySettings(cache_dir=cache, offline=True, downloads=False, stars=False), env={})
    return Firewall(config, registry, clock=lambda: now)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_registry_cache(tmp_path_factory.mktemp("registry"))


def test_a_version_one_day_old_is_blocked_with_the_registrys_upload_time(cache: Path) -> None:
    verdict = firewall_at(cache, SIX_UPLOADED + timedelta(days=1)).check(SIX)
    assert verdict.release_age is not None and verdict.release_age.status is AgeStatus.TOO_YOUNG
    [hit] = [hit for hit in verdict.hits if hit.rule is RuleId.RELEASE_AGE]
    assert hit.severity is Severity.HIGH
    assert "version 1.17.0 was released 2024-12-04T17:35+00:00, 1.0 days ago (minimum 3 days)" in hit.detail
    answer = verdict.answer()
    assert (answer["risk_level"], answer["status"]) == ("Red", "blocked")
    assert answer["release_age"] == {"status": "too-young", "version": "1.17.0", "age_days": 1.0,
                                     "released": "2024-12-04T17:35:26.475808+00:00",
                                     "detail": hit.detail.split(": ", 1)[1].split(". ")[0]}


def test_the_same_version_passes_once_older_than_the_configured_age(cache: Path) -> None:
    later = firewall_at(cache, SIX_UPLOADED + timedelta(days=3, minutes=1)).check(SIX)
    assert later.release_age is not None and later.release_age.status is AgeStatus.OLD_ENOUGH
    assert RuleId.RELEASE_AGE not in [hit.rule for hit in later.hits]
    shorter = firewall_at(cache, SIX_UPLOADED + timedelta(days=1), {"release-age": {"minimum-days": 0.5}}).check(SIX)
    assert shorter.release_age is not None and shorter.release_age.status is AgeStatus.OLD_ENOUGH


def test_without_a_version_the_latest_is_judged_and_for_a_range_the_newest_it_allows(cache: Path) -> None:
    # The registry served here dates left-pad 1.2.0 three months after 1.3.0 (SOURCES.md): as served.
    firewall = firewall_at(cache, upload_time("npm-left-pad.json", "1.2.0") + timedelta(days=1))
    latest = firewall.check(DeclaredPackage("left-pad", Ecosystem.NPM, "", 1))
    assert latest.release_age is not None
    assert (latest.release_age.status, latest.release_age.version) == (AgeStatus.OLD_ENOUGH, "1.3.0")
    in_range = firewall.check(DeclaredPackage("left-pad", Ecosystem.NPM, "package.json", 3, spec="~1.2.0"))
    assert in_range.release_age is not None
    assert (in_range.release_age.status, in_range.release_age.version) == (AgeStatus.TOO_YOUNG, "1.2.0")
    young = firewall_at(cache, LEFT_PAD_UPLOADED + timedelta(days=2)).check(
        DeclaredPackage("left-pad", Ecosystem.NPM, "", 1))
    assert young.release_age is not None and young.release_age.status is AgeStatus.TOO_YOUNG


def test_the_allow_list_exempts_one_package_with_its_reason(cache: Path) -> None:
    section = {"release-age": {"allow": [{"ecosystem": "npm", "name": "left-pad", "reason": "our own hotfix"}]}}
    verdict = firewall_at(cache, LEFT_PAD_UPLOADED + timedelta(hours=1), section).check(
        DeclaredPackage("left-pad", Ecosystem.NPM, "", 1))
    assert verdict.release_age is not None and verdict.release_age.status is AgeStatus.EXEMPT
    assert verdict.release_age.detail == "on firewall.release-age.allow[0]: our own hotfix"
    assert RuleId.RELEASE_AGE not in [hit.rule for hit in verdict.hits]
    six = firewall_at(cache, SIX_UPLOADED + timedelta(hours=1), section).check(SIX)  # the list is per package
    assert six.release_age is not None and six.release_age.status is AgeStatus.TOO_YOUNG


def test_offline_without_metadata_is_a_stated_not_checked_never_a_pass(tmp_path: Path) -> None:
    section = {"allowlist": [{"ecosystem": "pypi", "name": "six", "reason": "trusted for typosquat and score"}]}
    verdict = firewall_at(tmp_path, SIX_UPLOADED + timedelta(days=400), section).check(SIX)
    assert verdict.release_age is not None and verdict.release_age.status is AgeStatus.NOT_CHECKED
    assert verdict.release_age.detail == "no registry metadata (offline: pypi.org answer not in the cache)"
    assert verdict.risk_level is RiskLevel.YELLOW  # allowlisted, yet not passed unseen
    assert verdict.answer()["release_age"]["status"] == "not-checked"


def test_a_version_the_registry_does_not_list_is_not_checked(cache: Path) -> None:
    ghost = DeclaredPackage("six", Ecosystem.PYPI, "requirements.txt", 1, spec="==9.9.9", version="9.9.9")
    verdict = firewall_at(cache, SIX_UPLOADED).check(ghost)
    assert verdict.release_age is not None
    assert (verdict.release_age.status, verdict.release_age.detail) == (
        AgeStatus.NOT_CHECKED, "the registry does not list version 9.9.9")


def test_the_check_command_exits_1_on_a_young_version(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(name="six", platform="pypi", version="1.17.0", json=False)
    assert check(firewall_at(cache, SIX_UPLOADED + timedelta(days=1)), args) == ExitCode.GATE_FAILED
    assert "TG-SC-RELEASE-AGE" in capsys.readouterr().out
    assert check(firewall_at(cache, SIX_UPLOADED + timedelta(days=30)), args) == ExitCode.PASSED


@pytest.mark.parametrize(("section", "message"), [
    ({"minimum-days": -1}, "firewall.release-age.minimum-days: -1 is less than the minimum of 0"),
    ({"allow": [{"ecosystem": "npm", "name": "left-pad"}]}, "firewall.release-age.allow[0]: 'reason' is a required"),
    ({"minimum-days": float("nan")}, "firewall.release-age.minimum-days"),
])
def test_a_bad_release_age_section_is_refused(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        firewall_config_from_section({"release-age": section}, "t.yml", REAL_REGISTRY)
