"""Helpers shared by the parser tests: parse a fixture, read the corpus MANIFEST, break a report.

Below: seeded type corruption of real reports (`assert_never_crashes`), then a deliberately vulnerable
web app on loopback for the live Wapiti scan (`vulnerable_app`).
"""

from __future__ import annotations

import copy
import csv
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from normalizers.errors import NormalizerError
from normalizers.identity import with_fingerprints
from normalizers.model import Finding, ParseResult, Skipped
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsing import parse_report, parser_for
from normalizers.raw_report import Report
from normalizers.results import finding_to_dict
from normalizers.tool_id import ToolId
from tests.conftest import FIXTURES
from tests.loopback import serving


def parse_fixture(area: str, name: str, tool_id: ToolId, source_root: str | None = None) -> ParseResult:
    return parse_path(FIXTURES / area / name, tool_id, source_root)


def parse_path(path: Path, tool_id: ToolId, source_root: str | None = None) -> ParseResult:
    return parse_report(Report.from_path(str(path)), ParseOptions(source_root=source_root), tool_id=tool_id)


def parse_bytes(source: str, raw: bytes, tool_id: ToolId) -> ParseResult:
    return parse_report(Report(source=source, raw=raw), ParseOptions(), tool_id=tool_id)


@dataclass(frozen=True)
class Records:
    """What a parser itself yields, one record per instance: before identity and the exact-duplicate merge."""

    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]


def records_of(report: Report, tool_id: ToolId, source_root: str | None = None) -> Records:
    items = list(parser_for(tool_id).parse(report, ParseOptions(source_root=source_root)))
    return Records(tuple(i for i in items if isinstance(i, Finding)), tuple(i for i in items if isinstance(i, Skipped)))


def records_fixture(area: str, name: str, tool_id: ToolId) -> Records:
    return records_of(Report.from_path(str(FIXTURES / area / name)), tool_id)


def records_bytes(source: str, raw: bytes, tool_id: ToolId) -> Records:
    return records_of(Report(source=source, raw=raw), tool_id)


def finding_dicts(result: ParseResult) -> list[dict[str, Any]]:
    return [finding_to_dict(f) for f in result.findings]


def truncated(path: Path) -> Report:
    """The first half of a real report, as a crashed scanner or a cut download leaves it."""
    raw = path.read_bytes()
    return Report(source=f"{path.name}.truncated", raw=raw[: len(raw) // 2])


def manifest_expected(corpus: Path, tool: str) -> dict[str, str]:
    """file -> DefectDojo's expected_findings for one corpus folder ("" when it asserts none)."""
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["file"]: row["expected_findings"] for row in rows if row["tool"] == tool}


# Seeded type corruption of real reports: a parser must turn any wrong-typed field into a Finding,
# a Skipped record or a NormalizerError, and never into a traceback or a Finding that cannot be serialized.
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


# A deliberately vulnerable web app on 127.0.0.1, for running a real DAST scanner in tests.
#
# It reflects `q` without escaping (XSS), echoes a database error for a quote in `id`
# (error-based SQL injection), sets a cookie without Secure/HttpOnly and sends no security
# headers. It binds loopback only and lives for one `with` block.
_HOME = (
    "<html><head><title>Tollgate DAST target</title></head><body>"
    '<a href="/search?q=shoes">search</a> <a href="/item?id=1">item</a>'
    '<form action="/search" method="get"><input name="q" value=""><input type="submit"></form>'
    "</body></html>"
)
_SQL_ERROR = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version"


class _VulnerableHandler(BaseHTTPRequestHandler):
    server_version = "TollgateTarget/1.0"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/search":
            body = f"<html><body>Results for {query.get('q', [''])[0]}</body></html>"  # unescaped on purpose
        elif url.path == "/item":
            item = query.get("id", ["1"])[0]
            body = f"<html><body>{_SQL_ERROR if chr(39) in item or chr(34) in item else 'Item ' + item}</body></html>"
        elif url.path == "/":
            body = _HOME
        else:
            self.send_error(404)
            return
        payload = body.encode("utf-8", "replace")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Set-Cookie", "session=abc123; Path=/")  # no Secure, no HttpOnly
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the scanner's hundreds of requests would flood the test output."""


@contextmanager
def vulnerable_app() -> Iterator[str]:
    """Serve the app on a free loopback port; yields its base URL, e.g. http://127.0.0.1:41234/."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _VulnerableHandler)) as url:
        yield f"{url}/"
