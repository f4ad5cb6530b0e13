"""Typosquats are flagged with their target; popular names, and the names just below them, mostly are not."""

from __future__ import annotations

from functools import cache

import orjson
import pytest

from normalizers.model import Severity
from pipeline.firewall.model import DeclaredPackage, Ecosystem, RuleId
from pipeline.firewall.popular import monthly_downloads, popular_names
from pipeline.firewall.popular.update import MIN_MONTHLY_DOWNLOADS, read_counts
from pipeline.firewall.typosquat import MAX_HIGH_RANK, OWN_SHARE, TyposquatIndex, brand_words
from tests.conftest import FIXTURES
from tests.pipeline.firewall.helpers import offline_firewall

SUPPLY_CHAIN = FIXTURES / "supply_chain"


@cache
def bundled_index(ecosystem: Ecosystem) -> TyposquatIndex:
    return TyposquatIndex(ecosystem, popular_names(ecosystem))


def first(name: str, ecosystem: Ecosystem = Ecosystem.PYPI) -> tuple[str, str, bool]:
    hit = bundled_index(ecosystem).look_alikes(name)[0]
    return hit.target, hit.technique, hit.explicit


@pytest.mark.parametrize("name, ecosystem, target, technique", [
    ("reqeusts", Ecosystem.PYPI, "requests", "transposition"),
    ("numppy", Ecosystem.PYPI, "numpy", "repetition"),
    ("numpyy", Ecosystem.PYPI, "numpy", "repetition"),
    ("crossenv", Ecosystem.NPM, "cross-env", "delimiter or scope variant"),
    ("request2", Ecosystem.PYPI, "requests", "replacement"),
    ("reqests", Ecosystem.PYPI, "requests", "omission"),
    ("pythondateutil", Ecosystem.PYPI, "python-dateutil", "delimiter or scope variant"),
    ("fiask", Ecosystem.PYPI, "flask", "homoglyph"),
    ("djang0", Ecosystem.PYPI, "django", "homoglyph"),
    ("@types-node", Ecosystem.NPM, "@types/node", "delimiter or scope variant"),
    ("@typescript_eslint/parser", Ecosystem.NPM, "@typescript-eslint/parser", "delimiter or scope variant"),
])
def test_known_typosquats_name_their_target(name: str, ecosystem: Ecosystem, target: str, technique: str) -> None:
    assert first(name, ecosystem) == (target, technique, True)


def test_fuzzy_similarity_and_unscoped_copies_are_the_weaker_signal() -> None:
    assert first("opentelemetry-instrumnetaton-flask") == (  # two edits in one word
        "opentelemetry-instrumentation-flask", "two edits", False)
    assert first("python-dateutils") == ("python-dateutil", "plural", False)  # singular/plural pairs are common
    assert first("types-node", Ecosystem.NPM) == ("@types/node", "delimiter or scope variant", False)
    assert first("dezcordjs", Ecosystem.NPM)[1:] == ("sound-alike", False)
    assert first("node-mongoose-orm", Ecosystem.NPM) == ("mongoose", "combosquatting", False)
    index = TyposquatIndex(Ecosystem.NPM, ["@acme/widgets-kit"])
    (hit,) = index.look_alikes("widgets-kit")
    assert (hit.target, hit.technique, hit.explicit) == ("@acme/widgets-kit", "unscoped copy of a scoped name", False)


def test_pep_503_spellings_are_the_package_itself() -> None:
    index = bundled_index(Ecosystem.PYPI)
    assert index.look_alikes("Python_DateUtil") == ()
    assert index.look_alikes("python.dateutil") == ()
    assert index.look_alikes("REQUESTS") == ()


def test_the_bundled_lists_are_real_and_large() -> None:
    pypi, npm = popular_names(Ecosystem.PYPI), popular_names(Ecosystem.NPM)
    assert len(pypi) >= 10_000 and len(npm) >= 10_000
    assert pypi[:3] == ("boto3", "packaging", "urllib3") and npm[:3] == ("semver", "minimatch", "debug")
    assert {"requests", "numpy", "python-dateutil", "django"} <= set(pypi)
    assert {"cross-env", "express", "lodash", "@types/node"} <= set(npm)


@pytest.mark.parametrize("ecosystem", list(Ecosystem))
def test_popular_names_checked_against_themselves_give_no_findings(ecosystem: Ecosystem) -> None:
    names = popular_names(ecosystem)
    index = bundled_index(ecosystem)
    assert [name for name in names if index.look_alikes(name)] == []


