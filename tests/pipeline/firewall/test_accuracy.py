"""Typosquat accuracy on real data: recall on confirmed malicious names, no HIGH finding on real lockfiles.

The known typosquats are rows of the public ecosyste.ms Typosquatting Dataset (CC0; a sample in
tests/fixtures/firewall/, the training half beside the repository when present). Recall is asked
of the rows whose target is in the bundled popularity index: the check compares a name with that
index, so a target absent from it (a name never published on the registry, such as a project
installed from its Git repository) can only be protected through `firewall.protect`; those rows
are counted and their share bounded too. The real lockfiles are those of three public
repositories beside the repository (pygoat, terragoat, click) and the bundled example.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from normalizers.model import Severity
from pipeline.firewall.manifests import is_manifest, read_manifests
from pipeline.firewall.model import DeclaredPackage, Ecosystem, RuleId
from tests.conftest import FIXTURES, REALWORLD, ROOT, SHARED
from tests.pipeline.firewall.helpers import offline_firewall

SAMPLE = FIXTURES / "firewall" / "typosquats-sample.csv"
TRAINING = SHARED / "supply-chain" / "typosquats-train.csv"
PLANTED = {"reqeusts"}  # examples/vulnerable-app declares it on purpose (its README)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["ecosystem"] in {e.value for e in Ecosystem}]


def recall(path: Path) -> tuple[float, float, list[str]]:
    """(recall on rows with an indexed target, recall on all rows, the misses)."""
    firewall = offline_firewall()
    results = []  # (flagged, target in the index) per row
    misses = []
    for row in rows(path):
        ecosystem = Ecosystem(row["ecosystem"])
        verdict = firewall.check(DeclaredPackage(row["malicious_package"], ecosystem, "known.csv", 1))
        flagged = any(hit.rule is RuleId.TYPOSQUAT for hit in verdict.hits)
        results.append((flagged, firewall.indexes[ecosystem].is_popular(row["target_package"])))
        if not flagged:
            misses.append(f"{row['malicious_package']} -> {row['target_package']}")
    indexed = [flagged for flagged, in_index in results if in_index]
    return sum(indexed) / len(indexed), sum(flagged for flagged, _ in results) / len(results), misses


def test_recall_on_the_bundled_sample() -> None:
    on_indexed, overall, misses = recall(SAMPLE)
    assert on_indexed >= 0.9 and overall >= 0.75, misses


def test_recall_on_the_training_half() -> None:
    if not TRAINING.is_file():
        pytest.skip(f"the known-typosquat training set is absent ({TRAINING})")
    on_indexed, overall, misses = recall(TRAINING)
    assert on_indexed >= 0.9 and overall >= 0.8, misses


def real_packages() -> list[DeclaredPackage]:
    folders = [*sorted(p for p in REALWORLD.glob("*") if p.is_dir()), ROOT / "examples"]
    packages = []
    for folder in folders:
        paths = [p for p in sorted(folder.rglob("*")) if p.is_file() and is_manifest(p.name)
                 and "node_modules" not in p.relative_to(folder).parts]
        packages += read_manifests(folder, paths).packages
    return packages


def test_real_lockfiles_give_no_high_typosquat() -> None:
    if not REALWORLD.is_dir():
        pytest.skip(f"the real-world repositories are absent ({REALWORLD})")
    packages = real_packages()
    assert len(packages) > 1000  # terragoat's npm lockfiles alone hold more
    firewall = offline_firewall()
    high = [f"{p.manifest}: {p.name}: {h.title}" for p in packages if p.name not in PLANTED
            for h in firewall.check(p).hits if h.rule is RuleId.TYPOSQUAT and h.severity.rank >= Severity.HIGH.rank]
    assert high == []


def test_popular_dependents_are_evidence_never_an_exemption() -> None:
    firewall = offline_firewall()
    alone = firewall.check(DeclaredPackage("crossenv", Ecosystem.NPM, "package-lock.json", 1))
    depended = firewall.check(DeclaredPackage("crossenv", Ecosystem.NPM, "package-lock.json", 1,
                                              required_by=("express", "not-a-popular-name")))
    assert [h.severity for h in alone.hits] == [Severity.HIGH]
    (hit,) = depended.hits
    assert hit.severity is Severity.MEDIUM
    assert "1 popular package(s) in the lockfile depend on it (express)" in hit.detail


def test_package_lock_entries_name_their_dependents(tmp_path: Path) -> None:
    lock = tmp_path / "package-lock.json"
    lock.write_text('{"lockfileVersion": 3, "packages": {"": {"dependencies": {"a": "1.0.0"}},'
                    '"node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^2"}},'
                    '"node_modules/b": {"version": "2.0.0"}}}', encoding="utf-8")
    by_name = {p.name: p.required_by for p in read_manifests(tmp_path, [lock]).packages}
    assert by_name == {"a": (), "b": ("a",)}
