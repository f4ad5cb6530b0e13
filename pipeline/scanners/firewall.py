"""The supply-chain firewall as a scanner: every manifest and lockfile in the repository, every check.

It reads `requirements*.txt`, `pyproject.toml`, `poetry.lock`, `Pipfile.lock`, `package.json`,
`package-lock.json`, `npm-shrinkwrap.json` and `yarn.lock` (never those inside `node_modules`,
which belong to installed dependencies), checks each declared package (pipeline/firewall/engine.py)
and writes a Tollgate supply-chain report for normalizers/parsers/supply_chain.py.

Network: `offline: true` (the embedded default) reads registry metadata from the on-disk cache
only. Typosquatting, the blocklist, quarantine of pinned versions and unpinned internal names need
no registry and always run; the reputation score and "does this internal name exist publicly"
need metadata, and the scan's notes say how many packages had none. So does the release-age gate:
a package it could not date is listed under `not_checked` with the reason (a counted skip once
parsed), never passed. `offline: false` queries the
registries (cached for `firewall.registry.ttl-hours`). The policy lists and the points table live
in the `firewall:` section of the same `.tollgate.yml`.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

import orjson

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.atomic import write_atomic
from pipeline.errors import ScannerError
from pipeline.firewall.config import load_firewall_config
from pipeline.firewall.engine import Firewall, Verdict
from pipeline.firewall.findings_document import build_report, finding_record
from pipeline.firewall.manifests import is_manifest, read_manifests
from pipeline.firewall.model import DeclaredPackage, ManifestProblem
from pipeline.firewall.registry import Registry, Status
from pipeline.firewall.release_age import AgeStatus
from pipeline.scanners.base import (
    Options,
    ReportFile,
    ScanContext,
    Scanner,
    ScannerOutput,
    ScannerSpec,
    ScannerTimeout,
    SkipKind,
    SkipReason,
    find_files,
)
from pipeline.scanners.schema import BOOLEAN

WORKERS = 8  # registry lookups wait on the network, not the CPU


def manifests(ctx: ScanContext) -> list[Path]:
    return [path for path in find_files(ctx, is_manifest) if "node_modules" not in path.parts]


class SupplyChain(Scanner):
    spec = ScannerSpec(
        name="firewall",
        title="supply-chain firewall",
        category=Category.SUPPLY_CHAIN,
        tool_ids=(ToolId.SUPPLY_CHAIN,),
        install="built into Tollgate",
        timeout=600,
        homepage="https://github.com/tollgate-dev/tollgate/blob/main/docs/firewall.md",
        expected_seconds=0.5, memory_mb=150,
        options={"offline": BOOLEAN},
        defaults={"offline": True},
    )

    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        load_firewall_config(ctx.config_path)  # a bad `firewall:` section stops the scan before it starts (exit 2)
        if not manifests(ctx):
            return SkipReason(SkipKind.NOTHING_TO_SCAN, "no requirements*.txt, pyproject.toml, lockfile or "
                              "package.json found")
        return None

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        config = load_firewall_config(ctx.config_path)
        offline = bool(options.get("offline", True))
        registry = Registry(replace(config.registry, offline=offline), ctx.env)
        collected = read_manifests(ctx.source, manifests(ctx))
        verdicts, cpu_seconds = check_all(Firewall(config, registry), collected.packages, deadline)
        findings = [finding_record(v.package, hit, v.score) for v in verdicts for hit in v.all_hits()]
        undated = [problem for v in verdicts if (problem := _age_not_checked(v)) is not None]
        notes = _notes(verdicts, len(collected.problems), len(undated), offline)
        report = build_report(manifests=(p.manifest for p in collected.packages), packages=len(collected.packages),
                              findings=findings, problems=[*collected.problems, *undated], notes=notes,
                              offline=offline)
        path = ctx.folder(self.spec.name) / "supply-chain.json"
        write_atomic(path, orjson.dumps(report, option=orjson.OPT_INDENT_2))
        return ScannerOutput(reports=(ReportFile(path, ToolId.SUPPLY_CHAIN),), notes=tuple(notes),
                             cpu_seconds=cpu_seconds)


def check_all(firewall: Firewall, packages: list[DeclaredPackage],
              deadline: float) -> tuple[list[Verdict], float]:
    """Every package checked on a few threads, in manifest order, and the CPU seconds those threads spent (the
    typosquat index is built on one of them): the scanner's own, which the schedule weighs. ScannerTimeout past
    the deadline."""
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="tollgate-firewall") as pool:
        futures = [pool.submit(_timed_check, firewall, package) for package in packages]
        done, pending = wait(futures, timeout=max(deadline - time.monotonic(), 0.001))
        for future in pending:
            future.cancel()
        if pending:
            raise ScannerTimeout(f"the supply-chain firewall checked {len(done)} of {len(packages)} packages "
                                 "before its timeout")
        failed = next((f.exception() for f in futures if f.exception() is not None), None)
        if failed is not None:
            raise ScannerError(f"the supply-chain firewall failed: {failed.__class__.__name__}: {failed}")
        checked = [future.result() for future in futures]
    return [verdict for verdict, _ in checked], sum(cpu for _, cpu in checked)


def _timed_check(firewall: Firewall, package: DeclaredPackage) -> tuple[Verdict, float]:
    started = time.thread_time()
    return firewall.check(package), time.thread_time() - started


def _age_not_checked(verdict: Verdict) -> ManifestProblem | None:
    """A release age the gate could not judge: listed under not_checked, so the parser counts it as skipped."""
    age, package = verdict.release_age, verdict.package
    if age is None or age.status is not AgeStatus.NOT_CHECKED:
        return None
    return ManifestProblem(package.manifest, package.line, f"release age of {package.name}: {age.detail}")


def _notes(verdicts: list[Verdict], not_checked: int, undated: int, offline: bool) -> list[str]:
    unknown = sum(1 for v in verdicts if v.lookup is Status.UNKNOWN)
    missing = sum(1 for v in verdicts if v.lookup is Status.MISSING)
    counts = [f"{len(verdicts)} packages checked", f"{missing} not on the public registry" if missing else "",
              f"{not_checked} manifest entries not checked" if not_checked else "",
              f"{undated} release ages not checked (listed under not_checked)" if undated else ""]
    notes = [", ".join(part for part in counts if part)]
    if unknown and offline:
        notes.append(f"offline: registry metadata comes from the cache only, and {unknown} packages are not in it, so "
                     "they have no reputation score (scan.scanners.firewall.offline: false queries the registries)")
    elif unknown:
        notes.append(f"{unknown} packages have no reputation score: their registry metadata could not be read")
    return notes


SCANNER = SupplyChain()
SCANNERS = (SCANNER,)