@pytest.mark.parametrize("ecosystem, limit", [(Ecosystem.PYPI, 0.01), (Ecosystem.NPM, 0.015)])
def test_false_positives_on_the_next_2000_popular_names(ecosystem: Ecosystem, limit: float) -> None:
    """Legitimate names ranked just below the bundled list: the few that look like a popular name are
    real look-alikes (`cchardet`/`chardet`, `babel-core`/`@babel/core`), kept under 1 % and 1.5 %."""
    names = (SUPPLY_CHAIN / f"popular-next-{ecosystem.value}.txt").read_text(encoding="utf-8").split()
    assert len(names) == 2000
    flagged = [name for name in names if bundled_index(ecosystem).look_alikes(name)]
    assert len(flagged) / len(names) <= limit, flagged


def test_allowlisted_and_unrelated_names_are_quiet() -> None:
    allowlisted = offline_firewall({"allowlist": [{"ecosystem": "pypi", "name": "reqeusts", "reason": "ours"}]})
    assert allowlisted.check(DeclaredPackage("reqeusts", Ecosystem.PYPI, "requirements.txt", 1)).hits == ()
    assert offline_firewall().check(DeclaredPackage("reqeusts", Ecosystem.PYPI, "requirements.txt", 1)).hits[0].rule \
        is RuleId.TYPOSQUAT
    index = bundled_index(Ecosystem.PYPI)
    assert index.look_alikes("tollgate") == ()
    assert index.look_alikes("uuid7-extra-tools") == ()


@pytest.mark.parametrize("name, ecosystem", [
    *((name, Ecosystem.PYPI) for name in (
        "requests-oauthlib", "types-requests", "pytest-cov", "djangorestframework", "Django", "python_dateutil",
        "requests-toolbelt", "types-PyYAML", "opencv-python-headless", "psycopg2-binary", "mypy-boto3-s3")),
    *((name, Ecosystem.NPM) for name in (
        "@types/node", "react-dom", "react", "@types/react-dom", "lodash.merge", "lodash-es", "cross-env",
        "@babel/core", "JSONStream")),
])
def test_real_popular_names_near_each_other_are_not_typosquats(name: str, ecosystem: Ecosystem) -> None:
    assert bundled_index(ecosystem).look_alikes(name) == ()


@pytest.mark.parametrize("name, ecosystem, neighbour", [
    ("is-object", Ecosystem.NPM, "isobject"), ("esbuild-linux-arm64", Ecosystem.NPM, "@esbuild/linux-arm64"),
    ("rollup-plugin-node-resolve", Ecosystem.NPM, "@rollup/plugin-node-resolve"),
    ("django-rest-framework", Ecosystem.PYPI, "djangorestframework"),
])
def test_a_name_that_is_itself_popular_is_never_a_typosquat(name: str, ecosystem: Ecosystem, neighbour: str) -> None:
    """Both names of each pair are in the index: the older unscoped originals of scoped packages among them."""
    index = bundled_index(ecosystem)
    assert index.is_popular(name) and index.is_popular(neighbour)
    assert index.look_alikes(name) == ()


def counted_index() -> TyposquatIndex:
    """The index the firewall builds: the popular lists, npm's download counts and the words of many names."""
    return offline_firewall().index(Ecosystem.NPM)


def test_the_bundled_download_counts_are_real_and_large() -> None:
    counts = monthly_downloads(Ecosystem.NPM)
    assert len(counts) >= 50_000 and list(counts)[:2] == ["semver", "ansi-styles"]
    assert list(counts.values()) == sorted(counts.values(), reverse=True)
    assert min(counts.values()) >= MIN_MONTHLY_DOWNLOADS
    assert monthly_downloads(Ecosystem.PYPI) == {}  # PyPI's registry serves no such list


@pytest.mark.parametrize("name, target", [("libpq", "libqp"), ("fuzzysearch", "fuzzy-search"), ("isutf8", "is-utf8")])
def test_a_look_alike_with_a_fair_share_of_the_downloads_is_a_package_of_its_own(name: str, target: str) -> None:
    """Strong patterns, but both names are real: each has at least 1/OWN_SHARE of the other's downloads."""
    index = counted_index()
    counts = index.downloads
    assert name not in index.members and counts[name] * OWN_SHARE >= counts[target] > counts[name]
    assert any(hit.target == target for hit in TyposquatIndex(Ecosystem.NPM, (target,)).look_alikes(name))
    assert index.look_alikes(name) == ()


