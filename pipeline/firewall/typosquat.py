"""Typosquatting: does a name look like a popular package's name without being it?

Popular names are never flagged: a bundled popular name (or an allowlisted one) is trusted as
itself, so two popular look-alikes such as `urllib3` and `urllib` never flag each other. Any other
name is compared with the popular list of its ecosystem:

1. Known typo patterns (HIGH; the edits people make when typing, and attackers copy):
   - separators added, dropped or swapped (`pythondateutil`), and npm's scope tricks
     (`@types-node`, `types-node`, `typesnode` for `@types/node`);
   - homoglyphs: `0`/`o`, `1`/`l`/`i`, `rn`/`m`, `vv`/`w`, `5`/`s` (`fiask` for `flask`);
   - swapped adjacent letters (`reqeusts`), a missing letter (`reqests`), a doubled or added
     letter (`numppy`, `python-dateutils`), one replaced character (`request2`).
2. Fuzzy similarity (MEDIUM): rapidfuzz's Damerau-Levenshtein distance of at most 2 inside one
   word of a name that is otherwise the same (`opentelemetry-instrumentaion-flsk`), for names of
   at least `MIN_FUZZY_LENGTH` characters.
3. npm's unscoped copy of a popular scoped name (MEDIUM): `typescript-eslint-parser`-style copies
   are caught by (1); this catches the bare name itself (`@angular/animations` -> `animations`).

What keeps the false positives down (measured on the 2,000 PyPI and npm names ranked just below
the bundled lists; tests/pipeline/firewall/test_typosquat.py):
- single edits count only inside a word (a run between `-`, `_`, `.`, `/`) of at least
  `MIN_EDIT_LENGTH` characters, and a replaced character only in a word of at least
  `MIN_REPLACE_LENGTH`: in short words one edit reaches other real names (`isort`/`usort`,
  `mypy-boto3-ecr`/`mypy-boto3-ec2`);
- a digit added, dropped or replaced by another digit is a version or a sibling (`pathlib2`,
  `uuid6`, `nvidia-cublas-cu11`), not a typo.

PyPI names are compared after PEP 503 normalization, so `Python_DateUtil` is python-dateutil
itself. Every hit names its target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from pipeline.firewall.model import Ecosystem
from pipeline.firewall.names import normalize, split_scope

MIN_EDIT_LENGTH = 5  # swapped or doubled letters
MIN_REPLACE_LENGTH = 7  # a replaced, added or missing letter
MIN_FUZZY_LENGTH = 10
FUZZY_DISTANCE = 2
MIN_SCOPE_COPY_LENGTH = 6
_SEPARATORS = re.compile(r"[-_./@]+")
_WORD_BOUNDARY = re.compile(r"[-_./@]")
_HOMOGLYPHS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"))


@dataclass(frozen=True)
class LookAlike:
    target: str
    technique: str
    explicit: bool  # a known typo pattern rather than fuzzy similarity


def skeleton(name: str) -> str:
    return _SEPARATORS.sub("", name)


def confusable(name: str) -> str:
    folded = skeleton(name)
    for glyph, canonical in _HOMOGLYPHS:
        folded = folded.replace(glyph, canonical)
    return folded


def _word_at(name: str, index: int) -> str:
    """The word (run between separators) of `name` that holds position `index`."""
    start = max((m.end() for m in _WORD_BOUNDARY.finditer(name, 0, index)), default=0)
    end = next((m.start() for m in _WORD_BOUNDARY.finditer(name, index)), len(name))
    return name[start:end]


def _plausible_edit(name: str, target: str, minimum: int) -> bool:
    """One edit apart: inside a long enough word, and not a digit for a digit (a version, not a typo)."""
    index = next((i for i, (a, b) in enumerate(zip(name, target, strict=False)) if a != b), min(len(name), len(target)))
    changed = {c for c in (name[index:index + 1], target[index:index + 1]) if c}
    if len(name) != len(target):  # added or missing: the extra character
        longer = name if len(name) > len(target) else target
        changed = {longer[index]}
    if changed and all(c.isdigit() for c in changed):
        return False
    return len(_word_at(target, min(index, len(target) - 1))) >= minimum


class TyposquatIndex:
    """The popular names of one ecosystem, indexed for every pattern above; build once, query often."""

    def __init__(self, ecosystem: Ecosystem, names: Iterable[str]) -> None:
        self.ecosystem = ecosystem
        self.popular = tuple(dict.fromkeys(normalize(name, ecosystem) for name in names))
        self.members = frozenset(self.popular)
        self._rank = {name: rank for rank, name in enumerate(self.popular)}
        self._skeleton = _group((skeleton(name), name) for name in self.popular)
        self._confusable = _group((confusable(name), name) for name in self.popular)
        self._deletions = _group((_without(name, i), name) for name in self.popular for i in range(len(name)))
        self._wildcards = _group((_wildcard(name, i), name) for name in self.popular for i in range(len(name)))
        self._words = _group((word, name) for name in self.popular for word in _words(name))
        self._long_words = [word for word in self._words if len(word) >= MIN_FUZZY_LENGTH]
        self._bare = _group((split_scope(name)[1], name) for name in self.popular if split_scope(name)[0])

    def look_alikes(self, name: str) -> tuple[LookAlike, ...]:
        """The popular names `name` imitates: typo patterns first, then the most popular target first."""
        candidate = normalize(name, self.ecosystem)
        if candidate in self.members:
            return ()
        found: dict[str, LookAlike] = {}
        for hit in (*self._patterns(candidate), *self._fuzzy(candidate), *self._scope_copy(candidate)):
            if hit.target != candidate and hit.target not in found:
                found[hit.target] = hit
        return tuple(sorted(found.values(), key=lambda hit: (not hit.explicit, self._rank[hit.target])))

    def _patterns(self, name: str) -> Iterator[LookAlike]:
        for target in self._skeleton.get(skeleton(name), ()):
            yield LookAlike(target, "separator or scope variant", True)
        for target in self._confusable.get(confusable(name), ()):
            yield LookAlike(target, "homoglyph", True)
        for index in range(len(name) - 1):
            swapped = name[:index] + name[index + 1] + name[index] + name[index + 2:]
            if swapped in self.members and _plausible_edit(name, swapped, MIN_EDIT_LENGTH):
                yield LookAlike(swapped, "swapped letters", True)
        for target in self._deletions.get(name, ()):
            if _plausible_edit(name, target, MIN_REPLACE_LENGTH):
                yield LookAlike(target, "missing letter", True)
        for index in range(len(name)):
            shorter = _without(name, index)
            doubled = name[index] in (name[index - 1:index], name[index + 1:index + 2])
            if shorter in self.members and _plausible_edit(
                    name, shorter, MIN_EDIT_LENGTH if doubled else MIN_REPLACE_LENGTH):
                yield LookAlike(shorter, "doubled letter" if doubled else "added letter", True)
            for target in self._wildcards.get(_wildcard(name, index), ()):
                if _plausible_edit(name, target, MIN_REPLACE_LENGTH):
                    yield LookAlike(target, "replaced letter", True)

    def _fuzzy(self, name: str) -> Iterator[LookAlike]:
        """Two edits inside one long word of an otherwise identical name (one edit is a pattern's job)."""
        words = _words(name)
        for position, word in enumerate(words):
            if len(word) < MIN_FUZZY_LENGTH:
                continue
            rest = words[:position] + words[position + 1:]
            for similar, distance, _ in process.extract(word, self._long_words, scorer=DamerauLevenshtein.distance,
                                                        score_cutoff=FUZZY_DISTANCE, limit=None):
                for target in self._words[similar] if distance == FUZZY_DISTANCE else ():
                    other = _words(target)
                    if len(other) == len(words) and other[:position] + other[position + 1:] == rest:
                        yield LookAlike(target, "similar spelling", False)

    def _scope_copy(self, name: str) -> Iterator[LookAlike]:
        if self.ecosystem is Ecosystem.NPM and not split_scope(name)[0] and len(name) >= MIN_SCOPE_COPY_LENGTH:
            for target in self._bare.get(name, ()):
                yield LookAlike(target, "unscoped copy of a scoped name", False)


def _without(name: str, index: int) -> str:
    return name[:index] + name[index + 1:]


def _wildcard(name: str, index: int) -> str:
    return f"{name[:index]}\0{name[index + 1:]}"


def _words(name: str) -> tuple[str, ...]:
    return tuple(word for word in _SEPARATORS.split(name) if word)


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, dict[str, None]] = {}
    for key, name in pairs:
        grouped.setdefault(key, {})[name] = None
    return {key: tuple(names) for key, names in grouped.items()}
