"""Typosquatting: does a name look like a popular package's name without being it?

A name in the popularity index (or allowlisted) is trusted as itself: a popular, widely used name
is never a typosquat of another, so `urllib3` and `urllib`, `is-object` and `isobject`, the
unscoped `esbuild-linux-arm64` and the scoped `@esbuild/linux-arm64` never flag each other. Any
other name is compared with the index of its ecosystem, by the generation algorithms of the
public typosquat taxonomies (the `technique` of each hit):

- one edit: omission, repetition (a doubled letter), addition, plural, transposition (swapped
  neighbours), and a replaced letter, named for its kind: homoglyph (`rn`/`m`, `0`/`o`, ...),
  vowel swap, adjacent key (QWERTY neighbours) or plain replacement;
- delimiter: the same letters with `-`, `_`, `.` or an npm scope added, dropped or swapped
  (`pythondateutil`, `types-node` for `@types/node`), and homoglyphs across the whole name;
- word order: the same words in another order (`nmap-python` for `python-nmap`);
- two edits inside a long name (`aiohtttps`, `botoceor`, `importlibs-resource`);
- sound-alike: the same consonants once vowels, doubled letters and `z`/`s`, `k`/`c`, `ph`/`f`
  are folded (`deezcord.js` for `discord.js`);
- an npm scoped name's bare part alone (`animations` for `@angular/animations`);
- combosquatting: a popular name plus only words from the affix table (`nodemonjs`,
  `node-mongoose-orm`), or such a name one edit away (`etherdjs` for `ethers`), or a popular name of
  at least MIN_GLUED_LENGTH letters with a few more glued to its end (`fairsequence`).

Both names of a pair are weighed where download counts are known (npm's long tail, below the
popular list): a counted name answers to strong patterns only, and to none with 1/OWN_SHARE of
its look-alike's downloads; a counted target is matched by strong patterns and word order only,
MEDIUM. Words that name many packages (`brand_words`: `python`, `ethereum`) are targets of unknown
names: strong one-word typos, sound-alikes and affix-only combosquats, MEDIUM.

Strength (HIGH `explicit`, else MEDIUM), measured on real lockfiles and on legitimate names
below the index (benchmarks/firewall_accuracy.py): one edit is HIGH inside a word of at least
`MIN_EDIT_LENGTH` characters for swaps and repetitions, `MIN_REPLACE_LENGTH` for the others, and
MEDIUM in shorter names down to `MIN_NAME_LENGTH`; a digit for a digit (`uuid6`, `js-sha3`) is a
sibling as often as a typo, so MEDIUM. Delimiter, homoglyph and word-order variants are HIGH,
except an unscoped `x-y` for a scoped `@x/y`, MEDIUM: that is how packages moved into scopes
(`rollup-plugin-node-resolve`), and only the registry's dates tell the old original from a copy.
Two edits, sound-alikes and combosquats are MEDIUM. Every pattern is MEDIUM against a target
ranked below `MAX_HIGH_RANK`. Hits list the most popular target first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from normalizers.tables import load_table
from pipeline.firewall.model import Ecosystem
from pipeline.firewall.names import normalize, split_scope

MIN_EDIT_LENGTH = 5  # swapped or doubled letters: HIGH from this word length
MIN_REPLACE_LENGTH = 7  # a replaced, added or missing letter: HIGH from this word length
MIN_NAME_LENGTH = 5  # shorter names are one edit from too many real ones to flag at all
MIN_TWO_EDIT_LENGTH = 7  # two edits: only in names at least this long (letters only)
MIN_SOUND_LENGTH = 7
MIN_SCOPE_COPY_LENGTH = 6
MIN_GLUED_LENGTH = 7  # a popular name this long with at most MAX_GLUED_LETTERS more letters glued to its end
MAX_GLUED_LETTERS = 5  # (an added word's start) is a combosquat; shorter names make other words that way
MAX_HIGH_RANK = 5000  # a strong pattern is HIGH against a name ranked this high on a popular list, else MEDIUM
OWN_SHARE = 100  # a look-alike with at least 1/100 of its target's downloads is a package of its own
MIN_BRAND_LENGTH = 6  # a word of at least this many letters that is part of at least
MIN_BRAND_NAMES = 10  # this many indexed names is a project's or an ecosystem's name (`python`, `ethereum`)
_SEPARATORS = "-_./@"  # between the words of a name
_WITHOUT_SEPARATORS = str.maketrans("", "", _SEPARATORS)  # what a skeleton drops
_ONE_SEPARATOR = str.maketrans(_SEPARATORS, "/" * len(_SEPARATORS))  # each one written "/", for str.split
_WORD_BOUNDARY = re.compile(f"[{re.escape(_SEPARATORS)}]")
_VOWELS = frozenset("aeiouy")
_SOUND_FOLDS = (("ph", "f"), ("ck", "c"), ("k", "c"), ("z", "s"), ("q", "c"))
_VOWEL_RUNS = re.compile(r"[aeiouy]+")
_REPEATED = re.compile(r"(.)(?=\1)")  # a letter the same letter follows: dropped, a run is left as one letter


@dataclass(frozen=True)
class LookAlike:
    target: str
    technique: str
    explicit: bool  # a strong pattern (HIGH) rather than a weaker resemblance (MEDIUM)


@cache
def _tables() -> dict[str, Any]:
    loaded: dict[str, Any] = load_table("pipeline.firewall", "data/typosquat.yaml")
    return loaded


def skeleton(name: str) -> str:
    return name.translate(_WITHOUT_SEPARATORS)


def confusable(name: str) -> str:
    return _fold_homoglyphs(skeleton(name))


def sounds(name: str) -> str:
    return _fold_sounds(skeleton(name))


def _fold_homoglyphs(text: str) -> str:
    for glyph, canonical in _tables()["homoglyphs"]:
        text = text.replace(glyph, canonical)
    return text


def _fold_sounds(text: str) -> str:
    for written, said in _SOUND_FOLDS:
        text = text.replace(written, said)
    return _VOWEL_RUNS.sub("a", _REPEATED.sub("", text))  # a doubled letter sounds as one


def _fold_each(texts: Sequence[str], fold: Callable[[str], str]) -> list[str]:
    """`[fold(text) for text in texts]` in one call of `fold` on the texts joined by newlines, for the index's
    100,000 names. `fold` must keep a newline as it is and match nothing across one, so that each text folds as it
    would alone: so do the translations and replacements here, and their patterns (`.` matches no newline)."""
    folded = fold("\n".join(texts)).split("\n")
    return folded if len(folded) == len(texts) else [fold(text) for text in texts]  # a text holding a newline


def _words(name: str) -> tuple[str, ...]:
    return tuple(_marked_words(_mark_separators(name)))


def _mark_separators(text: str) -> str:
    return text.translate(_ONE_SEPARATOR)


def _marked_words(marked: str) -> Iterator[str]:
    """The words of a name whose separators are all written "/" (_mark_separators)."""
    return filter(None, marked.split("/"))


def _words_each(names: Sequence[str]) -> Iterator[Iterator[str]]:
    """The words of each name, one name at a time: kept all at once, 100,000 names' words cost more to hold in
    memory than to split."""
    return map(_marked_words, _fold_each(names, _mark_separators))


def _word_at(name: str, index: int) -> str:
    """The word (run between separators) of `name` that holds position `index`."""
    start = max((m.end() for m in _WORD_BOUNDARY.finditer(name, 0, index)), default=0)
    end = next((m.start() for m in _WORD_BOUNDARY.finditer(name, index)), len(name))
    return name[start:end]


def _replacement_kind(written: str, meant: str) -> str:
    pair = {written, meant}
    if any({glyph, canonical} == pair for glyph, canonical in _tables()["homoglyphs"]):
        return "homoglyph"
    if pair <= _VOWELS:
        return "vowel swap"
    if written in _tables()["keyboard-neighbours"].get(meant, ""):
        return "adjacent key"
    return "replacement"


def one_edit(name: str, target: str) -> tuple[str, int, set[str]] | None:
    """(technique, position in target, the characters changed) when `name` is one typo from `target`."""
    index = next((i for i, (a, b) in enumerate(zip(name, target, strict=False)) if a != b), min(len(name), len(target)))
    if len(name) == len(target) + 1 and name[index + 1:] == target[index:]:
        added = name[index]
        doubled = added in (name[index - 1:index], name[index + 1:index + 2])
        kind = "repetition" if doubled else "plural" if added == "s" and index == len(target) else "addition"
        return kind, min(index, len(target) - 1), {added}
    if len(name) + 1 == len(target) and name[index:] == target[index + 1:]:
        return ("plural" if target[index] == "s" and index == len(name) else "omission"), index, {target[index]}
    if len(name) != len(target) or index >= len(name):
        return None
    if name[index + 1:] == target[index + 1:]:
        return _replacement_kind(name[index], target[index]), index, {name[index], target[index]}
    if name[index + 1:index + 2] == target[index:index + 1] and name[index:index + 1] == target[index + 1:index + 2] \
            and name[index + 2:] == target[index + 2:]:
        return "transposition", index, {name[index], target[index]}
    return None


def _one_edit_strength(technique: str, target: str, index: int, changed: set[str]) -> bool | None:
    """True: HIGH; False: MEDIUM; None: not flagged (too short to tell from another real name)."""
    if len(skeleton(target)) < MIN_NAME_LENGTH:
        return None
    if all(c.isdigit() for c in changed) or technique == "plural":
        return False  # a sibling (`uuid6`, `js-sha3`) or a singular/plural pair as often as a typo
    if technique == "replacement" and _WORD_BOUNDARY.match(f"-{target}"[index]):
        return False  # a word's first letter replaced makes another word (`ficloud`, `micloud`) more often
    word = len(_word_at(target, index))
    strong = MIN_EDIT_LENGTH if technique in ("repetition", "transposition", "homoglyph") else MIN_REPLACE_LENGTH
    return word >= strong


class TyposquatIndex:
    """The popular names of one ecosystem (trusted), then its counted long tail (compared), most popular first,
    indexed for every technique, and the words of many names; build once."""

    def __init__(self, ecosystem: Ecosystem, names: Iterable[str], downloads: Mapping[str, int] | None = None,
                 brands: Iterable[str] = ()) -> None:
        self.ecosystem = ecosystem
        listed = tuple(normalize(name, ecosystem) for name in names)
        self.members = frozenset(listed)  # trusted as themselves; the long tail of `downloads` is only compared
        self.downloads = dict(downloads or {})  # normalized name -> monthly downloads, where known
        self.popular = tuple(dict.fromkeys((*listed, *self.downloads)))
        self.rank = dict(zip(self.popular, range(1, len(self.popular) + 1), strict=True))
        self._by_length: dict[int, list[str]] = {}
        for name in self.popular:
            self._by_length.setdefault(len(name), []).append(name)
        self._near_memo: dict[tuple[int, int], tuple[str, ...]] = {}
        self._brands = tuple(brand for brand in brands if brand not in self.rank)
        self._brand_set = frozenset(self._brands)
        long_brands = [brand for brand in self._brands if len(brand) >= MIN_SOUND_LENGTH]
        self._brand_sounds = _group([sounds(brand) for brand in long_brands], long_brands)
        # Over 100,000 names, calls per name are most of the build: each name's skeleton is computed once, and
        # every fold is applied to all names at once (_fold_each).
        skeletons = _fold_each(self.popular, skeleton)
        self._skeleton = _group(skeletons, self.popular)
        self._confusable = _group(_fold_each(skeletons, _fold_homoglyphs), self.popular)
        trusted = self.popular[:len(self.members)]  # the listed names, each once, lead `popular`
        sounding = [(name, bare) for name, bare in zip(trusted, skeletons, strict=False)  # theirs come first
                    if len(bare) >= MIN_SOUND_LENGTH]
        self._sounds = _group(_fold_each([bare for _, bare in sounding], _fold_sounds), [name for name, _ in sounding])
        self._word_sets = _word_sets(self.popular, skeletons)
        self._affixes = dict.fromkeys(_tables()["combo-affixes"])  # the table's order: a set's would vary by run
        scoped = [name for name in trusted if split_scope(name)[0]]
        self._bare = _group([split_scope(name)[1] for name in scoped], scoped)

    def is_popular(self, name: str) -> bool:
        return normalize(name, self.ecosystem) in self.members

    def look_alikes(self, name: str) -> tuple[LookAlike, ...]:
        """The popular names `name` imitates, the most popular first: only strong patterns' when there are any."""
        candidate = normalize(name, self.ecosystem)
        if candidate in self.members:
            return ()
        used = candidate in self.downloads
        found: dict[str, LookAlike] = {}
        for raw in (*self._exact_forms(candidate), *self._edits(candidate), *self._combos(candidate),
                    *(() if used else self._brand_edits(candidate))):
            hit = self._weigh(candidate, used, raw)
            if hit is not None and (hit.target not in found or hit.explicit > found[hit.target].explicit):
                found[hit.target] = hit
        strong = [hit for hit in found.values() if hit.explicit]  # once a strong pattern names a target, the
        return tuple(sorted(strong or found.values(), key=lambda hit: self._order(hit.target)))  # rest is noise

    def _weigh(self, candidate: str, used: bool, hit: LookAlike) -> LookAlike | None:
        """The popularity of both names: a candidate with real use (`used`: in the download counts) answers to
        strong patterns only, and to none when it has 1/OWN_SHARE of its target's downloads; a target of the
        long tail (counted, not listed) is matched by strong patterns and word order only, and MEDIUM, as its
        neighbours are often as real as it is."""
        if hit.target == candidate or (used and not hit.explicit):
            return None
        downloads, target_downloads = self.downloads.get(candidate), self.downloads.get(hit.target)
        if downloads is not None and target_downloads is not None and downloads * OWN_SHARE >= target_downloads:
            return None
        if hit.target in self.members or target_downloads is None:
            top = self._order(hit.target) <= MAX_HIGH_RANK  # attackers imitate the top; below it, neighbours are
            return hit if top or not hit.explicit else LookAlike(hit.target, hit.technique, False)  # often real
        return LookAlike(hit.target, hit.technique, False) if hit.explicit or hit.technique == "word order" else None

    def _near(self, length: int, distance: int) -> tuple[str, ...]:
        """The indexed names at most `distance` letters longer or shorter: the only ones that close (memoized)."""
        key = (length, distance)
        if key not in self._near_memo:
            self._near_memo[key] = tuple(name for size in range(length - distance, length + distance + 1)
                                         for name in self._by_length.get(size, ()))
        return self._near_memo[key]

    def _order(self, target: str) -> int:
        return self.rank.get(target, len(self.rank) + 1)

    def _brand_edits(self, name: str) -> Iterator[LookAlike]:
        """A word that names many packages with only affix words around it (`node-opencv`), or a one-word name
        that is a strong typo (`pytohn`) or a sound-alike (`etheruim`) of one: only those, as the words include
        common ones (`server`, `public`) with many real neighbours."""
        for core in _cores(name, self._affixes):
            if core in self._brand_set:
                yield LookAlike(core, "combosquatting of a name many packages carry", False)
        if len(_words(name)) != 1:
            return
        for brand, _, _ in process.extract(name, self._brands, scorer=Levenshtein.distance, score_cutoff=2, limit=None):
            edit = one_edit(name, brand)
            if edit is not None and _one_edit_strength(edit[0], brand, edit[1], edit[2]):
                yield LookAlike(brand, f"{edit[0]} of a name many packages carry", False)
        for brand in self._brand_sounds.get(sounds(name), ()) if len(name) >= MIN_SOUND_LENGTH else ():
            if brand[0] == name[0]:
                yield LookAlike(brand, "sound-alike of a name many packages carry", False)

    def _exact_forms(self, name: str) -> Iterator[LookAlike]:
        """Delimiter, homoglyph, word-order and sound-alike forms: one dictionary look-up each."""
        for target in self._skeleton.get(skeleton(name), ()):
            yield LookAlike(target, "delimiter or scope variant", not _unscoped_twin(name, target))
        for target in self._confusable.get(confusable(name), ()):
            if skeleton(target) != skeleton(name):
                yield LookAlike(target, "homoglyph", True)
        words = _words(name)
        for target in self._word_sets.get(_word_key(words), ()) if len(words) > 1 else ():
            yield LookAlike(target, "word order", False)
        for target in self._sounds.get(sounds(name), ()) if len(skeleton(name)) >= MIN_SOUND_LENGTH else ():
            if target[0] == name[0]:
                yield LookAlike(target, "sound-alike", False)
        if self.ecosystem is Ecosystem.NPM and not name.startswith("@") and len(name) >= MIN_SCOPE_COPY_LENGTH:
            for target in self._bare.get(name, ()):
                yield LookAlike(target, "unscoped copy of a scoped name", False)

    def _edits(self, name: str) -> Iterator[LookAlike]:
        """One or two edits from a popular name (Levenshtein finds them; a swap is two of its edits)."""
        for target, distance, _ in process.extract(name, self._near(len(name), 3), scorer=Levenshtein.distance,
                                                   score_cutoff=3, limit=None):  # a swap and one more: 3
            edit = one_edit(name, target) if distance <= 2 else None
            if edit is not None:
                technique, index, changed = edit
                strength = _one_edit_strength(technique, target, index, changed)
                if strength is not None:
                    yield LookAlike(target, technique, strength)
            elif DamerauLevenshtein.distance(name, target) == 2 and _plausible_two_edits(name, target):
                yield LookAlike(target, "two edits", False)

    def _combos(self, name: str) -> Iterator[LookAlike]:
        """A popular name with affix words around it, glued on or separated, possibly misspelt once; or a long
        popular name with a few letters of any word glued to its end (`fairsequence`)."""
        if len(_words(name)) == 1:
            for length in range(max(MIN_GLUED_LENGTH, len(name) - MAX_GLUED_LETTERS), len(name)):
                if name[:length] in self.members:
                    yield LookAlike(name[:length], "combosquatting with letters glued on", False)
        for core in _cores(name, self._affixes):
            if core in self.members:
                yield LookAlike(core, "combosquatting", False)
                continue
            for target, _, _ in process.extract(core, self._near(len(core), 2), scorer=Levenshtein.distance,
                                                score_cutoff=2, limit=None):
                edit = one_edit(core, target)
                if edit is not None and len(skeleton(target)) >= MIN_NAME_LENGTH and not edit[2] <= set("0123456789"):
                    yield LookAlike(target, f"combosquatting with {edit[0]}", False)