def test_names_of_the_long_tail_are_targets_of_strong_patterns_only_and_medium() -> None:
    index = counted_index()
    assert "mysql-import" in index.downloads and "mysql-import" not in index.members
    (hit,) = index.look_alikes("import-mysql")
    assert (hit.target, hit.technique, hit.explicit) == ("mysql-import", "word order", False)


def test_words_of_many_package_names_are_targets_for_unknown_names() -> None:
    """`python` is no popular package, but hundreds carry its name: a strong typo of it, a sound-alike or an
    affixed copy is flagged (MEDIUM); a weak resemblance to such a word, or a name with real use, is not."""
    brands = brand_words(name for ecosystem in Ecosystem for name in (*popular_names(ecosystem),
                                                                       *monthly_downloads(ecosystem)))
    assert {"python", "typescript", "webpack"} <= set(brands) and "react" not in brands  # too short
    index = offline_firewall().index(Ecosystem.PYPI)
    assert [(h.target, h.technique, h.explicit) for h in index.look_alikes("pyhtno")] == []  # two edits: too weak
    assert [(h.target, h.technique, h.explicit) for h in index.look_alikes("pytohn")] == [
        ("python", "transposition of a name many packages carry", False)]
    assert [(h.target, h.technique) for h in index.look_alikes("opentelemetry-sdk-lite")] == [
        ("opentelemetry", "combosquatting of a name many packages carry")]
    assert index.look_alikes("opentelemetry-helpers") == ()  # another word: another package


def test_platform_words_and_swapped_letters_make_a_combosquat() -> None:
    (hit,) = bundled_index(Ecosystem.PYPI).look_alikes("requests-darwin-lite")
    assert (hit.target, hit.technique, hit.explicit) == ("requests", "combosquatting", False)
    (hit,) = bundled_index(Ecosystem.PYPI).look_alikes("reqeusts-lite")  # a swap is two Levenshtein edits
    assert (hit.target, hit.technique, hit.explicit) == ("requests", "combosquatting with transposition", False)


def test_a_long_popular_name_with_a_few_letters_glued_on_is_a_combosquat() -> None:
    index = bundled_index(Ecosystem.PYPI)
    assert [(h.target, h.technique, h.explicit) for h in index.look_alikes("cryptographyjet")] == [
        ("cryptography", "combosquatting with letters glued on", False)]
    assert index.look_alikes("cryptographyhelpers") == ()  # a whole other word: another package
    assert index.look_alikes("boto3jet") == ()  # too short a name: glued letters make other words


def test_read_counts_keeps_the_names_above_the_floor_most_downloaded_first() -> None:
    text = orjson.dumps({"a": 5, "b": MIN_MONTHLY_DOWNLOADS, "c": MIN_MONTHLY_DOWNLOADS * 3, "d": "x"}).decode()
    counts = read_counts(text, "test")
    assert counts.counts == (("c", MIN_MONTHLY_DOWNLOADS * 3), ("b", MIN_MONTHLY_DOWNLOADS))
    assert counts.source == f"test (monthly downloads >= {MIN_MONTHLY_DOWNLOADS:,})"


def test_strong_patterns_are_high_against_the_top_of_a_list_and_protected_names() -> None:
    """Attackers imitate the most popular names; below MAX_HIGH_RANK a name's neighbours are often as real
    as it is (`sgptools` is a real project beside `srptools`). A protected name counts as the top."""
    index = bundled_index(Ecosystem.PYPI)
    assert index.rank["requests"] <= MAX_HIGH_RANK < index.rank["srptools"]
    assert first("reqeusts")[2] is True
    hits = [(hit.target, hit.technique, hit.explicit) for hit in index.look_alikes("sgptools")]
    assert ("srptools", "replacement", False) in hits
    protected = offline_firewall({"protect": {"pypi": ["acme-billing-client"]}})
    (hit,) = protected.check(DeclaredPackage("acme-bilIing-client", Ecosystem.PYPI, "requirements.txt", 1)).hits
    assert (hit.similar, hit.severity) == (("acme-billing-client",), Severity.HIGH)
