"""A deliberately vulnerable web app on 127.0.0.1, for running a real DAST scanner in tests.

It reflects `q` without escaping (XSS), echoes a database error for a quote in `id`
(error-based SQL injection), sets a cookie without Secure/HttpOnly and sends no security
headers. It binds loopback only and lives for one `with` block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.loopback import serving

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
