"""Every check on one package, shared by the scanner and the API: one verdict, many reasons.

Order and interplay, decided here:
1. Blocklist, then quarantine (for an unpinned range, the newest release it allows, when the
   metadata is at hand), then typosquat, then dependency confusion, then the reputation score.
2. An allowlisted name skips the typosquat and reputation checks; an internal name skips them
   too (its public namesake's reputation says nothing about it) and gets the confusion check.
3. The verdict's risk level is the worse of the score's level and the checks': a HIGH or
   CRITICAL hit is Red, a MEDIUM or LOW one Yellow. Red is `blocked`, Yellow `review`, Green
   `allowed`. A package whose metadata could not be read, and that nothing else flags, is Yellow:
   the firewall says it could not score it rather than letting it through unseen.
4. The release-age gate (release_age.py) judges the version an install would get; a version
   younger than the minimum is a HIGH hit (Red). One it could not judge makes the verdict at least
   Yellow, with the reason: the gate never passes what it did not see.
5. Install-time behaviour signals (behaviour/) join the score: the metadata's whenever it is read,
   the artifact's when its sdist or tarball is at hand (in the artifact cache, or downloaded when
   `firewall.inspect-artifacts` is on). The answer says which artifact was read, or why none was.
6. A strong typosquat pattern is HIGH unless there is evidence the package is real: popular
   packages of the same lockfile depend on it (their users have installed it for years), the
   bundled download counts hold it (thousands of downloads a month), or its first release is more
   than `LONG_LIVED_DAYS` old. Then it is MEDIUM: still reported, never exempt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cache, cached_property
from typing import Any
from urllib.parse import urljoin

from packaging.version import InvalidVersion, Version
from semantic_version import Version as SemVer

from normalizers.model import Confidence, Severity
from pipeline.firewall.behaviour import BehaviourSignal
from pipeline.firewall.behaviour.archive import ArchiveError, read_archive
from pipeline.firewall.behaviour.signals import artifact_signals, metadata_signals
from pipeline.firewall.config import FirewallConfig
from pipeline.firewall.confusion import confusion_hits, is_internal
from pipeline.firewall.facts import PackageFacts, facts_from
from pipeline.firewall.model import DeclaredPackage, Ecosystem, Hit, RuleId
from pipeline.firewall.names import normalize, registry_name
from pipeline.firewall.policy import (
    blocklist_hits,
    in_range,
    is_allowlisted,
    is_quarantined_name,
    listed,
    quarantine_hits,
)
from pipeline.firewall.popular import monthly_downloads, popular_names, popularity_rank
from pipeline.firewall.registry import Lookup, Registry, Status
from pipeline.firewall.release_age import AgeStatus, ReleaseAge, exempt, not_checked, release_age
from pipeline.firewall.reputation import RiskLevel, Score, Signal, score
from pipeline.firewall.typosquat import LookAlike, TyposquatIndex, brand_words

STATUS = {RiskLevel.RED: "blocked", RiskLevel.YELLOW: "review", RiskLevel.GREEN: "allowed"}
MESSAGE = {RiskLevel.RED: "High risk package", RiskLevel.YELLOW: "Medium risk package",
           RiskLevel.GREEN: "Low risk package"}
FACTS_MEMO_SIZE = 4096
REPUTATION_SEVERITY = {RiskLevel.RED: Severity.HIGH, RiskLevel.YELLOW: Severity.LOW}
LONG_LIVED_DAYS = 730  # a look-alike on the registry this long is evidence of a real package (squats are removed)
_INDEX_BUILD = threading.Lock()  # packages are checked on several threads: the first ones would each build the index


@dataclass(frozen=True)
class Verdict:
    package: DeclaredPackage
    hits: tuple[Hit, ...]  # every check but the score
    score: Score | None
    metadata: str  # where the registry metadata came from, or why there is none
    lookup: Status = Status.UNKNOWN  # the public registry's answer for the name
    similar: tuple[str, ...] = ()
    latest: str | None = None
    trusted: bool = False  # allowlisted: nothing but policy lists applies
    reputation_skipped: str | None = field(default=None)
    release_age: ReleaseAge | None = None
    signals: tuple[tuple[BehaviourSignal, int], ...] = ()  # each with its points from the table
    artifact: str = ""  # the artifact inspected, or why none was

    @cached_property
    def risk_level(self) -> RiskLevel:
        levels = [RiskLevel.RED if hit.severity.rank >= Severity.HIGH.rank else RiskLevel.YELLOW for hit in self.hits]
        if self.score is not None:
            levels.append(self.score.level)
        elif not self.trusted and self.reputation_skipped is None:
            levels.append(RiskLevel.YELLOW)  # could not score it: review, never pass unseen
        if self.release_age is not None and self.release_age.status is AgeStatus.NOT_CHECKED:
            levels.append(RiskLevel.YELLOW)  # could not date it: the same
        return max(levels, key=lambda level: level.rank, default=RiskLevel.GREEN)

    def reputation_hit(self) -> Hit | None:
        if self.score is None or self.score.level is RiskLevel.GREEN:
            return None
        reasons = "; ".join(f"{r.detail}: +{r.points}" for r in self.score.reasons)
        return Hit(
            rule=RuleId.REPUTATION, severity=REPUTATION_SEVERITY[self.score.level], confidence=Confidence.MEDIUM,
            title=f"{self.package.name} has a {self.score.level.value} reputation score ({self.score.points} points)",
            detail=f"{self.package.name} scores {self.score.points} points ({self.metadata}): {reasons}.",
        )

    def all_hits(self) -> list[Hit]:
        """Every check's hit and the reputation's, as findings report them."""
        reputation = self.reputation_hit()
        return [*self.hits, *([reputation] if reputation else [])]

    def answer(self) -> dict[str, Any]:
        """Seed B's package-check JSON, plus the checks and where the metadata came from."""
        level = self.risk_level
        strongest = max(self.hits, key=lambda hit: hit.severity.rank, default=None)
        return {
            "package_name": self.package.name,
            "platform": self.package.ecosystem.value,
            "version": self.package.version or self.latest,
            "score": None if self.score is None else self.score.points,
            "risk_level": level.value,
            "status": STATUS[level],
            "message": MESSAGE[level] + (f": {strongest.title}" if strongest else ""),
            "similar_packages": list(self.similar),
            "reasons": [{"rule": r.rule, "points": r.points, "detail": r.detail}
                        for r in (self.score.reasons if self.score else ())],
            "checks": [{"rule_id": h.rule.value, "severity": h.severity.value, "title": h.title, "detail": h.detail,
                        "reference": h.reference} for h in self.hits],
            "release_age": None if self.release_age is None else self.release_age.answer(),
            "signals": [{"signal": signal.rule, "points": points, "evidence": signal.evidence}
                        for signal, points in self.signals],
            "artifact": self.artifact,
            "metadata": self.metadata,
        }


