"""Typosquat accuracy: recall on known typosquats, false positives on real lockfiles.

Prints
- recall: the share of rows of a typosquat CSV (columns `malicious_package`, `target_package`,
  `ecosystem`) that the firewall flags as a typosquat, and the misses;
- false positives: every manifest and lockfile under the given folders (those
  `tollgate scan` reads, never inside node_modules) is read, and each distinct
  (ecosystem, name) is checked; a typosquat hit on a real project's dependency is a false
  positive. Given per 1,000 packages, HIGH ones separately, each named.

The firewall runs offline on an empty registry cache: only the checks that need no registry
answer (the name checks) speak, as in a default `tollgate scan`.

  python benchmarks/firewall_accuracy.py --typosquats known.csv --projects repo1 repo2 ...

Exits 1 when recall is below `--min-recall` or any HIGH false positive is found.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from normalizers.model import Severity
from pipeline.firewall.config import firewall_config_from_section
from pipeline.firewall.engine import Firewall
from pipeline.firewall.manifests import is_manifest, read_manifests
from pipeline.firewall.model import DeclaredPackage, Ecosystem, Hit, RuleId
from pipeline.firewall.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Known:
    name: str
    target: str
    ecosystem: Ecosystem


def read_known(path: Path) -> list[Known]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [Known(row["malicious_package"], row["target_package"], Ecosystem(row["ecosystem"]))
                for row in csv.DictReader(handle) if row["ecosystem"] in {e.value for e in Ecosystem}]


def project_packages(folders: Iterable[Path]) -> list[DeclaredPackage]:
    """One entry per distinct (ecosystem, name) declared in any manifest under `folders`."""
    unique: dict[tuple[Ecosystem, str], DeclaredPackage] = {}
    for folder in folders:
        paths = [p for p in sorted(folder.rglob("*")) if p.is_file() and is_manifest(p.name)
                 and "node_modules" not in p.relative_to(folder).parts]
        for package in read_manifests(folder, paths).packages:
            unique.setdefault((package.ecosystem, package.name.lower()), package)
    return list(unique.values())


def offline_firewall(cache: Path) -> Firewall:
    config = firewall_config_from_section({}, "benchmark", cache)
    return Firewall(config, Registry(replace(config.registry, cache_dir=cache, offline=True), env={}))


def typosquat_hit(firewall: Firewall, package: DeclaredPackage) -> Hit | None:
    return next((hit for hit in firewall.check(package).hits if hit.rule is RuleId.TYPOSQUAT), None)


def main(argv: list[str] | None = None) -> int:
    shared = ROOT.parent / "shared"  # the optional material beside the checkout (docs/development.md)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--typosquats", type=Path, default=shared / "supply-chain" / "typosquats-train.csv")
    parser.add_argument("--projects", type=Path, nargs="*",
                        default=[*sorted(p for p in (shared / "realworld").glob("*") if p.is_dir()), ROOT / "examples"])
    parser.add_argument("--planted", nargs="*", default=["reqeusts"],
                        help="typosquats a project declares on purpose (examples/vulnerable-app's, see its README): "
                             "expected, not false positives")
    parser.add_argument("--min-recall", type=float, default=0.9)
    parser.add_argument("--verbose", action="store_true", help="list every false positive, not only HIGH ones")
    args = parser.parse_args(argv)
    missing = [str(p) for p in (args.typosquats, *args.projects) if not p.exists()]
    if missing:
        print(f"firewall_accuracy: not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tollgate-accuracy-") as cache:
        firewall = offline_firewall(Path(cache))
        known = read_known(args.typosquats)
        misses = [k for k in known if typosquat_hit(firewall, DeclaredPackage(k.name, k.ecosystem, "csv", 0)) is None]
        recall = 1 - len(misses) / len(known)
        print(f"recall: {len(known) - len(misses)}/{len(known)} = {recall:.1%} ({args.typosquats.name})")
        for k in misses:
            print(f"  missed {k.ecosystem.value} {k.name} -> {k.target}")
        packages = project_packages(args.projects)
        planted = [p.name for p in packages if p.name in args.planted and typosquat_hit(firewall, p)]
        packages = [p for p in packages if p.name not in args.planted]
        flagged = [(p, hit) for p in packages if (hit := typosquat_hit(firewall, p)) is not None]
        high = [(p, hit) for p, hit in flagged if hit.severity.rank >= Severity.HIGH.rank]
        per_mille = 1000 / max(len(packages), 1)
        print(f"false positives: {len(flagged)} in {len(packages)} real packages = {len(flagged) * per_mille:.1f} "
              f"per 1,000; HIGH: {len(high)} = {len(high) * per_mille:.1f} per 1,000 "
              f"({', '.join(p.name for p in args.projects)})")
        print(f"planted typosquats flagged: {len(planted)}/{len(args.planted)}")
        for package, hit in flagged if args.verbose else high:
            print(f"  {hit.severity.value:<6} {package.ecosystem.value} {package.name} ({package.manifest}): "
                  f"{hit.title}")
    return 0 if recall >= args.min_recall and not high and len(planted) == len(args.planted) else 1


if __name__ == "__main__":
    sys.exit(main())