def brand_words(names: Iterable[str]) -> tuple[str, ...]:
    """The words that name many indexed packages, of any ecosystem: projects and brands that attackers
    imitate without a package of that exact name being popular (`python`, `ethereum`), most common first."""
    # Each word once a name, in the name's order: a set's order changes with the hash seed, and with it the order
    # of brands of equal counts, so the first target a hit names.
    counts = Counter(chain.from_iterable(map(dict.fromkeys, _words_each([name.lower() for name in names]))))
    brands = Counter({word: count for word, count in counts.items()
                      if count >= MIN_BRAND_NAMES and len(word) >= MIN_BRAND_LENGTH and not word.isdigit()})
    return tuple(word for word, _ in brands.most_common())  # equal counts: in first-seen order


def _unscoped_twin(name: str, target: str) -> bool:
    """`x-y` for `@x/y` (or the reverse): how packages moved into scopes, not only how attackers copy them."""
    scope, bare = split_scope(target)
    other_scope, other_bare = split_scope(name)
    if scope and not other_scope:
        return name == f"{scope[1:]}-{bare}"
    return bool(other_scope and not scope and target == f"{other_scope[1:]}-{other_bare}")


def _plausible_two_edits(name: str, target: str) -> bool:
    """Two edits in a long name, touching letters only (not a version, not a different last word)."""
    if min(len(skeleton(name)), len(skeleton(target))) < MIN_TWO_EDIT_LENGTH:
        return False
    if name[0] != target[0]:
        return False  # two edits and another first letter: another word
    differing = set(name) ^ set(target)
    if differing and all(c.isdigit() for c in differing):
        return False
    words, other = _words(name), _words(target)
    if len(words) == len(other) and len(words) > 1:  # same shape: one long word misspelt, or a letter moved
        changed = [(a, b) for a, b in zip(words, other, strict=True) if a != b]
        moved = sorted(skeleton(name)) == sorted(skeleton(target))
        return moved or (len(changed) == 1 and min(len(changed[0][0]), len(changed[0][1])) >= MIN_TWO_EDIT_LENGTH)
    return True


