"""The DAST scope guard: no request ever reaches a host outside the allowlist.

A local server counts every request it gets. `tollgate scan` is pointed at it through a host
name (or a URL trick) the allowlist does not hold, and the server must see nothing. The positive
control runs the same scan with the host allowed, so a zero can only come from the guard.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import ConfigError, ExitCode
from pipeline.scope import Allowlist, parse_pattern
from tests.conftest import ROOT

APP = ROOT / "examples" / "vulnerable-app"


class CountingServer:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with counter.lock:
                    counter.count += 1
                body = b"<html><body><a href='/page?x=1'>page</a></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    with CountingServer() as server:
        yield server


def scan(tmp_path: Path, target: str, *allow: str) -> int:
    argv = ["scan", str(APP), "--out", str(tmp_path / "out"), "--only", "wapiti", "--only", "zap",
            "--dast-target", target, "--repo", "tollgate-dev/scope-test", "--timeout", "120"]
    for host in allow:
        argv += ["--dast-allow", host]
    return main(argv)


@pytest.mark.parametrize(
    "target, allowed",
    [
        ("http://localhost:{port}/", "127.0.0.1"),  # the same machine under a name that is not listed
        ("http://127.0.0.1@localhost:{port}/", "127.0.0.1"),  # userinfo naming the allowed host
        ("http://localhost:{port}/", "127.0.0.1:{other}"),  # right host, other port
        ("http://localhost:{port}/", "[::1]"),  # loopback by another address is another host
        ("http://localhost.:{port}/", "local"),  # a prefix is not a match
    ],
)
def test_refused_target_gets_no_request(counting_server: CountingServer, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], target: str, allowed: str) -> None:
    port = counting_server.port
    code = scan(tmp_path, target.format(port=port), allowed.format(other=port + 1))
    assert code == ExitCode.USAGE
    assert "refused" in capsys.readouterr().err
    assert counting_server.count == 0
    assert not (tmp_path / "out" / "raw").exists(), "no scanner may start once a target is refused"


@pytest.mark.slow
def test_allowed_target_is_scanned(counting_server: CountingServer, tmp_path: Path) -> None:
    """The positive control: the same server, allowed, does get Wapiti's requests."""
    if shutil.which("wapiti") is None:
        pytest.skip("Wapiti is not installed: apt-get install wapiti")
    code = scan(tmp_path, f"http://localhost:{counting_server.port}/", "localhost")
    # ZAP, asked for with no daemon here, did not run: the scan is incomplete (3), yet Wapiti did attack
    assert code == ExitCode.TOOL_FAILED
    assert counting_server.count > 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/app",
        "https://api.example.com/",
        "https://deep.api.example.com:8443/x",
        "http://[::1]:9000/",
        "http://[0:0:0:0:0:0:0:1]:9000/",  # the same IPv6 address spelled out
        "http://xn--bcher-kva.example/",
        "http://BÜCHER.Example./",  # IDNA and case and trailing dot
        "http://app.test:8443/",
    ],
)
def test_allowed(url: str) -> None:
    allowlist = Allowlist.parse(["127.0.0.1", "*.example.com", "[::1]", "bücher.example", "app.test:8443"])
    assert allowlist.guard(url).url == url


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://example.com/", "not in the allowlist"),  # *.example.com excludes the apex
        ("http://example.com.evil.net/", "not in the allowlist"),
        ("http://127.0.0.1@evil.net/", "credentials"),
        ("http://evil.net\\@127.0.0.1/", "credentials"),
        ("http://evil.net%2f@127.0.0.1/", "credentials"),
        ("http://127.1/", "dotted-quad"),
        ("http://2130706433/", "dotted-quad"),
        ("http://0x7f.0.0.1/", "dotted-quad"),
        ("http://[::ffff:127.0.0.1]/", "not in the allowlist"),  # an IPv4-mapped address is another spelling
        ("http://ex\u0430mple.com/", "not in the allowlist"),  # a Cyrillic a: a look-alike, not example.com
        ("https://app.test/", "not in the allowlist"),  # port 443, only 8443 is allowed
        ("ftp://127.0.0.1/", "only http and https"),
        ("http:///path", "no host"),
        ("http://127.0.0.1:0/", "out of range"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    allowlist = Allowlist.parse(["127.0.0.1", "*.example.com", "app.test:8443"])
    with pytest.raises(ConfigError, match=reason):
        allowlist.guard(url)


def test_empty_allowlist_refuses_everything() -> None:
    with pytest.raises(ConfigError, match="allowlist is empty"):
        Allowlist.parse([]).guard("http://127.0.0.1/")


@pytest.mark.parametrize("entry", ["*", "*.com", "https://example.com", "user@example.com", "a.*.example.com"])
def test_bad_allowlist_entries(entry: str) -> None:
    with pytest.raises(ConfigError):
        parse_pattern(entry)


def test_origin_regex_stays_on_the_origin() -> None:
    target = Allowlist.parse(["app.example.com"]).guard("https://app.example.com/shop/")
    regex = re.compile(target.origin_regex)
    assert regex.match("https://app.example.com/shop/cart?id=1")
    assert regex.match("https://app.example.com:443/")
    assert not regex.match("https://app.example.com.evil.net/")
    assert not regex.match("http://app.example.com/")
    assert not regex.match("https://app.example.com:8443/")


# --- public suffixes and broken targets ------------------------------------------------------


@pytest.mark.parametrize("entry", ["*.co.uk", "*.github.io", "*.s3.amazonaws.com", "*.herokuapp.com", "*.com.au",
                                   "*.blogspot.com", "*.CO.UK.", "*.xn--p1ai"])
def test_a_wildcard_on_a_public_suffix_is_refused(entry: str) -> None:
    with pytest.raises(ConfigError, match=r"public suffix|at least two labels"):
        Allowlist.parse([entry])


@pytest.mark.parametrize("entry", ["*.example.co.uk", "*.me.github.io", "*.example.com", "*.xn--80aswg.xn--p1ai"])
def test_a_wildcard_under_a_registrable_domain_is_allowed(entry: str) -> None:
    assert Allowlist.parse([entry]).patterns[0].wildcard


@pytest.mark.parametrize("target", ["http://[::1/", "http://[::1", "http://[zz]/", "http://a\nb.example/",
                                    "http://a.example/\tx", "http://a.example:99999/", "http://a.example:x/",
                                    "http://\u200ba.example/", "http://a.example/\x00"])
def test_every_broken_target_is_a_config_error(target: str) -> None:
    with pytest.raises(ConfigError):
        Allowlist.parse(["a.example"]).guard(target)


def test_a_broken_target_exits_2_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", str(tmp_path), "--only", "wapiti", "--dast-target", "http://[::1/", "--dast-allow", "[::1]",
                 "--out", str(tmp_path / "out"), "--repo", "o/r"])
    assert code == 2
    assert capsys.readouterr().err.startswith("tollgate: error: DAST target 'http://[::1/' refused")


def test_allows_never_raises() -> None:
    allowlist = Allowlist.parse(["127.0.0.1:8080", "*.example.com"])
    assert allowlist.allows("http://127.0.0.1:8080/x") and allowlist.allows("https://a.b.example.com/")
    assert not any(allowlist.allows(url) for url in (
        "http://127.0.0.1:8081/", "http://[::1/", "ftp://a.example.com/", "http://example.com/", "",
        "http://x@a.example.com/"))
