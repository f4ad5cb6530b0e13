"""Scan benchmark: does running every scanner at once cost little more than the slowest one?

Prints two numbers (targets from the scan issue):
  concurrency: wall(tollgate scan, embedded defaults)  /  max(wall of each scanner run alone)   target ≤ 1.2
  start-up:    wall of `tollgate --help` (best of several runs)                                  target ≤ 0.3 s

Scanners are processes that need CPU, so on a machine with few cores the concurrent scan cannot
beat (CPU seconds of all scanners) / cores. The benchmark prints that floor as a ratio too, so a
result above target says whether the orchestration or the machine is the limit. It exits 1 when
start-up misses its target, or when the ratio does while the machine's floor would allow it.

The scan is `tollgate scan examples/vulnerable-app` with examples/.tollgate.yml (the embedded
defaults) and Wapiti against the example app on 127.0.0.1. "Alone" is the same command with
`--only SCANNER`, for each scanner that completed in the full scan, run one after another. Each
is the best of `--rounds` runs, so a neighbour's burst of CPU does not decide the ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "examples" / "vulnerable-app"
CONFIG = ROOT / "examples" / ".tollgate.yml"
COMPLETED = re.compile(r"^tollgate: (\S+): completed in", re.MULTILINE)
CONCURRENCY_TARGET = 1.2
STARTUP_TARGET = 0.3


@contextmanager
def example_app() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, str(APP / "app.py"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())
        assert match, "the example app did not start"
        yield match[0]
    finally:
        process.terminate()
        process.wait(timeout=10)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if "TOLLGATE_CHECKOV" not in env and checkov.exists():
        env["TOLLGATE_CHECKOV"] = str(checkov)
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_scan(url: str, extra: Sequence[str], out: Path) -> tuple[float, str, float]:
    """One `tollgate scan` run: its wall time, its progress output and the CPU seconds it used."""
    command = [sys.executable, "-m", "pipeline.cli", "scan", str(APP), "--config", str(CONFIG), "--dast-target", url,
               "--dast-allow", "127.0.0.1", "--out", str(out), "--repo", "bench/scan", *extra]
    cpu_before, started = children_cpu(), time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=environment(), capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu_before
    if completed.returncode not in (0, 1):
        raise SystemExit(f"tollgate scan {' '.join(extra)} exited {completed.returncode}:\n{completed.stderr}")
    return elapsed, completed.stderr, cpu


def best(rounds: int, url: str, extra: Sequence[str], out: Path) -> tuple[float, str, float]:
    runs = [timed_scan(url, extra, out / f"{'-'.join(extra) or 'all'}-{index}") for index in range(rounds)]
    return min(runs, key=lambda run: run[0])


def startup_seconds(rounds: int) -> float:
    times = []
    for _ in range(max(rounds, 5)):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2, help="runs per measurement; the best counts (default: 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tollgate-bench-") as folder, example_app() as url:
        out = Path(folder)
        together, progress, together_cpu = best(args.rounds, url, [], out)
        scanners = COMPLETED.findall(progress)
        alone = {name: best(args.rounds, url, ["--only", name], out) for name in scanners}
    slowest = max(alone, key=lambda name: alone[name][0])
    ratio = together / alone[slowest][0]
    cores = len(os.sched_getaffinity(0))
    floor = max(1.0, together_cpu / cores / alone[slowest][0])
    startup = startup_seconds(args.rounds)
    for name, (seconds, _, cpu) in sorted(alone.items(), key=lambda item: -item[1][0]):
        print(f"  alone  {name:<16}{seconds:6.2f} s wall {cpu:6.2f} s CPU")
    print(f"  all {len(scanners)} at once    {together:6.2f} s wall {together_cpu:6.2f} s CPU")
    print(f"concurrency: wall(scan) / max(alone: {slowest}) = {together:.2f} / {alone[slowest][0]:.2f} = {ratio:.2f} "
          f"(target <= {CONCURRENCY_TARGET}; CPU floor on {cores} cores: {floor:.2f})")
    print(f"start-up: tollgate --help {startup:.3f} s (target <= {STARTUP_TARGET} s)")
    if ratio > CONCURRENCY_TARGET and floor > CONCURRENCY_TARGET:
        print(f"note: the scanners need {together_cpu:.1f} CPU seconds; on {cores} cores no scheduling reaches "
              f"{CONCURRENCY_TARGET} (it takes about {together_cpu / alone[slowest][0]:.0f} cores)")
    orchestration_limited = ratio > CONCURRENCY_TARGET and floor <= CONCURRENCY_TARGET
    return 1 if orchestration_limited or startup > STARTUP_TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