class Firewall:
    """The checks with their configuration, indexes and registry; safe to share between threads."""

    def __init__(self, config: FirewallConfig, registry: Registry,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.config = config
        self.registry = registry
        self.clock = clock
        protect = dict(config.protect)
        self._protected = {eco: tuple(protect.get(eco, ())) for eco in Ecosystem}
        self._memo: dict[tuple[Ecosystem, str, datetime | None], PackageFacts] = {}  # dict ops are atomic
        self._artifacts: dict[str, tuple[list[BehaviourSignal], str]] = {}  # artifact URL -> signals, what was read

    def index(self, eco: Ecosystem) -> TyposquatIndex:
        """The typosquat index of `eco`, built when first needed: a scan of one ecosystem's packages never pays
        for the other's (npm's is most of the build)."""
        with _INDEX_BUILD:
            return typosquat_index(eco, self._protected[eco])

    def build_indexes(self) -> None:
        """Every ecosystem's index, now: a server builds them before it listens, so its first answer is as quick
        as the rest."""
        for eco in Ecosystem:
            self.index(eco)

    def check(self, package: DeclaredPackage) -> Verdict:
        eco, name = package.ecosystem, package.name
        trusted = is_allowlisted(self.config, eco, name)
        internal = is_internal(self.config.internal, eco, name)
        lookup = self.registry.metadata(eco, registry_name(name, eco))
        facts = self._facts(eco, name, lookup)
        hits = [*blocklist_hits(self.config, eco, name, package.version), *self._quarantine(package, facts)]
        look_alikes = () if trusted or internal else self.index(eco).look_alikes(name)
        if look_alikes:
            hits.append(_typosquat_hit(package, look_alikes, lookup, self._legitimacy(package, facts)))
        if internal:
            hits += confusion_hits(package, lookup)
        version = installed_version(package, facts) if facts else None
        age = self._release_age(package, lookup, facts, internal, version)
        if age.status is AgeStatus.TOO_YOUNG:
            hits.append(_release_age_hit(package, age))
        signals, artifact = self._behaviour(package, facts, version) if facts else ([], "no registry metadata")
        skipped = "allowlisted" if trusted else "an internal name" if internal else None
        table = self.config.reputation
        return Verdict(
            package=package, hits=tuple(hits), metadata=_metadata_text(lookup), lookup=lookup.status,
            score=None if skipped or facts is None else self._score(package, facts, signals),
            similar=tuple(hit.target for hit in look_alikes), latest=facts.latest if facts else None,
            trusted=trusted, reputation_skipped=skipped, release_age=age,
            signals=tuple((signal, table.rule(signal.rule).points) for signal in signals), artifact=artifact,
        )

    def _behaviour(self, package: DeclaredPackage, facts: PackageFacts,
                   version: str | None) -> tuple[list[BehaviourSignal], str]:
        """The metadata's signals, and the artifact's when it is at hand, with what was read."""
        eco = package.ecosystem
        signals = metadata_signals(eco, package.name, facts, self.index(eco).is_popular)
        ref = facts.artifact(version) if version else None
        if ref is not None:  # a mirror may give a URL relative to the metadata's
            ref = replace(ref, url=urljoin(self.registry.metadata_url(eco, registry_name(package.name, eco)), ref.url))
        if ref is None:
            return signals, f"the registry names no {'sdist' if eco is Ecosystem.PYPI else 'tarball'} for " \
                            f"version {version or '?'}"
        memo = self._artifacts.get(ref.url)
        if memo is None:
            found = self.registry.artifact(ref, fetch=self.config.inspect_artifacts)
            memo = ([], found.detail)
            if found.path is not None:
                try:
                    memo = (artifact_signals(eco, read_archive(found.path)), f"inspected {found.detail}")
                except ArchiveError as exc:
                    memo = ([], str(exc))
            if len(self._artifacts) >= FACTS_MEMO_SIZE:
                self._artifacts.clear()
            self._artifacts[ref.url] = memo
        return [*signals, *memo[0]], memo[1]

    def _release_age(self, package: DeclaredPackage, lookup: Lookup, facts: PackageFacts | None,
                     internal: bool, version: str | None) -> ReleaseAge:
        settings = self.config.release_age
        allowed = listed(settings.allow, package.ecosystem, package.name)
        if settings.minimum_days <= 0:
            return exempt("the release-age gate is off (firewall.release-age.minimum-days: 0)", package.version)
        if allowed is not None:
            return exempt(f"on firewall.{allowed.list_name}: {allowed.reason}", package.version)
        if internal:
            return exempt("an internal name: its public namesake's releases say nothing about it", package.version)
        if facts is None:
            why = "not on the public registry" if lookup.status is Status.MISSING else "no registry metadata"
            return not_checked(f"{why} ({lookup.detail})", package.version)
        return release_age(facts, version, settings.minimum_days, self.clock())

    def _legitimacy(self, package: DeclaredPackage, facts: PackageFacts | None) -> list[str]:
        """Evidence that a look-alike is a real package: popular dependents in the lockfile, downloads, a long life."""
        index = self.index(package.ecosystem)
        popular_parents = [parent for parent in package.required_by if index.is_popular(parent)]
        evidence = []
        if popular_parents:
            shown = ", ".join(popular_parents[:3]) + (", ..." if len(popular_parents) > 3 else "")
            evidence.append(f"{len(popular_parents)} popular package(s) in the lockfile depend on it ({shown})")
        downloads = index.downloads.get(normalize(package.name, package.ecosystem))
        if downloads is not None:
            evidence.append(f"{downloads:,} downloads a month in the bundled counts")
        first = facts.first_release if facts else None
        if first is not None and (self.clock() - first).days >= LONG_LIVED_DAYS:
            evidence.append(f"its first release was on {first.date().isoformat()}")
        return evidence

    def _facts(self, eco: Ecosystem, name: str, lookup: Lookup) -> PackageFacts | None:
        """Facts per cached answer, memoized: the API reads the same few packages over and over."""
        if lookup.status is not Status.FOUND:
            return None
        key = (eco, registry_name(name, eco), lookup.fetched_at)
        facts = self._memo.get(key)
        if facts is None:
            facts = facts_from(eco, lookup.body)
            if len(self._memo) >= FACTS_MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = facts
        return facts

    def _quarantine(self, package: DeclaredPackage, facts: PackageFacts | None) -> list[Hit]:
        if package.version:
            return quarantine_hits(self.config, package.ecosystem, package.name, package.version)
        if not is_quarantined_name(self.config, package.ecosystem, package.name):
            return []
        newest = newest_allowed(package, facts.versions) if facts else None
        how = f"the newest release {package.spec or 'any version'!r} allows"
        return quarantine_hits(self.config, package.ecosystem, package.name, newest, how) if newest else []

    def _score(self, package: DeclaredPackage, facts: PackageFacts, signals: list[BehaviourSignal]) -> Score:
        downloads = self._downloads(package.ecosystem, package.name)
        return score(facts, downloads, self._stars(facts), self.config.reputation, self.clock(),
                     behaviour=signals)

    def _downloads(self, eco: Ecosystem, name: str) -> Signal:
        rank = popularity_rank(eco).get(normalize(name, eco))
        if rank is not None:
            return Signal(None, f"rank {rank} in the bundled {eco.value} download ranking", above_limit=True)
        lookup = self.registry.downloads(eco, registry_name(name, eco))
        return Signal(int(lookup.body["downloads"]), lookup.detail) if lookup.status is Status.FOUND else Signal(
            None, lookup.detail or "no downloads API answer")

    def _stars(self, facts: PackageFacts) -> Signal:
        repository = facts.github_repository
        if repository is None:
            return Signal(None, "no GitHub repository link")
        lookup = self.registry.stars(repository)
        return Signal(int(lookup.body["stars"]), f"{repository}, {lookup.detail}") if lookup.status is Status.FOUND \
            else Signal(None, f"{repository}: {lookup.detail or 'no answer'}")


@cache
def typosquat_index(eco: Ecosystem, protected: tuple[str, ...]) -> TyposquatIndex:
    """The configured `firewall.protect` names, first (as the top of the list, imitated ones), then the bundled
    index: built once per process (a few tenths of a second for npm's 90,000 names)."""
    return TyposquatIndex(eco, (*protected, *popular_names(eco)), monthly_downloads(eco), _brands())


@cache
def _brands() -> tuple[str, ...]:
    return brand_words(name for eco in Ecosystem for name in (*popular_names(eco), *monthly_downloads(eco)))


def installed_version(package: DeclaredPackage, facts: PackageFacts) -> str | None:
    """The version an install gets: the pin; for a range, the newest release it allows; else the latest."""
    if package.version:
        return package.version
    if package.spec:
        return newest_allowed(package, facts.versions)
    return facts.latest or newest_allowed(package, facts.versions)


def newest_allowed(package: DeclaredPackage, versions: tuple[str, ...]) -> str | None:
    """The release an installer would pick for the declared range: the highest final release it allows."""
    allowed = [v for v in versions if (not package.spec or in_range(package.ecosystem, package.spec, v))
               and _is_final(package.ecosystem, v)]
    return max(allowed, key=lambda v: _sort_key(package.ecosystem, v), default=None)


def _is_final(eco: Ecosystem, version: str) -> bool:
    try:
        return not Version(version).is_prerelease if eco is Ecosystem.PYPI else not SemVer(version).prerelease
    except (InvalidVersion, ValueError):
        return False


def _sort_key(eco: Ecosystem, version: str) -> Any:
    return Version(version) if eco is Ecosystem.PYPI else SemVer(version)


def _typosquat_hit(package: DeclaredPackage, look_alikes: tuple[LookAlike, ...], lookup: Lookup,
                   legitimacy: list[str]) -> Hit:
    """HIGH for a strong pattern, MEDIUM for a weak one or with evidence of legitimacy (never exempt)."""
    best = look_alikes[0]
    strong = best.explicit and not legitimacy
    evidence = f" Evidence that it is a real package, so MEDIUM: {'; '.join(legitimacy)}." if legitimacy else ""
    targets = ", ".join(f"{hit.target} ({hit.technique})" for hit in look_alikes)
    existence = {Status.FOUND: "It exists on the public registry.",
                 Status.MISSING: "It is not on the public registry: installing it fails today, and anyone may "
                                 "register it tomorrow.",
                 Status.UNKNOWN: f"Whether it exists on the public registry is unknown ({lookup.detail})."}
    return Hit(
        rule=RuleId.TYPOSQUAT, severity=Severity.HIGH if strong else Severity.MEDIUM,
        confidence=Confidence.HIGH if strong else Confidence.MEDIUM,
        title=f"{package.name} looks like the popular {best.target} ({best.technique})",
        detail=(f"{package.name} is not a popular {package.ecosystem.value} package but looks like {targets}. "
                f"{existence[lookup.status]}{evidence} Check the spelling; if {package.name} is intended, allowlist it "
                "in .tollgate.yml (firewall.allowlist) with the reason."),
        similar=tuple(hit.target for hit in look_alikes),
    )


def _release_age_hit(package: DeclaredPackage, age: ReleaseAge) -> Hit:
    return Hit(
        rule=RuleId.RELEASE_AGE, severity=Severity.HIGH, confidence=Confidence.HIGH,
        title=f"{package.name} {age.version} is younger than the minimum release age",
        detail=(f"{package.name}: {age.detail}. New releases are where malicious and hijacked versions appear "
                "before the registry removes them. Pin an older version, wait, or add the package to "
                "firewall.release-age.allow in .tollgate.yml with the reason."),
    )


def _metadata_text(lookup: Lookup) -> str:
    return {Status.FOUND: f"registry metadata {lookup.detail}",
            Status.MISSING: f"not on the public registry ({lookup.detail})",
            Status.UNKNOWN: f"registry metadata unavailable ({lookup.detail})"}[lookup.status]
