"""`update-index`'s npm download counts: fetched from a loopback registry, checked against the integrity
value, kept above the floor and written compressed in the format the index reads.

The tarball here is built by the test (a `counts.json` of four names, the shape of the real
`download-counts` package): a stand-in for the 28 MB artifact, not a recording of it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from pipeline.firewall.config import RegistrySettings
from pipeline.firewall.popular.update import (
    COUNTS_FILE,
    COUNTS_SOURCE,
    MIN_MONTHLY_DOWNLOADS,
    IndexSourceError,
    fetch_npm_counts,
    write_counts,
)
from tests.loopback import serving


def counts_tarball(counts: dict[str, int]) -> bytes:
    payload = orjson.dumps(counts)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("package/counts.json")
        member.size = len(payload)
        archive.addfile(member, io.BytesIO(payload))
    return buffer.getvalue()


@contextmanager
def npm_registry(tarball: bytes, integrity: str) -> Iterator[str]:
    routes: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server) as url:
        packument = {"dist-tags": {"latest": "2.1.0"}, "time": {"2.1.0": "2026-04-01T00:00:00Z"},
                     "versions": {"2.1.0": {"dist": {"tarball": f"{url}/t.tgz", "integrity": integrity}}}}
        routes.update({f"/{COUNTS_SOURCE}": orjson.dumps(packument), "/t.tgz": tarball})
        yield url


def sha512(blob: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()


def test_counts_are_fetched_checked_filtered_and_written(tmp_path: Path) -> None:
    tarball = counts_tarball({"small": 12, "left-pad": MIN_MONTHLY_DOWNLOADS, "semver": 2_399_072_936,
                              "@types/node": 500_000_000})
    with npm_registry(tarball, sha512(tarball)) as url, requests.Session() as session:
        counts = fetch_npm_counts(RegistrySettings(cache_dir=tmp_path, npm_url=url, timeout=5.0), session)
    assert counts.counts == (("semver", 2_399_072_936), ("@types/node", 500_000_000),
                             ("left-pad", MIN_MONTHLY_DOWNLOADS))
    assert counts.source.startswith(f"{COUNTS_SOURCE} 2.1.0 of 2026-04-01 on the npm registry")
    path = write_counts(tmp_path, counts)
    assert path.name == COUNTS_FILE
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert lines[0].startswith("# 3 npm names and their monthly downloads") and lines[1:] == [
        "semver\t2399072936", "@types/node\t500000000", f"left-pad\t{MIN_MONTHLY_DOWNLOADS}"]


def test_a_tarball_that_is_not_the_registrys_is_refused(tmp_path: Path) -> None:
    tarball = counts_tarball({"semver": 2_399_072_936})
    with npm_registry(tarball, sha512(b"another tarball")) as url, requests.Session() as session, \
            pytest.raises(IndexSourceError, match="sha512"):
        fetch_npm_counts(RegistrySettings(cache_dir=tmp_path, npm_url=url, timeout=5.0), session)
