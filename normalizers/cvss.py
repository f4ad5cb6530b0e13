"""CVSS vectors to scores with the `cvss` library; severity follows docs/design.md."""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from normalizers.model import Cvss, Severity


def from_vector(vector: str, score: float | None = None, source: str | None = None) -> Cvss | None:
    """A Cvss from a vector string (any version); the tool's score wins when it gave one."""
    vector = vector.strip()
    try:
        if vector.startswith("CVSS:4.0/"):
            parsed4 = CVSS4(vector)
            return Cvss("4.0", score if score is not None else float(parsed4.base_score), vector, source)
        if vector.startswith("CVSS:3."):
            parsed3 = CVSS3(vector)
            version = vector.split("/", 1)[0].split(":", 1)[1]
            return Cvss(version, score if score is not None else float(parsed3.base_score), vector, source)
        parsed2 = CVSS2(vector.removeprefix("(").removesuffix(")"))
        return Cvss("2.0", score if score is not None else float(parsed2.base_score), vector, source)
    except (CVSSError, ValueError, KeyError, IndexError):
        return Cvss("unknown", score, vector, source) if score is not None else None


def best(cvss: tuple[Cvss, ...]) -> Cvss | None:
    """The CVSS to trust: v4, then v3.x, then v2; the highest score within a version."""
    usable = [c for c in cvss if c.version != "unknown"] or list(cvss)
    return max(usable, key=lambda c: (_major(c.version), c.score)) if usable else None


def severity_from_cvss(cvss: tuple[Cvss, ...]) -> Severity | None:
    """The severity of the preferred CVSS, or None without one."""
    chosen = best(cvss)
    return Severity.from_cvss(chosen.score) if chosen else None


def _major(version: str) -> float:
    try:
        return float(version.split(".", 1)[0])
    except ValueError:
        return 0.0
