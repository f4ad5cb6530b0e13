"""Normalize benchmark: a ≥50,000-finding Trivy report, against a floor measured in the same run.

Prints two ratios (targets from the core issue):
  time: tollgate normalize --sarif  /  (json.load + json.dump of the same report)   target ≤ 2
  rss:  peak RSS of the normalize process  /  report size on disk                   target ≤ 4

The report is built by replicating the vulnerability records of Trivy's own alpine-310 golden
output (tests/fixtures/trivy/), each copy given its own package name so nothing deduplicates away.
Each measurement runs in a fresh child process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from normalizers.model import Scope
from pipeline.flows.normalize import NormalizeRequest, normalize_reports, write_outputs

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "trivy" / "alpine-310.json.golden"


def build_report(path: Path, count: int) -> None:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    records = seed["Results"][0]["Vulnerabilities"]
    replicated = []
    for index in range(count):
        record = copy.deepcopy(records[index % len(records)])
        record["PkgName"] = f"{record['PkgName']}-{index}"
        record.get("PkgIdentifier", {}).pop("PURL", None)
        replicated.append(record)
    seed["Results"][0]["Vulnerabilities"] = replicated
    path.write_text(json.dumps(seed), encoding="utf-8")


def child_floor(report: Path, out: Path) -> None:
    with report.open(encoding="utf-8") as handle:
        document = json.load(handle)
    with out.open("w", encoding="utf-8") as handle:
        json.dump(document, handle)


def child_normalize(report: Path, out: Path) -> None:
    request = NormalizeRequest(reports=(str(report),), scope=Scope("bench/bench"), sarif_out=str(out))
    outcome = normalize_reports(request)
    write_outputs(outcome, request)
    if len(outcome.results.findings) < 50_000:
        raise SystemExit(f"only {len(outcome.results.findings)} findings: the benchmark is not measuring 50k")


def run_child(kind: str, report: Path, out: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one child run."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(report), str(out)], capture_output=True, text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{kind} child failed: {completed.stderr.strip()[-500:]}")
    return wall, int(completed.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "REPORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, report, out = args.child
        (child_floor if kind == "floor" else child_normalize)(Path(report), Path(out))
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux reports KiB
        return
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "trivy-50k.json"
        build_report(report, args.count)
        size = report.stat().st_size
        floor_wall, _ = run_child("floor", report, Path(work) / "floor.json")
        normalize_wall, normalize_rss = run_child("normalize", report, Path(work) / "out.sarif")
    print(f"report: {args.count} findings, {size / 1e6:.1f} MB")
    print(f"floor (json.load + json.dump): {floor_wall:.2f} s; normalize to SARIF: {normalize_wall:.2f} s")
    print(f"time ratio normalize/floor: {normalize_wall / floor_wall:.2f} (target <= 2)")
    print(f"peak RSS {normalize_rss / 1e6:.0f} MB; rss ratio peak/input: {normalize_rss / size:.2f} (target <= 4)")


if __name__ == "__main__":
    main()
