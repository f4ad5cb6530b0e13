"""pip requirements files (`requirements*.txt`), as pip reads them.

- Lines continue with a trailing backslash; a finding points at the line the requirement starts on.
- `#` starts a comment at the start of a line or after whitespace (pip's rule, so a URL fragment
  `#egg=` survives).
- `-r`/`--requirement` includes are followed relative to the including file, each file once (a
  cycle ends there), at most `MAX_INCLUDE_DEPTH` deep, and never outside the scanned folder.
- `-c`/`--constraint` files only narrow versions; they declare nothing and are not read.
- Per-requirement options (`--hash=sha256:…`, `--config-settings …`) are stripped before the
  requirement is parsed by `packaging.requirements.Requirement`, which also reads environment
  markers. A marker false on this machine still counts: the package installs somewhere.
- Editable installs, paths and direct URLs (`name @ https://…`) come from no registry: they are
  reported as not checked, with the reason.
- A version is pinned by a single `==` or `===` without a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

from pipeline.firewall.manifests.base import Collected, Source
from pipeline.firewall.model import Ecosystem

MAX_INCLUDE_DEPTH = 10
_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^-\s]))(?P<path>\S+)$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)")
_PER_REQUIREMENT_OPTION = re.compile(r"\s+--(?:hash|config-settings|global-option|install-option)\b.*$")


def read_requirements(path: Path, root: Path, into: Collected, seen: set[Path] | None = None) -> None:
    """Read `path` and what it includes; `seen` (resolved paths) is shared so a file is read once."""
    _Reader(root.resolve(), into, set() if seen is None else seen).read(path, 0)


@dataclass
class _Reader:
    root: Path
    into: Collected
    seen: set[Path]

    def read(self, path: Path, depth: int) -> None:
        resolved = path.resolve()
        if resolved in self.seen:
            return
        self.seen.add(resolved)
        source = Source.read(resolved, self.root)
        for number, line in logical_lines(source.text):
            if not line.startswith("-"):
                _requirement(line, number, source, self.into)
            elif include := _INCLUDE.match(line):
                self._include(include["path"], number, source, depth)
            elif _EDITABLE.match(line):
                self.into.problem(source.relative, number, "an editable install (a path or VCS URL) comes from no "
                                  "registry; not checked")
            # Every other option (-c, -i, --extra-index-url, --pre, ...) declares no package.

    def _include(self, target: str, number: int, source: Source, depth: int) -> None:
        path = (source.path.parent / target).resolve()
        if depth + 1 > MAX_INCLUDE_DEPTH:
            reason = f"includes nest deeper than {MAX_INCLUDE_DEPTH}; not followed"
        elif not path.is_relative_to(self.root):
            reason = "outside the scanned folder; not followed"
        elif not path.is_file():
            reason = "no such file"
        else:
            self.read(path, depth + 1)
            return
        self.into.problem(source.relative, number, f"-r {target}: {reason}")


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first physical line number, joined line without comment), blank lines dropped."""
    joined: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        if raw.endswith("\\"):
            buffer += raw[:-1] + " "
            continue
        line = _COMMENT.sub("", buffer + raw).strip()
        buffer = ""
        if line:
            joined.append((start, line))
    if buffer.strip():
        joined.append((start, _COMMENT.sub("", buffer).strip()))
    return joined


def _requirement(line: str, number: int, source: Source, into: Collected) -> None:
    text = _PER_REQUIREMENT_OPTION.sub("", line)
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        reason = "a path or URL comes from no registry; not checked" if _looks_like_location(text) else (
            f"not a requirement pip reads ({str(exc).splitlines()[0]})")
        into.problem(source.relative, number, reason)
        return
    if requirement.url:
        into.problem(source.relative, number, f"{requirement.name} @ a direct URL comes from no registry; "
                     "not checked")
        return
    into.add(source.package(requirement.name, Ecosystem.PYPI, number, str(requirement.specifier),
                            pinned_version(requirement.specifier)))


def pinned_version(specifier: SpecifierSet) -> str | None:
    specs = list(specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and not specs[0].version.endswith(".*"):
        return specs[0].version
    return None


def _looks_like_location(text: str) -> bool:
    return text.startswith((".", "/", "~")) or "://" in text or text.endswith((".whl", ".zip", ".tar.gz"))
