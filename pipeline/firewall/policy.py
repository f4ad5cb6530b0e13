"""Blocklist, allowlist and quarantine (seed C): a name, an optional version range, a reason, a reference.

- Blocklist: the name is never to be installed; with `versions`, only those versions. A blocked
  name without a range matches whatever version is declared (CRITICAL unless the entry says).
- Quarantine: the version range is held back, as a repository manager's quarantine holds Django
  4.1 until it is reviewed (HIGH unless the entry says). A quarantine needs the version that will
  install: the pinned one, else the newest registry release the declared range allows (when
  the metadata is at hand); with neither the package is not matched, and the engine says so.
- Allowlist: the name is trusted as itself: the typosquat and reputation checks skip it. The
  blocklist and quarantine still apply, so one list never silently undoes the other.

Ranges use each ecosystem's own rules: PEP 440 (`packaging.specifiers`) and npm semver
(`semantic_version.NpmSpec`). In both, a pre-release inside a range matches it, so a quarantine of
`>=4.1,<4.2` holds 4.1.1rc1 and one of `^4.17.0` holds 4.18.0-beta.1 (npm's `includePrerelease`:
installers skip pre-releases of a range unless asked, but a policy must not skip a pinned one).
A pre-release of the upper bound itself stays outside, as PEP 440 has it (`<4.2` and `^1.0.0`
leave out 4.2rc1 and 2.0.0-rc.1). A version that is not valid in its ecosystem's syntax matches
no range.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from semantic_version import NpmSpec
from semantic_version import Version as SemVer
from semantic_version.base import AllOf, AnyOf, Range
from semantic_version.base import Clause as BaseClause

from normalizers.model import Confidence, Severity
from pipeline.firewall.config import FirewallConfig, PolicyEntry
from pipeline.firewall.model import Ecosystem, Hit, RuleId
from pipeline.firewall.names import normalize


def in_range(ecosystem: Ecosystem, versions: str, version: str) -> bool:
    try:
        if ecosystem is Ecosystem.PYPI:
            return SpecifierSet(versions, prereleases=True).contains(Version(version))
        return _npm_range(versions).match(SemVer(version.lstrip("=v")))
    except (InvalidVersion, ValueError):
        return False


@lru_cache(maxsize=1024)
def _npm_range(versions: str) -> BaseClause:
    """NpmSpec's clauses with npm's `includePrerelease`: each bound compares pre-releases by order.

    NpmSpec gives every bound the "same-patch" policy (a pre-release matches only a bound on its
    own x.y.z); the "natural" policy is plain semver order, except that `<X.Y.Z` leaves out
    X.Y.Z's own pre-releases, as PEP 440 does.
    """
    return _including_prereleases(NpmSpec(versions).clause)


def _including_prereleases(clause: BaseClause) -> BaseClause:
    if isinstance(clause, Range):
        return Range(clause.operator, clause.target, prerelease_policy=Range.PRERELEASE_NATURAL,
                     build_policy=clause.build_policy)
    if isinstance(clause, (AllOf, AnyOf)):
        return type(clause)(*(_including_prereleases(part) for part in clause.clauses))
    return clause  # Always, Never


def is_allowlisted(config: FirewallConfig, ecosystem: Ecosystem, name: str) -> bool:
    return bool(_matching(config.allowlist, ecosystem, name))


def listed(entries: tuple[PolicyEntry, ...], ecosystem: Ecosystem, name: str) -> PolicyEntry | None:
    """The first entry of `entries` (an allow-list) naming the package, or None."""
    return next(iter(_matching(entries, ecosystem, name)), None)


def _matching(entries: tuple[PolicyEntry, ...], ecosystem: Ecosystem, name: str) -> list[PolicyEntry]:
    key = normalize(name, ecosystem)
    return [entry for entry in entries if entry.ecosystem is ecosystem and entry.name == key]


def is_quarantined_name(config: FirewallConfig, ecosystem: Ecosystem, name: str) -> bool:
    return bool(_matching(config.quarantine, ecosystem, name))


def blocklist_hits(config: FirewallConfig, ecosystem: Ecosystem, name: str, version: str | None) -> list[Hit]:
    hits = []
    for entry in _matching(config.blocklist, ecosystem, name):
        if entry.versions and not (version and in_range(ecosystem, entry.versions, version)):
            continue
        scope = f" {version} (blocked range {entry.versions})" if entry.versions else ""
        hits.append(Hit(
            rule=RuleId.BLOCKLIST, severity=entry.severity or Severity.CRITICAL, confidence=Confidence.HIGH,
            title=f"{name}{scope} is on the blocklist",
            detail=f"{name}{scope} is blocked by {entry.list_name}: {entry.reason}", reference=entry.reference,
        ))
    return hits


def quarantine_hits(config: FirewallConfig, ecosystem: Ecosystem, name: str, version: str | None,
                    how: str = "pinned") -> list[Hit]:
    """`how` says where `version` came from: "pinned", or "newest release allowed by <range>"."""
    hits = []
    for entry in _matching(config.quarantine, ecosystem, name):
        if version is None or not entry.versions or not in_range(ecosystem, entry.versions, version):
            continue
        hits.append(Hit(
            rule=RuleId.QUARANTINE, severity=entry.severity or Severity.HIGH, confidence=Confidence.HIGH,
            title=f"{name} {version} is quarantined",
            detail=(f"Requested item is quarantined: {name} {version} ({how}) falls in {entry.versions}, "
                    f"quarantined by {entry.list_name}: {entry.reason}"),
            reference=entry.reference,
        ))
    return hits
