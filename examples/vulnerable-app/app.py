"""A deliberately vulnerable web app for Tollgate's demo and tests. NEVER DEPLOY IT.

Standard library only (http.server + sqlite3), bound to 127.0.0.1. Every flaw here is
planted on purpose; README.md lists them and the scanners expected to find each one.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from settings import DATABASE

INDEX = """<!doctype html>
<html><head><title>vulnerable-app</title></head><body>
<h1>vulnerable-app (deliberately insecure, never deploy)</h1>
<ul>
  <li><a href="/search?q=tollgate">search</a></li>
  <li><a href="/user?id=1">user 1</a></li>
</ul>
<form action="/search" method="get"><input name="q" value="tollgate"><input type="submit"></form>
<form action="/user" method="get"><input name="id" value="1"><input type="submit"></form>
</body></html>
"""


def open_database() -> sqlite3.Connection:
    connection = sqlite3.connect(DATABASE, check_same_thread=False)
    connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
    connection.execute("INSERT INTO users VALUES (1, 'alice', 'alice@example.com'), (2, 'bob', 'bob@example.com')")
    return connection


DB = open_database()


def find_user(user_id: str) -> list[tuple[str, str]]:
    # PLANTED: SQL injection, the id is pasted into the statement.
    cursor = DB.execute(f"SELECT name, email FROM users WHERE id = {user_id}")  # noqa: S608 - planted
    return cursor.fetchall()


def archive_logs(name: str) -> None:
    # PLANTED: command injection via shell=True (reachable only from the command line, never over HTTP).
    subprocess.run(f"tar czf /tmp/{name}.tgz logs", shell=True, check=False)  # noqa: S602 - planted


class Handler(BaseHTTPRequestHandler):
    server_version = "vulnerable-app/1.0"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/":
            self.respond(200, INDEX)
        elif url.path == "/search":
            term = query.get("q", [""])[0]
            # PLANTED: reflected XSS, the term is echoed without html.escape.
            self.respond(200, f"<html><body><p>Results for {term}</p></body></html>")
        elif url.path == "/user":
            self.show_user(query.get("id", ["1"])[0])
        else:
            self.respond(404, "<html><body>not found</body></html>")

    def show_user(self, user_id: str) -> None:
        try:
            rows = find_user(user_id)
        except sqlite3.Error as exc:
            # PLANTED: the database error is shown to the client.
            self.respond(500, f"<html><body>sqlite3.OperationalError: {exc}</body></html>")
            return
        items = "".join(f"<li>{name} &lt;{email}&gt;</li>" for name, email in rows)
        self.respond(200, f"<html><body><ul>{items}</ul></body></html>")

    def respond(self, status: int, body: str) -> None:
        # PLANTED: no Content-Security-Policy, X-Frame-Options or X-Content-Type-Options.
        payload = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo prints its own progress."""


def main() -> int:
    parser = argparse.ArgumentParser(description="deliberately vulnerable app; binds 127.0.0.1 only")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--archive-logs", metavar="NAME", help="archive the logs (planted command injection)")
    args = parser.parse_args()
    if args.archive_logs:
        archive_logs(args.archive_logs)
        return 0
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"vulnerable-app listening on http://127.0.0.1:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
