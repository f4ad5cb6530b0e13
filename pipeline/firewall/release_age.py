"""The release-age gate: a version younger than `firewall.release-age.minimum-days` is not installed yet.

npm (`min-release-age`), pnpm (`minimumReleaseAge`), uv (`exclude-newer`) and Dependabot
(`cooldown`) gate on the same thing: most malicious releases, and most hijacked versions of real
packages, are found and removed within days, so waiting a few days lets the registry and the
community catch them first. The release's date is the registry's: PyPI's earliest file upload of
that version (`upload_time_iso_8601`), npm's `time[version]`.

Which version is judged: the pinned one; for a range, the newest final release it allows (what an
installer would pick today); for no version at all (the API without `version`), the registry's
latest. A package on `firewall.release-age.allow` is exempt, as is an internal name (its public
namesake's releases say nothing about it). Whatever cannot be judged (no metadata offline, a
404, a version the registry does not list or does not date) is NOT_CHECKED with the reason, never
a pass.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from pipeline.firewall.facts import PackageFacts


class AgeStatus(str, enum.Enum):
    OLD_ENOUGH = "old-enough"
    TOO_YOUNG = "too-young"
    EXEMPT = "exempt"
    NOT_CHECKED = "not-checked"


@dataclass(frozen=True)
class ReleaseAge:
    status: AgeStatus
    detail: str  # the evidence (version, date, age) or the reason it was not checked
    version: str | None = None
    released: datetime | None = None
    days: float | None = None

    def answer(self) -> dict[str, object]:
        return {"status": self.status.value, "version": self.version,
                "released": self.released.isoformat() if self.released else None,
                "age_days": None if self.days is None else round(self.days, 1), "detail": self.detail}


def release_age(facts: PackageFacts, version: str | None, minimum_days: float, now: datetime) -> ReleaseAge:
    """Judge `version` (already chosen by the caller) against the minimum age, from the registry's dates."""
    if version is None:
        return ReleaseAge(AgeStatus.NOT_CHECKED, "the registry lists no release to judge")
    dates = dict(facts.releases)
    if version not in dates:
        return ReleaseAge(AgeStatus.NOT_CHECKED, f"the registry does not list version {version}", version)
    released = dates[version]
    if released is None:
        return ReleaseAge(AgeStatus.NOT_CHECKED, f"the registry gives no upload time for version {version}", version)
    days = (now - released).total_seconds() / 86400
    status = AgeStatus.TOO_YOUNG if days < minimum_days else AgeStatus.OLD_ENOUGH
    return ReleaseAge(status, f"version {version} was released {released.isoformat(timespec='minutes')}, "
                      f"{_days(days)} ago (minimum {minimum_days:g} days)", version, released, days)


def not_checked(reason: str, version: str | None = None) -> ReleaseAge:
    return ReleaseAge(AgeStatus.NOT_CHECKED, reason, version)


def exempt(reason: str, version: str | None = None) -> ReleaseAge:
    return ReleaseAge(AgeStatus.EXEMPT, reason, version)


def _days(days: float) -> str:
    return f"{days:.1f} days" if days < 10 else f"{days:.0f} days"
