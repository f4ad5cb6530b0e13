"""What is vetted (one version of one package of one ecosystem) and what the table says about it.

Statuses, in the order a vetting goes through them: REQUESTED (the client asked), CHECK (the
firewall is checking it), then one of SECURE (in the vetted repository), BLOCKED (the firewall
said no; reasons kept) or FAILED (the vetting could not finish: fetch, copy or timeout; it may be
asked again). SECURE and BLOCKED are final answers; FAILED and a REQUESTED or CHECK older than the
client's patience are not.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pipeline.firewall.model import Ecosystem
from pipeline.firewall.names import is_valid, normalize, split_scope

MAX_VERSION_LENGTH = 128  # PyPI and npm versions are far shorter; the key must stay bounded


class VettingStatus(str, enum.Enum):
    REQUESTED = "REQUESTED"
    CHECK = "CHECK"
    SECURE = "SECURE"
    BLOCKED = "BLOCKED"
    FAILED = "FAILED"

    @property
    def final(self) -> bool:
        return self in (VettingStatus.SECURE, VettingStatus.BLOCKED)


class InvalidRequest(ValueError):
    """A request the flow refuses before touching anything: bad ecosystem, name or version."""


@dataclass(frozen=True)
class PackageVersion:
    """One version of one package, named as its ecosystem normalizes it (PEP 503 for PyPI)."""

    ecosystem: Ecosystem
    name: str
    version: str

    @classmethod
    def of(cls, ecosystem: str | Ecosystem, name: str, version: str) -> PackageVersion:
        try:
            eco = Ecosystem(ecosystem)
        except ValueError:
            raise InvalidRequest(f"unknown ecosystem {str(ecosystem)[:20]!r} (pypi or npm)") from None
        if not isinstance(name, str) or not is_valid(name, eco):
            raise InvalidRequest(f"{str(name)[:100]!r} is not a valid {eco.value} package name")
        if not isinstance(version, str) or not version or len(version) > MAX_VERSION_LENGTH \
                or not all(ch.isalnum() or ch in ".-+_!" for ch in version):
            raise InvalidRequest(f"{str(version)[:100]!r} is not a version")
        return cls(eco, normalize(name, eco) if eco is Ecosystem.PYPI else name, version)

    @classmethod
    def from_event(cls, event: Any) -> PackageVersion:
        if not isinstance(event, dict):
            raise InvalidRequest("the event is not an object")
        return cls.of(event.get("ecosystem", ""), event.get("package", ""), event.get("version", ""))

    @property
    def key(self) -> str:
        """The table's partition key: one item per ecosystem, name and version."""
        return f"{self.ecosystem.value}#{self.name}#{self.version}"

    @property
    def namespace(self) -> str | None:
        """CodeArtifact's namespace: an npm scope without its @; PyPI has none."""
        scope, _ = split_scope(self.name)
        return scope[1:] if scope else None

    @property
    def bare_name(self) -> str:
        return split_scope(self.name)[1]

    def event(self) -> dict[str, str]:
        """The state machine's input."""
        return {"ecosystem": self.ecosystem.value, "package": self.name, "version": self.version}

    def __str__(self) -> str:
        separator = "==" if self.ecosystem is Ecosystem.PYPI else "@"
        return f"{self.name}{separator}{self.version}"


@dataclass(frozen=True)
class StatusRecord:
    """One item of the status table, as the client reads it."""

    package: PackageVersion
    status: VettingStatus
    updated_at: int
    requested_at: int  # when the current attempt claimed the version: a new attempt, a new value
    score: int | None = None
    reasons: tuple[str, ...] = ()
    detail: str = ""
