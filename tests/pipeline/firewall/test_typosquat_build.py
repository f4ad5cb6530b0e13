"""The typosquat index is built with shortcuts (all names folded at once, a skeleton per name, one-word names not
split): it must hold exactly what folding and grouping each name on its own gives, in the same order."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable

import pytest

from pipeline.commands.firewall import serve
from pipeline.firewall import engine
from pipeline.firewall.model import DeclaredPackage, Ecosystem, RuleId
from pipeline.firewall.names import normalize, split_scope
from pipeline.firewall.server import PackageCheckServer
from pipeline.firewall.typosquat import (
    MIN_BRAND_LENGTH,
    MIN_BRAND_NAMES,
    MIN_SOUND_LENGTH,
    TyposquatIndex,
    brand_words,
    confusable,
    skeleton,
    sounds,
)
from tests.pipeline.firewall.helpers import offline_firewall

# Names whose folds take every path: separator runs, scopes, the multi-letter homoglyphs (`rn`, `vv`) and the
# one-letter ones (digits, `i`), sound folds (`ph`, `ck`, runs of a letter and of vowels), upper case, no word at
# all, a non-ASCII letter, and a newline (a configured name may hold anything; it is folded on its own).
TRICKY = ("@types/node", "python-dateutil", "rnodern-vvidget", "Rn.VV_0l5", "i0n1-5ix", "aaa--bbb__ccc",
          "phickzq-apply", "bookkeeper", "pyyaml", "x\ny", "", "@/", "café-σ")


@pytest.mark.parametrize("name, bare, folded, said", [  # the values of the per-name code before the shortcuts
    ("@types/node", "typesnode", "typesnode", "tapasnada"),
    ("python-dateutil", "pythondateutil", "pythondateutll", "pathandatatal"),
    ("rnodern-vvidget", "rnodernvvidget", "modemwldget", "rnadarnvadgat"),
    ("Rn.VV_0l5", "RnVV0l5", "RnVVols", "RnV0l5"),
    ("i0n1-5ix", "i0n15ix", "lonlslx", "a0n15ax"),
    ("aaa--bbb__ccc", "aaabbbccc", "aaabbbccc", "abc"),
    ("phickzq-apply", "phickzqapply", "phlckzqapply", "facscapla"),
    ("bookkeeper", "bookkeeper", "bookkeeper", "bacapar"),
    ("x\ny", "x\ny", "x\ny", "x\na"),
    ("@/", "", "", ""),
    ("café-σ", "caféσ", "caféσ", "caféσ"),
])
def test_each_fold_of_a_name(name: str, bare: str, folded: str, said: str) -> None:
    assert (skeleton(name), confusable(name), sounds(name)) == (bare, folded, said)


def words(name: str) -> list[str]:
    return [word for word in re.split(r"[-_./@]+", name) if word]


def grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Each key's names, each once, keys and names in first-seen order: the index's grouping, one pair at a time."""
    found: dict[str, dict[str, None]] = {}
    for key, name in pairs:
        found.setdefault(key, {})[name] = None
    return {key: tuple(names) for key, names in found.items()}


def in_order(mapping: dict[str, tuple[str, ...]]) -> list[tuple[str, tuple[str, ...]]]:
    return list(mapping.items())  # equal dicts may differ in order; the index's order is part of its answers