def _cores(name: str, affixes: Mapping[str, None]) -> Iterator[str]:
    """`name` without its affix words: split on separators, or an affix glued to either end."""
    words = list(_words(name))
    kept = [word for word in words if word not in affixes]
    if kept and len(kept) < len(words):
        yield "-".join(kept)
    if len(words) == 1:
        for affix in affixes:
            if name.endswith(affix) and len(name) - len(affix) >= MIN_NAME_LENGTH:
                yield name[:-len(affix)]
            if name.startswith(affix) and len(name) - len(affix) >= MIN_NAME_LENGTH:
                yield name[len(affix):]


def _word_key(words: Iterable[str]) -> str:
    return " ".join(sorted(words))


def _word_sets(names: Sequence[str], skeletons: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The names of several words by their words in any order (_word_key). A name its skeleton leaves as it is
    has no separator, so one word: only the others are split."""
    separated = [name for name, bare in zip(names, skeletons, strict=True) if len(bare) < len(name)]
    keys, several = [], []
    for name, words in zip(separated, map(tuple, _words_each(separated)), strict=True):
        if len(words) > 1:
            keys.append(_word_key(words))
            several.append(name)
    return _group(keys, several)


def _group(keys: Sequence[str], names: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each key's names (the `names` it is paired with), each name once; keys and names in first-seen order."""
    # (name,) for each key, as almost every key has one name; a key keeps the place where it was first seen
    grouped: dict[str, tuple[str, ...]] = dict(zip(keys, zip(names), strict=True))
    shared: dict[str, dict[str, None]] = {key: {} for key, count in Counter(keys).items() if count > 1}
    for key, name in zip(keys, names, strict=True):
        if key in shared:
            shared[key][name] = None  # each name once, in first-seen order
    grouped.update((key, tuple(together)) for key, together in shared.items())
    return grouped
