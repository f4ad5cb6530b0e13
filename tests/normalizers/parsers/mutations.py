"""Seeded type corruption of real reports: a parser must turn any wrong-typed field into a Finding,
a Skipped record or a NormalizerError, and never into a traceback or a Finding that cannot be serialized."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import orjson

from normalizers.errors import NormalizerError
from normalizers.identity import with_fingerprints
from normalizers.model import Finding
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.raw_report import Report
from normalizers.results import finding_to_dict

WRONG_VALUES: tuple[Any, ...] = (None, 1, 2.5, True, "", "x", [], ["x"], [None], {}, {"x": 1})


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node[:3]) if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def corrupted(document: Any, rng: random.Random) -> Any:
    """A copy with one to three values, anywhere in the tree, replaced by a value of another type."""
    copied = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        *parents, last = rng.choice(list(_paths(copied))[1:])
        node = copied
        for key in parents:
            node = node[key]
        node[last] = copy.deepcopy(rng.choice(WRONG_VALUES))
    return copied


def assert_never_crashes(parser: Parser, raw: bytes, rounds: int, seed: int) -> int:
    """Parse `rounds` corruptions of `raw`; returns how many were refused with a NormalizerError."""
    rng = random.Random(seed)  # noqa: S311 - reproducible corruption, not a secret
    document = orjson.loads(raw)
    refused = 0
    for _ in range(rounds):
        report = Report("corrupted.json", orjson.dumps(corrupted(document, rng)))
        try:
            items = list(parser.parse(report, ParseOptions("/src")))
        except NormalizerError:
            refused += 1
            continue
        findings = with_fingerprints(item for item in items if isinstance(item, Finding))
        orjson.dumps([finding_to_dict(f) for f in findings])
    return refused
