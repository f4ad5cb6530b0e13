"""What every manifest reader returns, and the small helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.firewall.model import DeclaredPackage, Ecosystem, ManifestProblem

MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # a lockfile of a huge monorepo is ~30 MB


@dataclass
class Collected:
    """Packages and problems of one or more manifests; a package repeated in a lockfile is kept once."""

    packages: list[DeclaredPackage] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)
    _seen: set[tuple[str, str, str, str | None]] = field(default_factory=set)

    def add(self, package: DeclaredPackage) -> None:
        key = (package.manifest, package.name, package.spec, package.version)
        if key not in self._seen:
            self._seen.add(key)
            self.packages.append(package)

    def problem(self, manifest: str, line: int | None, reason: str) -> None:
        self.problems.append(ManifestProblem(manifest, line, reason))


@dataclass(frozen=True)
class Source:
    """One manifest file: where it is, how it is named in findings, and its text."""

    path: Path
    relative: str  # posix path relative to the scanned folder
    text: str

    @classmethod
    def read(cls, path: Path, root: Path) -> Source:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ValueError(f"{size} bytes is over the {MAX_MANIFEST_BYTES} byte limit for a manifest")
        return cls(path, path.relative_to(root).as_posix(), path.read_text(encoding="utf-8-sig"))

    def package(self, name: str, ecosystem: Ecosystem, line: int | None, spec: str = "",
                version: str | None = None) -> DeclaredPackage:
        return DeclaredPackage(name=name, ecosystem=ecosystem, manifest=self.relative, line=line or 1, spec=spec,
                               version=version)


def first_line(lines: list[str], needle: str, start: int = 0) -> int | None:
    """The 1-based number of the first line at or after `start` (0-based) that contains `needle`."""
    for index in range(start, len(lines)):
        if needle in lines[index]:
            return index + 1
    return None