@pytest.mark.parametrize("ecosystem", list(Ecosystem))
def test_the_index_holds_what_each_name_folded_alone_gives(ecosystem: Ecosystem) -> None:
    names = (*TRICKY, "@acme/widgets-kit", "@ACME/Rn-Tools", "widgets-kit", "acme-widgets-kit", "kit-widgets",
             "typesnode", "modemwidget", "rnodern-vvidget", "python-dateutil", "Python_DateUtil", "phickzq.apply")
    downloads = {"dateutil-python": 50, "node-types": 40, "x\nz": 30, "modern-widget": 20}
    brands = ("widgets", "pythonic", "rnodernly", "dateutil")
    index = TyposquatIndex(ecosystem, names, downloads, brands)
    listed = [normalize(name, ecosystem) for name in names]
    assert index.popular == tuple(dict.fromkeys((*listed, *downloads)))
    assert in_order(index._skeleton) == in_order(grouped((skeleton(name), name) for name in index.popular))
    assert in_order(index._confusable) == in_order(grouped((confusable(name), name) for name in index.popular))
    assert in_order(index._sounds) == in_order(grouped((sounds(name), name) for name in listed
                                                       if len(skeleton(name)) >= MIN_SOUND_LENGTH))
    assert in_order(index._word_sets) == in_order(grouped((" ".join(sorted(words(name))), name)
                                                          for name in index.popular if len(words(name)) > 1))
    assert in_order(index._bare) == in_order(grouped((split_scope(name)[1], name) for name in listed
                                                     if split_scope(name)[0]))
    assert in_order(index._brand_sounds) == in_order(grouped(
        (sounds(brand), brand) for brand in brands if brand not in index.rank and len(brand) >= MIN_SOUND_LENGTH))
    assert len(index._word_sets["dateutil python"]) > 1  # groups of several names, too
    assert ("acme-widgets-kit", "word order") in {(hit.target, hit.technique)
                                                  for hit in index.look_alikes("kit-acme-widgets")}


def test_brand_words_count_each_word_once_a_name() -> None:
    names = [*TRICKY, *(f"Python-{n}_python" for n in range(12)), *(f"@ethereum/tool{n}" for n in range(10)),
             *(f"pythonic.{n}" for n in range(9)), *("123456-abcdef" for _ in range(10)),
             *(f"widget-{n}-widget" for n in range(5))]
    counts = Counter(word for name in names for word in dict.fromkeys(words(name.lower()))
                     if len(word) >= MIN_BRAND_LENGTH and not word.isdigit())
    assert brand_words(names) == tuple(word for word, count in counts.most_common() if count >= MIN_BRAND_NAMES)
    # `pythonic` is in 9 names, `widget` in 5 (twice in each), `123456` is digits
    assert set(brand_words(names)) == {"python", "ethereum", "abcdef"}


def test_brand_words_of_equal_counts_keep_the_order_they_were_first_seen_in() -> None:
    """Not a set's order, which changes with the hash seed: the first target of a hit would change between runs."""
    tied = ("kappaword", "alphaword", "omegaword", "deltaword", "sigmaword", "gammaword")
    assert brand_words(["-".join(tied)] * MIN_BRAND_NAMES) == tied


def test_a_firewall_builds_the_index_of_the_ecosystems_it_checks_only(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Ecosystem] = []
    build = engine.typosquat_index
    monkeypatch.setattr(engine, "typosquat_index", lambda eco, protected: built.append(eco) or build(eco, protected))
    firewall = offline_firewall()
    hits = firewall.check(DeclaredPackage("reqeusts", Ecosystem.PYPI, "requirements.txt", 1, version="2.31.0")).hits
    assert [hit.rule for hit in hits if hit.rule is RuleId.TYPOSQUAT] == [RuleId.TYPOSQUAT]
    assert set(built) == {Ecosystem.PYPI}


def test_the_api_server_builds_every_index_before_it_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its first answer must be as quick as the rest, not pay for a build."""
    built: list[Ecosystem] = []
    build = engine.typosquat_index
    monkeypatch.setattr(engine, "typosquat_index", lambda eco, protected: built.append(eco) or build(eco, protected))
    listening: list[set[Ecosystem]] = []

    def serve_forever(self: PackageCheckServer, poll_interval: float = 0.5) -> None:
        listening.append(set(built))
        raise KeyboardInterrupt

    monkeypatch.setattr(PackageCheckServer, "serve_forever", serve_forever)
    assert serve(offline_firewall(), argparse.Namespace(host="127.0.0.1", port=0, verbose=False)) == 0
    assert listening == [set(Ecosystem)]

