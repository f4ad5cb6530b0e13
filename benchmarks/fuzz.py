"""The long fuzz run (`make fuzz`): N mutated real reports through `tollgate normalize`'s flow.

Prints `fuzz: N inputs, internal errors E, invalid outputs I, hangs H`, one line per distinct
failure, and saves each failing input under --keep (default: a temporary folder) to reproduce
with `tollgate normalize --debug <file> --repo o/r --sarif o.sarif --asff o.json`.
Mutations and the oracle are tests/fuzzing.py, which the bounded test in the suite uses too.
Exit status 1 when any input failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fuzzing lives beside the package, not in it

from tests.fuzzing import Verdict, judge, mutate, seeds  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=22, help="random seed: the same seed, the same inputs")
    parser.add_argument("--keep", type=Path, help="folder for failing inputs")
    args = parser.parse_args()
    keep = args.keep or Path(tempfile.mkdtemp(prefix="tollgate-fuzz-failures-"))
    keep.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)  # noqa: S311 - reproducible mutation, not cryptography
    corpus = [(path, path.read_bytes()) for path in seeds()]
    verdicts: Counter[Verdict] = Counter()
    seen: set[tuple[Verdict, str]] = set()
    started = time.monotonic()
    for index in range(args.inputs):
        path, seed = rng.choice(corpus)
        data = mutate(seed, rng)
        outcome = judge(data)
        verdicts[outcome.verdict] += 1
        if outcome.verdict in (Verdict.OK, Verdict.REFUSED):
            continue
        saved = keep / f"{index:06d}-{path.name}"
        saved.write_bytes(data)
        if (outcome.verdict, outcome.detail[:80]) not in seen:
            seen.add((outcome.verdict, outcome.detail[:80]))
            print(f"{outcome.verdict.value}: {path.name}: {outcome.detail} (input: {saved})")
    elapsed = time.monotonic() - started
    print(f"fuzz: {args.inputs} inputs, internal errors {verdicts[Verdict.INTERNAL]}, "
          f"invalid outputs {verdicts[Verdict.INVALID]}, hangs {verdicts[Verdict.HANG]} "
          f"({verdicts[Verdict.OK]} normalized, {verdicts[Verdict.REFUSED]} refused as input errors; "
          f"{elapsed:.0f} s, seed {args.seed})")
    return 1 if verdicts[Verdict.INTERNAL] + verdicts[Verdict.INVALID] + verdicts[Verdict.HANG] else 0


if __name__ == "__main__":
    sys.exit(main())
