"""Scan benchmark: does running every scanner at once cost little more than the machine allows?

Prints two numbers (targets from the scan issue):
  scheduling: wall(tollgate scan, embedded defaults)  /  physical floor                           target ≤ 1.1
  start-up:   wall of `tollgate --help` (best of several runs)                                    target ≤ 0.3 s

No schedule beats the physical floor, max(slowest scanner alone, CPU seconds / cores): the scan
cannot end before its slowest scanner, nor before the cores have done all the CPU work. "Alone" is
the whole `tollgate scan --only SCANNER` (start-up and reports included, as in the full scan); the
CPU seconds are the whole full scan's (its process tree's rusage), of which the scanners' own, from
the results' `timing/` metrics, are listed per scanner. It exits 1 when either target is missed.

The scan is `tollgate scan examples/vulnerable-app` with examples/.tollgate.yml (the embedded
defaults) and Wapiti against the example app on 127.0.0.1. "Alone" is the same command with
`--only SCANNER`, for each scanner that completed in the full scan, run one after another. Each
is the best of `--rounds` runs, so a neighbour's burst of CPU does not decide the ratio. The runs
share one cache folder ($TOLLGATE_DATA_DIR, a temporary one), so from the second run on the
schedule starts from measured durations, as a CI job's does with its cache restored.
"""

from __future__ import annotations

import argparse
import json
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
TIMING = re.compile(r"^timing/(.+)/cpu-seconds$")
SCHEDULING_TARGET = 1.1
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


def environment(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "TOLLGATE_DATA_DIR": str(data_dir)}
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if "TOLLGATE_CHECKOV" not in env and checkov.exists():
        env["TOLLGATE_CHECKOV"] = str(checkov)
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_scan(url: str, extra: Sequence[str], out: Path) -> tuple[float, str, float, dict[str, float]]:
    """One `tollgate scan` run: its wall time, its progress output, the CPU seconds it used and each scanner's."""
    command = [sys.executable, "-m", "pipeline.cli", "scan", str(APP), "--config", str(CONFIG), "--dast-target", url,
               "--dast-allow", "127.0.0.1", "--out", str(out), "--repo", "bench/scan", *extra]
    cpu_before, started = children_cpu(), time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=environment(out.parent / "cache"), capture_output=True,
                               text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu_before
    if completed.returncode not in (0, 1):
        raise SystemExit(f"tollgate scan {' '.join(extra)} exited {completed.returncode}:\n{completed.stderr}")
    metrics = json.loads((out / "results.json").read_text(encoding="utf-8"))["metrics"]
    scanner_cpu = {match[1]: float(value) for key, value in metrics.items() if (match := TIMING.match(key))}
    return elapsed, completed.stderr, cpu, scanner_cpu


def best(rounds: int, url: str, extra: Sequence[str], out: Path) -> tuple[float, str, float, dict[str, float]]:
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
        together, progress, together_cpu, scanner_cpu = best(args.rounds, url, [], out)
        scanners = COMPLETED.findall(progress)
        alone = {name: best(args.rounds, url, ["--only", name], out) for name in scanners}
    slowest = max(alone, key=lambda name: alone[name][0])
    cores = len(os.sched_getaffinity(0))
    floor = max(alone[slowest][0], together_cpu / cores)
    ratio = together / floor
    startup = startup_seconds(args.rounds)
    for name, (seconds, _, cpu, _) in sorted(alone.items(), key=lambda item: -item[1][0]):
        print(f"  alone  {name:<16}{seconds:6.2f} s wall {cpu:6.2f} s CPU   in the full scan: "
              f"{scanner_cpu.get(name, 0.0):6.2f} s CPU")
    print(f"  all {len(scanners)} at once    {together:6.2f} s wall {together_cpu:6.2f} s CPU "
          f"(scanners {sum(scanner_cpu.values()):.2f}, Tollgate's own start-up, parsing and reports the rest)")
    print(f"floor: max(slowest alone: {slowest} {alone[slowest][0]:.2f} s, CPU {together_cpu:.2f} s / {cores} cores "
          f"= {together_cpu / cores:.2f} s) = {floor:.2f} s")
    print(f"scheduling: wall(scan) / floor = {together:.2f} / {floor:.2f} = {ratio:.2f} "
          f"(target <= {SCHEDULING_TARGET})")
    print(f"start-up: tollgate --help {startup:.3f} s (target <= {STARTUP_TARGET} s)")
    return 1 if ratio > SCHEDULING_TARGET or startup > STARTUP_TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
