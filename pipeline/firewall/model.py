"""The records the firewall passes around: a declared package, and what a check says about it.

Rule ids and their severities (documented again in normalizers/parsers/supply_chain.py, which
reads them back from the report):

| rule | severity |
|---|---|
| TG-SC-BLOCKLIST | CRITICAL, or the blocklist entry's own |
| TG-SC-QUARANTINE | HIGH, or the quarantine entry's own (seed C) |
| TG-SC-TYPOSQUAT | HIGH for a known typo pattern, MEDIUM for fuzzy similarity or an unscoped copy |
| TG-SC-CONFUSION | HIGH when an internal name exists on the public registry, MEDIUM when it is unpinned |
| TG-SC-REPUTATION | HIGH for Red, LOW for Yellow (seed B's points table) |
| TG-SC-RELEASE-AGE | HIGH: the version is younger than `firewall.release-age.minimum-days` |
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from normalizers.model import Confidence, Severity


class Ecosystem(str, enum.Enum):
    PYPI = "pypi"
    NPM = "npm"


class RuleId(str, enum.Enum):
    BLOCKLIST = "TG-SC-BLOCKLIST"
    QUARANTINE = "TG-SC-QUARANTINE"
    TYPOSQUAT = "TG-SC-TYPOSQUAT"
    CONFUSION = "TG-SC-CONFUSION"
    REPUTATION = "TG-SC-REPUTATION"
    RELEASE_AGE = "TG-SC-RELEASE-AGE"


@dataclass(frozen=True)
class DeclaredPackage:
    """One dependency as a manifest declares it.

    `spec` is the range as written (`>=2,<3`, `^1.2.0`, or "" for any version); `version` is the
    exact version when one is pinned (`==4.1`, a lockfile entry), else None. `required_by` names
    the other lockfile entries that depend on it, where the lockfile says so. `manifest` is
    relative to the scanned folder; `line` is 1-based.
    """

    name: str
    ecosystem: Ecosystem
    manifest: str
    line: int
    spec: str = ""
    version: str | None = None
    required_by: tuple[str, ...] = ()  # lockfile packages that depend on it (the project itself not counted)


@dataclass(frozen=True)
class ManifestProblem:
    """A line or entry of a manifest that could not be read: counted and reported, never dropped."""

    manifest: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class Hit:
    """What one check says about one package: a future Finding, or part of an API answer."""

    rule: RuleId
    severity: Severity
    confidence: Confidence
    title: str
    detail: str
    similar: tuple[str, ...] = ()  # the look-alike targets, for typosquats
    reference: str | None = None


@dataclass(frozen=True)
class ArtifactRef:
    """The file an install of one version downloads (PyPI's sdist, npm's tarball) and its digest from the registry."""

    url: str
    filename: str
    algorithm: str  # hashlib name: "sha256" (PyPI digests), "sha512" (npm integrity)
    digest: str  # hex
