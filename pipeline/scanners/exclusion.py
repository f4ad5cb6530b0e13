"""One exclusion rule for every scanner, written in each scanner's own flag syntax.

An entry of `scan.exclude` is either a folder name, excluded at any depth (`node_modules`), or a
path from the scanned folder, excluded there only (`docs/api`); either may hold `*` and `?`. Each
scanner gets the same rule: a regular expression anchored on path segments for Checkov and
detect-secrets (a bare `\\.git` would also eat `.github/`), globs for Trivy and dependency-check,
gitignore-style patterns for Semgrep, and path fragments for Bandit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Exclusion:
    pattern: str  # as written, less a leading ./ and trailing /

    @classmethod
    def of(cls, text: str) -> Exclusion:
        return cls(text.strip().removeprefix("./").strip("/"))

    @property
    def anywhere(self) -> bool:
        """A bare name matches a folder at any depth; a path only from the scanned folder."""
        return "/" not in self.pattern

    def regex(self) -> str:
        body = "".join({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)) for char in self.pattern)
        start = "(?:^|/)" if self.anywhere else r"^(?:\./|/)?"
        return f"{start}{body}(?:/|$)"

    def glob(self) -> str:
        return f"**/{self.pattern}" if self.anywhere else self.pattern

    def matches(self, relative_path: str) -> bool:
        return re.search(self.regex(), relative_path) is not None


@dataclass(frozen=True)
class Exclusions:
    entries: tuple[Exclusion, ...]

    @classmethod
    def of(cls, patterns: tuple[str, ...]) -> Exclusions:
        return cls(tuple(Exclusion.of(p) for p in dict.fromkeys(patterns) if p.strip("./ ")))

    def regex(self) -> str | None:
        """One alternation, for tools that take a single expression; None when nothing is excluded."""
        return "|".join(f"(?:{e.regex()})" for e in self.entries) or None

    def regexes(self) -> tuple[str, ...]:
        return tuple(e.regex() for e in self.entries)

    def globs(self) -> tuple[str, ...]:
        return tuple(e.glob() for e in self.entries)

    def folder_globs(self) -> tuple[str, ...]:
        """Globs that match every file under an excluded folder (dependency-check's --exclude)."""
        return tuple(f"{e.glob()}/**" for e in self.entries)

    def semgrep_patterns(self) -> tuple[str, ...]:
        """gitignore-style: a name matches at any depth, a leading / anchors at the scanned folder."""
        return tuple(e.pattern if e.anywhere else f"/{e.pattern}" for e in self.entries)

    def path_fragments(self) -> tuple[str, ...]:
        """Bandit drops a file whose `./path` contains an exclude or fnmatches it: `/name/` is a folder at
        any depth, `*/test_*.py` a file name pattern, `./path/` a path from the root."""
        return tuple((f"*/{e.pattern}" if "*" in e.pattern or "?" in e.pattern else f"/{e.pattern}/")
                     if e.anywhere else f"./{e.pattern}/" for e in self.entries)

    def excludes(self, relative_path: str) -> bool:
        return any(e.matches(relative_path) for e in self.entries)
