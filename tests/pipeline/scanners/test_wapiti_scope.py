"""A real Wapiti run cannot leave the DAST scope through a redirect.

Two loopback servers: the allowed one answers every request with `302 Location:` the other one.
Wapiti's http_headers and csp modules follow redirects whatever `--scope` says, so run bare, Wapiti
sends requests to the other server (checked first, so the setup is known to be a real trap);
run by Tollgate, through the scope proxy, it sends none, and the refusals are counted in the notes.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from normalizers.model import Category, Finding, Severity, Tool, UrlLocation
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.scanners.base import Options, ScanContext
from pipeline.scanners.wapiti import SCANNER
from pipeline.scope import OUT_OF_SCOPE, Allowlist, within_scope
from pipeline.scope_proxy import scope_proxy
from tests.loopback import serving

pytestmark = pytest.mark.slow
OPTIONS = Options.of({"depth": 1, "max-scan-time": 60, "modules": ["http_headers", "csp", "redirect"]})


class Outside(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Counted)
        self.requests: list[str] = []
        self.lock = threading.Lock()


class _Counted(BaseHTTPRequestHandler):
    server: Outside

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append(self.path)
        body = b"<html><body>someone else's host</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_HEAD = do_GET


def redirecting_to(location: str) -> ThreadingHTTPServer:
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_HEAD = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    server.daemon_threads = True
    return server


@contextmanager
def trap() -> Iterator[tuple[str, Outside]]:
    """(the allowed URL, the outside server that counts what reaches it)."""
    outside = Outside()
    with serving(outside) as outside_url, serving(redirecting_to(f"{outside_url}/landing")) as allowed_url:
        yield f"{allowed_url}/", outside


@pytest.fixture
def wapiti() -> str:
    executable = shutil.which("wapiti")
    if executable is None:
        pytest.skip("wapiti is not installed; install it with: apt-get install --no-install-recommends wapiti")
    return executable


def test_bare_wapiti_follows_the_redirect_out_of_scope(wapiti: str, tmp_path: Path) -> None:
    """The control: without Tollgate's proxy, `--scope folder` does not stop the redirect."""
    with trap() as (allowed, outside):
        subprocess.run([wapiti, "-u", allowed, "--scope", "folder", "-d", "1", "--max-scan-time", "60",
                        "-m", "http_headers,csp", "--flush-session", "--no-bugreport", "-f", "json",
                        "-o", str(tmp_path / "r.json")], check=False, capture_output=True, timeout=300,
                       env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert outside.requests, "the trap did not catch bare Wapiti: this test no longer proves anything"


def test_tollgate_wapiti_sends_nothing_outside_the_allowlist(wapiti: str, tmp_path: Path) -> None:
    with trap() as (allowed, outside):
        allowlist = Allowlist.parse([allowed.split("/")[2]])  # 127.0.0.1:<port> only
        ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", dast_targets=(allowlist.guard(allowed),),
                          dast_allow=allowlist, env={"PATH": "/usr/bin:/bin", "NO_PROXY": "127.0.0.1"})
        output = SCANNER.run(ctx, OPTIONS, time.monotonic() + 300)
    assert outside.requests == []
    (note,) = output.notes
    assert "requests outside the DAST allowlist refused by Tollgate's scope proxy" in note
    (report,) = output.reports
    result = parse_report(Report.from_path(str(report.path)), ParseOptions(source_root=str(tmp_path)))
    assert all(isinstance(f.location, UrlLocation) and allowlist.allows(f.location.url) for f in result.findings)


def test_findings_outside_the_allowlist_are_dropped_and_counted(tmp_path: Path) -> None:
    """Whatever an engine reports about a host nobody allowed never reaches an output."""
    report = Path(__file__).parents[2] / "fixtures" / "wapiti" / "wapiti-3.0.4-dast-target.json"
    result = parse_report(Report.from_path(str(report)), ParseOptions(source_root=str(tmp_path)))
    host = next(f.location.url for f in result.findings if isinstance(f.location, UrlLocation)).split("/")[2]
    extra = Finding(Tool("wapiti", Category.DAST), "X", "elsewhere", Severity.LOW,
                    UrlLocation("http://203.0.113.9/"))
    mixed = type(result)(result.tool_id, result.source, (*result.findings, extra), result.skipped, result.metrics,
                         result.reconciliation)
    scoped = within_scope(mixed, Allowlist.parse([host]))
    assert extra not in scoped.findings and len(scoped.findings) == len(result.findings)
    assert [(s.reason, s.record) for s in scoped.skipped[-1:]] == [(OUT_OF_SCOPE, "http://203.0.113.9/")]
    assert scoped.reconciliation is not None and (OUT_OF_SCOPE, 1) in scoped.reconciliation.skipped_reasons


def test_the_proxy_tunnels_allowed_connects_and_refuses_the_rest() -> None:
    """HTTPS goes through CONNECT: judged by host and port like every plain request."""
    outside = Outside()
    with serving(outside) as outside_url:
        port = int(outside_url.rsplit(":", 1)[1])
        with scope_proxy(Allowlist.parse([f"127.0.0.1:{port}"])) as proxy:
            proxy_port = int(proxy.url.rstrip("/").rsplit(":", 1)[1])
            for destination, status in ((f"127.0.0.1:{port + 1}", b"403"), (f"127.0.0.1:{port}", b"200")):
                with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as raw:
                    raw.sendall(f"CONNECT {destination} HTTP/1.1\r\nHost: {destination}\r\n\r\n".encode())
                    answer = raw.recv(4096)
                    assert answer.split(b" ")[1] == status, answer
                    if status == b"200":
                        raw.sendall(b"GET /tunnelled HTTP/1.0\r\nHost: x\r\n\r\n")
                        assert b"someone else's host" in b"".join(iter(lambda: raw.recv(4096), b""))
    assert outside.requests == ["/tunnelled"]
    assert proxy.refusals.count == 1 and proxy.refusals.destinations == [f"127.0.0.1:{port + 1}"]
