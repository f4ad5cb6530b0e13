"""What every manifest reader returns, and the small helpers they share.

A manifest is read only when it is a regular file inside the scanned folder (a FIFO would block
the scan, and a link to /etc or $HOME is not the repository's) of at most `MAX_MANIFEST_BYTES` of
UTF-8 text; anything else is one problem for that file. A declared name that its ecosystem would
refuse (`names.is_valid`) is a problem too, never a package that is looked up.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.firewall.model import DeclaredPackage, Ecosystem, ManifestProblem
from pipeline.firewall.names import is_clean, is_valid

MAX_MANIFEST_BYTES = 64 * 1024 * 1024  # a lockfile of a huge monorepo is ~30 MB


@dataclass
class Collected:
    """Packages and problems of one or more manifests; a package repeated in a lockfile is kept once."""

    packages: list[DeclaredPackage] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)
    _seen: set[tuple[str, str, str, str | None]] = field(default_factory=set)

    def add(self, package: DeclaredPackage) -> None:
        if not is_valid(package.name, package.ecosystem):
            self.problem(package.manifest, package.line, f"{package.name[:100]!r} is not a valid "
                         f"{package.ecosystem.value} package name; not checked")
            return
        if package.version is not None and not is_clean(package.version):
            self.problem(package.manifest, package.line, f"{package.name[:100]}: version {package.version[:100]!r} "
                         "holds whitespace or a control character; not checked")
            return
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
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise ValueError("not a regular file")
        if not path.resolve().is_relative_to(root.resolve()):
            raise ValueError("a link to outside the scanned folder; not read")
        if status.st_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"{status.st_size} bytes is over the {MAX_MANIFEST_BYTES} byte limit for a manifest")
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
        return cls(path, path.relative_to(root).as_posix(), text)

    def json_object(self) -> dict[str, Any]:
        """The manifest's JSON document, which must be an object."""
        try:
            document = json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
        if not isinstance(document, dict):
            raise ValueError(f"not a JSON object but {type_name(document)}")
        return document

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


def type_name(value: Any) -> str:
    """How a problem names a value of the wrong type: "a list", "a string", "a number"."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)
