"""Mutated real reports never crash `tollgate normalize`, never yield invalid SARIF or ASFF, never hang.

A bounded, reproducible budget here (derandomized, so CI sees the same inputs every run); the long
run is `make fuzz` (benchmarks/fuzz.py). Mutations and the oracle live in tests/fuzzing.py.
"""

from __future__ import annotations

import random
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalizers import raw_report
from tests.fuzzing import Verdict, judge, mutate, seeds

SEEDS = seeds()
# About 25 s on an idle 2-core machine; a failing input is printed by hypothesis with its seed file.
BUDGET = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_the_seeds_are_real_reports_of_every_family() -> None:
    folders = {path.parent.name for path in SEEDS}
    assert {"trivy", "sarif", "zap", "dependency_check", "wapiti", "asff", "sonarqube", "report"} <= folders
    assert all(judge(path.read_bytes()).verdict in (Verdict.OK, Verdict.REFUSED) for path in SEEDS)


@BUDGET
@given(seed=st.sampled_from(SEEDS), mutation=st.integers(min_value=0, max_value=2**32 - 1))
def test_a_mutated_report_is_normalized_or_refused(seed: Path, mutation: int) -> None:
    # An integer seeds the mutator: hypothesis's own Random favours small draws (the first path, the
    # first replacement), which would leave most of each report unmutated.
    outcome = judge(mutate(seed.read_bytes(), random.Random(mutation)))  # noqa: S311 - not cryptography
    assert outcome.verdict in (Verdict.OK, Verdict.REFUSED), f"{seed.name}: {outcome.verdict.value}: {outcome.detail}"


@settings(BUDGET, max_examples=300)
@given(seed=st.sampled_from(SEEDS), mutation=st.integers(min_value=0, max_value=2**32 - 1))
def test_a_mutated_report_read_as_a_big_one_is_normalized_or_refused(seed: Path, mutation: int) -> None:
    # Every report takes the path of a big one: sniffed on its outline, long arrays read item by item.
    with mock.patch.object(raw_report, "STREAM_BYTES", 0), mock.patch.object(raw_report, "STREAMED_ARRAY_ITEMS", 2):
        outcome = judge(mutate(seed.read_bytes(), random.Random(mutation)))  # noqa: S311 - not cryptography
    assert outcome.verdict in (Verdict.OK, Verdict.REFUSED), f"{seed.name}: {outcome.verdict.value}: {outcome.detail}"
