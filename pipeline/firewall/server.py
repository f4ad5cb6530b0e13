"""The package-check API (seed B): `GET /package-check?package_name=&platform=pypi|npm[&version=]`.

For a repository manager (Nexus, CodeArtifact through EventBridge and Step Functions) that asks
before it serves a package. The answer is seed B's JSON (engine.Verdict.answer). Decisions:
- `http.server.ThreadingHTTPServer`: one thread per connection, daemon threads, HTTP/1.1
  keep-alive, TCP_NODELAY (benchmarks/firewall_api.py measures it). Each connection has its own
  thread, so an idle client blocks no one, and a socket that stays silent for `IDLE_TIMEOUT`
  seconds is closed, which ends its thread. There is no cap on connections: a client that trickles
  a byte every few seconds keeps its thread, so a server reachable by strangers belongs behind a
  proxy that limits them.
- Input is bounded and validated before any lookup: the query string at most `MAX_QUERY`
  characters, only the three known parameters, each at most once; the name by its ecosystem's
  rules (names.py); the platform `pypi` (the default, as in seed B's example) or `npm`; the
  version at most `MAX_VERSION` characters of a PEP 440 or semver version. Anything else is a 400
  with `{"error": "..."}`.
- Other paths are a 404, other methods a 405 (a method http.server does not know, a 501), all JSON,
  like http.server's own refusals (a bad request line: 400, a URI over 64 KB: 414). `GET /healthz`
  answers `{"status": "ok"}`.
- A request body is never read, so a request that declares one (Content-Length, Transfer-Encoding)
  gets its answer and the connection is closed: the body is never taken for a second request.
- Every request runs inside one try: an unexpected error is a 500 with a generic message; the
  exception's class (never its traceback) goes to the server's log. No traceback reaches a client.
- The server has no authentication: bind it to loopback, or put it behind a proxy that has.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from pipeline.firewall.engine import Firewall
from pipeline.firewall.model import DeclaredPackage, Ecosystem
from pipeline.firewall.names import MAX_NAME_LENGTH, MAX_VERSION, is_valid, is_valid_version

MAX_QUERY = 1024
IDLE_TIMEOUT = 15.0
MAX_ERROR = 200  # characters of http.server's own error text (it may quote the request line)
PARAMETERS = frozenset({"package_name", "platform", "version"})


class BadRequest(ValueError):
    """The request's input is not acceptable; the message goes to the client as is."""


def parse_query(query: str) -> DeclaredPackage:
    if len(query) > MAX_QUERY:
        raise BadRequest(f"the query string is longer than {MAX_QUERY} characters")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), max_num_fields=len(PARAMETERS))
    except ValueError:
        raise BadRequest("the query string is malformed") from None
    names = [name for name, _ in pairs]
    unknown = sorted(set(names) - PARAMETERS)
    if unknown:
        raise BadRequest(f"unknown parameter {unknown[0]!r}; known: package_name, platform, version")
    if len(names) != len(set(names)):
        raise BadRequest("a parameter is given more than once")
    return package_from(dict(pairs))


def package_from(values: Mapping[str, str]) -> DeclaredPackage:
    """The package the decoded parameters name; `tollgate firewall check` passes its arguments here as they are."""
    platform = values.get("platform") or Ecosystem.PYPI.value
    if platform not in {e.value for e in Ecosystem}:
        raise BadRequest("platform must be pypi or npm")
    ecosystem = Ecosystem(platform)
    name = values.get("package_name", "")
    if not is_valid(name, ecosystem):
        raise BadRequest(f"package_name must be a valid {platform} name of 1 to {MAX_NAME_LENGTH} characters")
    version = values.get("version") or None
    if version is not None and not is_valid_version(version, ecosystem):
        raise BadRequest(f"version must be a {'PEP 440' if ecosystem is Ecosystem.PYPI else 'semver'} version "
                         f"of at most {MAX_VERSION} characters")
    return DeclaredPackage(name=name, ecosystem=ecosystem, manifest="", line=1, spec=f"=={version}" if version else "",
                           version=version)


class PackageCheckHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body are two writes: without this, 40 ms of delayed ACK each
    server: PackageCheckServer

    def do_GET(self) -> None:
        try:
            status, body = self._route()
        except Exception as exc:  # the one place a request's failure becomes a 500, never a crash
            self.server.log_failure(exc)
            status, body = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error; the server log has details"}
        self._send(status, body)

    def _route(self) -> tuple[HTTPStatus, dict[str, Any]]:
        parts = urlsplit(self.path)
        if parts.path == "/healthz":
            return HTTPStatus.OK, {"status": "ok"}
        if parts.path != "/package-check":
            return HTTPStatus.NOT_FOUND, {"error": "not found; the API is GET /package-check"}
        try:
            package = parse_query(parts.query)
        except BadRequest as exc:
            return HTTPStatus.BAD_REQUEST, {"error": str(exc)}
        return HTTPStatus.OK, self.server.firewall.check(package).answer()

    def _not_allowed(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "only GET is served"}, {"Allow": "GET"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _not_allowed

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, a URI over 64 KB, an unknown method), in JSON too."""
        self.close_connection = True  # after a request it could not read, the connection's framing is unknown
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._send(code, {"error": (message or phrase)[:MAX_ERROR]})

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection or self._carries_body():
            # A body is never read, so it must not be taken for the next request on this connection.
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _carries_body(self) -> bool:
        headers = getattr(self, "headers", None)  # None when the request line itself was refused
        return headers is not None and (headers.get("Content-Length", "0").strip() != "0"
                                        or "Transfer-Encoding" in headers)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class PackageCheckServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], firewall: Firewall, verbose: bool = False) -> None:
        super().__init__(address, PackageCheckHandler)
        self.firewall = firewall
        self.verbose = verbose
        self._log_lock = threading.Lock()

    def log_failure(self, exc: BaseException) -> None:
        with self._log_lock:
            print(f"tollgate firewall: request failed: {exc.__class__.__name__}", file=sys.stderr, flush=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A broken connection (reset, timeout) is the client's problem: one line, no traceback."""
        self.log_failure(sys.exc_info()[1] or RuntimeError("connection error"))
