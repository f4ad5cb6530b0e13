"""Shared by the report tests: hostile scanner text, a verdict to render, and a request-counting server.

Below: a tiny stdlib PNG reader (`read_png`), enough to tell a rendered page from a blank one.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from normalizers.model import Finding, Severity
from pipeline.gate import Baseline, GateVerdict, baseline_from_document, evaluate
from pipeline.policy import parse_policy
from pipeline.report.view import ReportView, build_view
from tests.loopback import serving
from tests.pipeline.helpers import SCOPE, code, finding, fingerprinted, package, results_document, url

TODAY = date(2026, 6, 1)

# What a scanned site or a pull request can put into scanner text. Each must render as text.
HOSTILE = (
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "![tracker](http://127.0.0.1:9/pixel.png)",
    "@octocat please merge",
    "a | b | c",
    "**bold** _em_ `code` ~~gone~~",
    "# heading\n- list\n> quote",
    "<!-- hidden --> &amp; &lt;b&gt; &#64;admin",
    "line one\r\n::add-mask::secret\n::error::fake",
    "http://evil.example/autolink www.evil.example",
    "\u202eevil\u202c text \x1b[31mred\x1b[0m",
    "[ref]: javascript:alert(1)\n[ref]",
)
HOSTILE_TEXT = " ".join(HOSTILE)

# Scan-level facts as parsers report them (Parser.metrics): two audited hosts, one whose name and
# index are hostile, ncp-wsc's counts, and keys and values that try to become markup.
METRICS = (
    ("lynis/web-01/hardening_index", "72"),
    ("lynis/web-01/tests_performed", "241"),
    ("lynis/web-01/version", "3.0.9"),
    ("lynis/i-0abc1234/hardening_index", "56"),
    ("lynis/i-0abc1234/tests_performed", "235"),
    ("lynis/i-0abc1234/version", "3.0.8"),
    (f"lynis/{HOSTILE[1]}/hardening_index", "<b>99</b>"),
    ("ncp-wsc.high", "2"),
    ("ncp-wsc.target_info", HOSTILE[0]),
    (f"zap/{HOSTILE[2]}", HOSTILE[3]),
)

POLICY = parse_policy(
    "fail-on: high\n"
    "categories:\n  dast:\n    fail-on: critical\n"
    "suppressions:\n"
    "  - rule: B101\n    reason: asserts are fine in tests\n    expires: 2026-12-31\n"
    "  - package: pkg:npm/minimist\n    reason: '<b>dev only</b> @team [x](javascript:1)'\n    expires: 2026-01-31\n"
)


def hostile_findings() -> list[Finding]:
    return [
        finding("40012", Severity.HIGH, tool="zap", location=url("http://127.0.0.1:8080/search?q=<script>", "q"),
                title="Cross Site Scripting " + HOSTILE[1], description=HOSTILE_TEXT,
                references=("javascript:alert(1)", "https://owasp.org/www-community/attacks/xss/")),
        finding("python.lang.security.eval", Severity.CRITICAL, location=code("src/app.py", 12, "eval(request.args)"),
                title="eval of user input " + HOSTILE[2], description=HOSTILE_TEXT),
        finding("B602", Severity.HIGH, tool="bandit", location=code("src/run|me.py", 7, "call(shell=True)"),
                title=HOSTILE[9]),
        finding("B101", Severity.LOW, tool="bandit", location=code("tests/test_app.py", 3, "assert x")),
        finding("CVE-2021-44906", Severity.CRITICAL, tool="trivy", location=package("minimist", "1.2.5"),
                title="Prototype pollution in minimist " + HOSTILE[4], vulnerability_ids=("CVE-2021-44906",),
                references=("https://nvd.nist.gov/vuln/detail/CVE-2021-44906",)),
        finding("CVE-2024-29041", Severity.MEDIUM, tool="trivy", location=package("express", "4.18.2"),
                title="express open redirect " + HOSTILE[3], vulnerability_ids=("CVE-2024-29041",)),
    ]


def baseline() -> Baseline:
    """The main branch knew the MEDIUM express finding and a since-fixed SQL injection."""
    fixed_since = finding("python.lang.security.sqli", Severity.HIGH, location=code("src/db.py", 4, "execute(q % x)"))
    before = [*hostile_findings()[5:], fixed_since]
    return baseline_from_document(results_document(before), "baseline/main.json")


def hostile_verdict() -> GateVerdict:
    return evaluate(fingerprinted(*hostile_findings()), POLICY, baseline(), today=TODAY)


def hostile_view() -> ReportView:
    return build_view(SCOPE, hostile_verdict(), metrics=METRICS)


class _CountingHandler(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return  # keeps the test output quiet


@contextmanager
def counting_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request; yields (base URL, requests)."""
    requests: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"requests": requests})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url, requests


# A tiny stdlib PNG reader for tests: enough to tell a rendered page from a blank one.
#
# It decodes 8-bit, non-interlaced grayscale, RGB and RGBA images (what Chromium's
# screenshots and poppler's pdftoppm write) and undoes the five scanline filters.
SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 6: 4}  # colour type -> samples per pixel


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    channels: int
    rows: tuple[bytes, ...]  # unfiltered scanlines

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        start = x * self.channels
        return tuple(self.rows[y][start : start + self.channels])

    def colours(self, step: int = 4) -> Counter[tuple[int, ...]]:
        """Colours of a grid of pixels, `step` apart: cheap, and enough to see content."""
        return Counter(self.pixel(x, y) for y in range(0, self.height, step) for x in range(0, self.width, step))

    def non_background_share(self, step: int = 4) -> float:
        colours = self.colours(step)
        _, count = colours.most_common(1)[0]
        return 1 - count / sum(colours.values())


def read_png(path: Path) -> Png:
    data = path.read_bytes()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path} is not a PNG")
    header, compressed, offset = b"", bytearray(), len(SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            compressed += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    channels = CHANNELS[colour]
    return Png(width, height, channels, _unfilter(zlib.decompress(bytes(compressed)), width * channels, height,
                                                  channels))


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> tuple[bytes, ...]:
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            upper_left = previous[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _predict(kind, left, up, upper_left)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return tuple(rows)


def _predict(kind: int, left: int, up: int, upper_left: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    estimate = left + up - upper_left  # Paeth
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - upper_left))
    return (left, up, upper_left)[distances.index(min(distances))]
