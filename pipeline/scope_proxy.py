"""The DAST scope proxy: a loopback HTTP proxy that forwards only what the allowlist allows.

Wapiti's own scope (`--scope folder`) governs what it crawls, not where it goes: several of its
modules (http_headers, csp, wapp, csrf) fetch with redirects followed, so a target answering
`302 Location: http://elsewhere/` sent requests to a host nobody allowed, and filed that host's
headers under the target. Wapiti has no option to stop following redirects, so every request it
makes goes through this proxy (`-p`), which judges each one by `Allowlist.allows_host`, the same
rule as the scope guard:

- an allowed `GET http://host/...` (any method) is forwarded once, never following a redirect
  itself, and the answer relayed; an allowed `CONNECT host:443` is tunnelled;
- anything else gets a 403 from Tollgate, counted and named in the scan's notes. The refusal
  carries strict security headers, so a module that followed a redirect into it finds nothing to
  report about a page that is Tollgate's own, not the target's.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from pipeline.scope import Allowlist

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                         "transfer-encoding", "upgrade", "proxy-connection", "content-length"})
_REFUSAL_HEADERS = (
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-XSS-Protection", "1; mode=block"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("Cache-Control", "no-store"),
)
UPSTREAM_TIMEOUT = 30.0
MAX_BODY = 64 * 1024 * 1024


@dataclass
class Refusals:
    """Requests the proxy refused: how many, and the first few destinations for the notes."""

    count: int = 0
    destinations: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, destination: str) -> None:
        with self._lock:
            self.count += 1
            if destination not in self.destinations and len(self.destinations) < 5:
                self.destinations.append(destination)

    def note(self, engine: str) -> str | None:
        if not self.count:
            return None
        return (f"{engine}: {self.count} requests outside the DAST allowlist refused by Tollgate's scope proxy "
                f"(to {', '.join(self.destinations)}); a redirect or link left the scope")


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, allowlist: Allowlist) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.allowlist = allowlist
        self.refusals = Refusals()


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.0"  # one request per connection: nothing to track between them

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the proxy's log would only repeat Wapiti's."""

    def do_CONNECT(self) -> None:
        host, _, port_text = self.path.rpartition(":")
        port = int(port_text) if port_text.isdigit() else -1
        if not host or not self.server.allowlist.allows_host(host, port):
            self._refuse(self.path)
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), port), timeout=UPSTREAM_TIMEOUT)
        except OSError as exc:
            self.send_error(502, f"cannot reach {self.path}: {exc.strerror or exc}")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        _relay(self.connection, upstream)

    def _forward(self) -> None:
        parts = urlsplit(self.path)
        # Only absolute http URLs (https goes through CONNECT); the allowlist judges host and port.
        if parts.scheme != "http" or not parts.hostname or not self.server.allowlist.allows(self.path):
            self._refuse(parts.netloc or self.path[:100])
            return
        port = parts.port or 80
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)) if length > 0 else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=UPSTREAM_TIMEOUT)
        try:
            connection.request(self.command, target, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read(MAX_BODY)
        except OSError as exc:
            self.send_error(502, f"cannot reach {parts.hostname}:{port}: {exc.strerror or exc}")
            return
        finally:
            connection.close()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _forward

    def _refuse(self, destination: str) -> None:
        self.server.refusals.add(destination)
        body = b"Refused by Tollgate: this destination is outside the DAST allowlist.\n"
        self.send_response(403, "Outside the DAST scope")
        for key, value in _REFUSAL_HEADERS:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Bytes both ways until either side closes (a CONNECT tunnel)."""
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, UPSTREAM_TIMEOUT)
            if broken or not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
    except OSError:
        return
    finally:
        upstream.close()


@dataclass(frozen=True)
class ScopeProxy:
    url: str
    refusals: Refusals


@contextmanager
def scope_proxy(allowlist: Allowlist) -> Iterator[ScopeProxy]:
    """A running proxy on loopback for the duration of the block; stopped (and its threads with it) after."""
    server = _ProxyServer(allowlist)
    thread = threading.Thread(target=server.serve_forever, name="tollgate-scope-proxy", daemon=True)
    thread.start()
    try:
        yield ScopeProxy(f"http://127.0.0.1:{server.server_port}/", server.refusals)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
