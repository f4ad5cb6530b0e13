"""Package-check API benchmark: latency on cached packages, against a floor measured in the same run.

Prints the p50 and p99 latency of `GET /package-check` for packages whose registry metadata is
in the cache (the recorded answers of tests/fixtures/supply_chain/registry-cache, offline, after
one warm-up request each), and the same for a bare `http.server.ThreadingHTTPServer` answering a
constant JSON document through the same client: the floor is what Python's HTTP stack costs on
this machine, so the ratios say what the firewall's checks add. Both servers run in this process
on 127.0.0.1 with HTTP/1.1 keep-alive; `--threads` clients each send `--requests / --threads`
requests one after another.

  ratio p50 = firewall p50 / floor p50      target <= 2.5
  ratio p99 = firewall p99 / floor p99      target <= 3

Exits 1 when a ratio misses its target, or when any request did not answer 200.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pipeline.firewall.config import firewall_config_from_section
from pipeline.firewall.engine import Firewall
from pipeline.firewall.registry import Registry
from pipeline.firewall.server import PackageCheckServer

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "tests" / "fixtures" / "supply_chain" / "registry-cache"
QUERIES = ("package_name=request2", "package_name=requests", "package_name=django", "package_name=numpy",
           "package_name=python-dateutil", "package_name=reqeusts", "package_name=cross-env&platform=npm",
           "package_name=crossenv&platform=npm", "package_name=left-pad&platform=npm&version=1.3.0")
TARGETS = {"p50": 2.5, "p99": 3.0}
CONSTANT = json.dumps({"package_name": "x", "platform": "pypi", "score": 0, "risk_level": "Green"}).encode()


class FloorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as the firewall's handler: the floor must not pay for delayed ACKs

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(CONSTANT)))
        self.end_headers()
        self.wfile.write(CONSTANT)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[tuple[str, int]]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        server.server_close()


def client(address: tuple[str, int], count: int, offset: int) -> list[float]:
    """`count` requests on one keep-alive connection; the latency of each, in seconds."""
    connection = http.client.HTTPConnection(*address, timeout=30)
    latencies = []
    try:
        for index in range(count):
            started = time.perf_counter()
            connection.request("GET", f"/package-check?{QUERIES[(offset + index) % len(QUERIES)]}")
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"GET answered {response.status}")
    finally:
        connection.close()
    return latencies


def measure(address: tuple[str, int], requests: int, threads: int) -> list[float]:
    per_thread = max(requests // threads, 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        runs = pool.map(lambda t: client(address, per_thread, t), range(threads))
        return sorted(latency for run in runs for latency in run)


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(int(fraction * len(sorted_values)), len(sorted_values) - 1)]


def firewall_server(cache: Path) -> PackageCheckServer:
    config = firewall_config_from_section({}, "benchmark", ROOT)
    registry = Registry(replace(config.registry, cache_dir=cache, offline=True), env={})
    return PackageCheckServer(("127.0.0.1", 0), Firewall(config, registry))


def run(name: str, make: Callable[[], ThreadingHTTPServer], args: argparse.Namespace) -> tuple[float, float]:
    with serving(make()) as address:
        client(address, len(QUERIES), 0)  # warm: every package's metadata read once, indexes built
        latencies = measure(address, args.requests, args.threads)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"{name:<9} {len(latencies)} requests: p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms, "
          f"mean {statistics.fmean(latencies) * 1e3:.2f} ms")
    return p50, p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        cache = Path(temp) / "cache"
        shutil.copytree(RECORDED, cache)
        floor = run("floor", lambda: ThreadingHTTPServer(("127.0.0.1", 0), FloorHandler), args)
        firewall = run("firewall", lambda: firewall_server(cache), args)
    failed = False
    for label, measured, base in (("p50", firewall[0], floor[0]), ("p99", firewall[1], floor[1])):
        ratio = measured / base
        failed |= ratio > TARGETS[label]
        print(f"ratio {label} firewall/floor: {ratio:.2f} (target <= {TARGETS[label]:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
