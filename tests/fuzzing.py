"""Structure-aware mutation of real fixture reports, and the oracle every mutant must satisfy.

Shared by the bounded fuzz test (tests/normalizers/test_fuzz.py) and the long run
(benchmarks/fuzz.py, `make fuzz`). The seeds are the real reports under tests/fixtures (their
SOURCES files name where each came from); a mutant is one seed with a few mutations applied:
JSON and XML values swapped for other types, deep nesting, huge numbers, non-finite numbers,
lone surrogates, whitespace-only and huge strings, deleted keys; then, sometimes, the bytes
themselves are truncated, re-encoded or given stray bytes.

The oracle: `tollgate normalize` either exits 0 with a SARIF file that passes the OASIS and
GitHub schemas plus GitHub's rules and ASFF that passes Tollgate's validator, or refuses the
input as an input error (exit 2, one line). Anything else is an internal error, an invalid
output, or a hang.
"""

from __future__ import annotations

import contextlib
import enum
import json
import random
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import orjson

from normalizers.errors import NormalizerError
from normalizers.model import Scope
from pipeline.errors import TollgateError
from pipeline.flows.normalize import NormalizeRequest, normalize_reports, write_outputs
from tests.conftest import FIXTURES
from tests.validation import asff_problems, sarif_problems

SEED_FOLDERS = ("asff", "dependency_check", "detect_secrets", "lynis", "merge", "ncp_wsc", "sarif", "sonarqube",
                "supply_chain/report", "tollgate_results", "trivy", "wapiti", "zap")
SEED_MAX_BYTES = 64 * 1024  # bigger seeds only slow each example; the small ones cover every parser
NOT_REPORTS = ("SOURCES", ".md", ".html", ".xsd", ".py")
HANG_SECONDS = 20


def seeds() -> list[Path]:
    found = [path for folder in SEED_FOLDERS for path in sorted((FIXTURES / folder).rglob("*"))
             if path.is_file() and path.stat().st_size <= SEED_MAX_BYTES
             and not any(marker in path.name for marker in NOT_REPORTS)]
    return found


# --- values a mutation puts in place of another ------------------------------------------------

# Tokens that json.dumps cannot write; spliced into the text after dumping.
_HUGE_INT = "9" * 5000
_HUGE_FLOAT = "1" + "0" * 400 + ".5"
_BIG_INT = str(2**64 + 1)
_DEEP = 10_000


class _Raw(str):
    """A JSON token written verbatim (json.dumps would refuse or alter it)."""


def _replacement(rng: random.Random) -> Any:
    choices: list[Any] = [
        [], {}, None, True, 0, -1, 1.5, "", "   ", " \t\n", "x" * 300_000, "\ud800", "a\udfffb",
        float("nan"), float("inf"), float("-inf"), _Raw(_HUGE_INT), _Raw("-" + _HUGE_INT), _Raw(_HUGE_FLOAT),
        _Raw("1e400"), _Raw("-1e400"), _Raw(_BIG_INT), _Raw("-" + _BIG_INT), "src/", "/", "..", "file:///",
        "http://", "CVSS:3.1/", "\x00\x01", "\u202e", "9" * 400, "1e400", "NaN", 2**63, -(2**63) - 1,
        _Raw("[" * _DEEP + "]" * _DEEP), _Raw('{"a":' * _DEEP + "1" + "}" * _DEEP),
    ]
    return rng.choice(choices)


# --- JSON ---------------------------------------------------------------------------------------

def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _mutate_json(document: Any, rng: random.Random, raws: list[str]) -> Any:
    paths = list(_paths(document))
    path = rng.choice(paths)
    if not path:
        return _swap(document, rng, raws)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    action = rng.random()
    if action < 0.15 and isinstance(parent, dict):
        del parent[key]
    elif action < 0.25 and isinstance(parent, list):
        parent.append(parent[key])  # a duplicate record
    else:
        parent[key] = _swap(parent[key], rng, raws)
    return document


def _swap(_value: Any, rng: random.Random, raws: list[str]) -> Any:
    new = _replacement(rng)
    if isinstance(new, _Raw):
        raws.append(str(new))
        return f"\x00raw{len(raws) - 1}\x00"
    return new


def _dump_json(document: Any, raws: list[str]) -> bytes:
    text = json.dumps(document)  # allow_nan: NaN and Infinity tokens are part of the attack
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{index}\x00"), raw)
    return text.encode("utf-8", "surrogatepass")


# --- XML ----------------------------------------------------------------------------------------

_XML_TEXTS = ("", "   ", "9" * 5000, "1e400", "NaN", "-inf", "x" * 300_000, "src/", "CVSS:3.1/", "\u202e",
              "2.5", "HIGH", "critical", "1" + "0" * 400)
_DEEP_XML_MARK = "tollgate-fuzz-deep"


def _mutate_xml(root: ElementTree.Element, rng: random.Random) -> ElementTree.Element:
    elements = list(root.iter())
    element = rng.choice(elements)
    action = rng.random()
    if action < 0.4:
        element.text = rng.choice(_XML_TEXTS)
    elif action < 0.6 and element.attrib:
        element.set(rng.choice(sorted(element.attrib)), rng.choice(_XML_TEXTS))
    elif action < 0.75:
        parents = {child: parent for parent in elements for child in parent}
        if element in parents:
            parents[element].remove(element)
    elif action < 0.85:
        element.append(element.makeelement(element.tag, dict(element.attrib)))
    else:
        ElementTree.SubElement(element, _DEEP_XML_MARK)  # spliced in after serializing: too deep for ElementTree
    return root


# --- bytes --------------------------------------------------------------------------------------

def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    action = rng.randrange(6)
    if action == 0:
        return data[: rng.randrange(len(data) + 1)]  # truncation
    if action == 1:
        return data.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    if action == 2:
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.choice([b"\xff", b"\xed\xa0\x80", b"\x00", b"\xc3", b"\xef\xbb\xbf"]) + data[at:]
    if action == 3:
        return b"\xef\xbb\xbf" + data
    if action == 4 and data:
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]
    return data


def mutate(seed: bytes, rng: random.Random) -> bytes:
    """One mutant of a seed: 1-3 structure-aware mutations, then sometimes a byte-level one."""
    rounds = rng.randint(1, 3)
    data = seed
    try:
        document = json.loads(seed)
    except ValueError:
        document = None
    if document is not None:
        raws: list[str] = []
        for _ in range(rounds):
            document = _mutate_json(document, rng, raws)
        data = _dump_json(document, raws)
    else:
        try:
            root = ElementTree.fromstring(seed)  # noqa: S314 - our own fixtures, not input
        except ElementTree.ParseError:
            root = None
        if root is not None:
            for _ in range(rounds):
                root = _mutate_xml(root, rng)
            data = ElementTree.tostring(root, encoding="utf-8").replace(
                f"<{_DEEP_XML_MARK} />".encode(), b"<n>" * _DEEP + b"</n>" * _DEEP)
    if (document is None and rng.random() < 0.5) or rng.random() < 0.2:
        data = _mutate_bytes(data, rng)
    return data


# --- the oracle ---------------------------------------------------------------------------------

class Verdict(enum.Enum):
    OK = "exit 0, valid outputs"
    REFUSED = "exit 2, input error"
    INTERNAL = "internal error"
    INVALID = "invalid output"
    HANG = "hang"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    detail: str = ""


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    def expire(_signum: int, _frame: object) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def judge(data: bytes, hang_seconds: int = HANG_SECONDS) -> Outcome:
    """Run the normalize flow on `data` as `tollgate normalize --sarif --asff --json` does."""
    with tempfile.TemporaryDirectory(prefix="tollgate-fuzz-") as folder:
        report = Path(folder, "report")
        report.write_bytes(data)
        request = NormalizeRequest(reports=(str(report),), scope=Scope(repository="fuzz/target"),
                                   source_root=folder, sarif_out=f"{folder}/out.sarif",
                                   asff_out=f"{folder}/out.asff.json", json_out=f"{folder}/out.results.json")
        try:
            with _deadline(hang_seconds):
                write_outputs(normalize_reports(request), request)
        except _Hang:
            return Outcome(Verdict.HANG)
        except (NormalizerError, TollgateError, OSError) as exc:
            message = str(exc)
            if "\n" in message:
                return Outcome(Verdict.INTERNAL, f"a multi-line error: {message[:200]!r}")
            return Outcome(Verdict.REFUSED, message[:200])
        except Exception as exc:  # the oracle's whole point: anything else is internal
            return Outcome(Verdict.INTERNAL, f"{exc.__class__.__name__}: {str(exc)[:200]}")
        problems = [*_sarif_file_problems(Path(folder)),
                    *asff_problems(orjson.loads(Path(request.asff_out or "").read_bytes())["Findings"])]
        if problems:
            return Outcome(Verdict.INVALID, "; ".join(problems[:3])[:300])
        return Outcome(Verdict.OK)


def _sarif_file_problems(folder: Path) -> list[str]:
    return [problem for path in sorted(folder.glob("out*.sarif"))
            for problem in sarif_problems(orjson.loads(path.read_bytes()))]
