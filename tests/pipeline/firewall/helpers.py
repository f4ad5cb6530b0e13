"""Shared by the firewall tests: the recorded registry cache, a fixed clock, and a local fake registry."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pipeline.firewall.config import FirewallConfig, RegistrySettings, firewall_config_from_section
from pipeline.firewall.engine import Firewall
from pipeline.firewall.model import Ecosystem
from pipeline.firewall.registry import Registry, trim_npm, trim_pypi
from tests.conftest import FIXTURES
from tests.loopback import serving

SUPPLY_CHAIN = FIXTURES / "supply_chain"
RECORDED_CACHE = SUPPLY_CHAIN / "registry-cache"
RECORDED_ON = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def recorded_body(host: str, file_name: str) -> Any:
    return json.loads((RECORDED_CACHE / host / file_name).read_text(encoding="utf-8"))["body"]


def offline_firewall(section: dict[str, Any] | None = None, cache: Path = RECORDED_CACHE) -> Firewall:
    """The firewall over the recorded answers only, on the day they were recorded."""
    config: FirewallConfig = firewall_config_from_section(section or {}, "test", SUPPLY_CHAIN)
    settings = replace(config.registry, cache_dir=cache, offline=True)
    return Firewall(config, Registry(settings, env={}), clock=lambda: RECORDED_ON)


class FakeRegistry:
    """A loopback server answering like PyPI: recorded bodies, 404s, 500s and a slow path; it counts requests."""

    def __init__(self, bodies: dict[str, Any], slow: float = 0.0) -> None:
        self.bodies = bodies
        self.slow = slow
        self.requests: Counter[str] = Counter()

    @contextmanager
    def running(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests[self.path] += 1
                if self.path.startswith("/slow"):
                    time.sleep(fake.slow)
                status = 500 if self.path.startswith("/broken") else 200 if self.path in fake.bodies else 404
                payload = json.dumps(fake.bodies.get(self.path, {"message": "Not Found"})).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        with serving(server) as url:
            yield url


def online_registry(base_url: str, cache: Path, **overrides: Any) -> Registry:
    settings = RegistrySettings(cache_dir=cache, pypi_url=f"{base_url}/pypi", npm_url=base_url, timeout=2.0,
                                downloads=False, stars=False)
    return Registry(replace(settings, **overrides), env={})


REAL_REGISTRY = FIXTURES / "firewall" / "registry"
_REAL_ANSWERS = {  # fixture file -> (ecosystem, name); SOURCES.md beside them says where and when
    "pypi-six.json": (Ecosystem.PYPI, "six"), "pypi-nvidia-pyindex.json": (Ecosystem.PYPI, "nvidia-pyindex"),
    "pypi-python-nmap.json": (Ecosystem.PYPI, "python-nmap"), "npm-left-pad.json": (Ecosystem.NPM, "left-pad"),
    "npm-fsevents.json": (Ecosystem.NPM, "fsevents"), "npm-xxhash-wasm.json": (Ecosystem.NPM, "xxhash-wasm"),
}


def real_answer(file_name: str) -> Any:
    return json.loads((REAL_REGISTRY / file_name).read_text(encoding="utf-8"))


def recorded_registry_cache(directory: Path) -> Path:
    """A registry cache holding the real, untrimmed answers, trimmed and stored the way the firewall would."""
    registry = Registry(RegistrySettings(cache_dir=directory), env={})
    for file_name, (ecosystem, name) in _REAL_ANSWERS.items():
        trim = trim_pypi if ecosystem is Ecosystem.PYPI else trim_npm
        registry.cache.put(registry.metadata_url(ecosystem, name), 200, trim(real_answer(file_name)), RECORDED_ON)
    return directory


def upload_time(file_name: str, version: str) -> datetime:
    """The registry's own date of `version`: PyPI's earliest file upload, npm's time[version]."""
    body = real_answer(file_name)
    if file_name.startswith("pypi-"):
        return min(datetime.fromisoformat(f["upload_time_iso_8601"].replace("Z", "+00:00"))
                   for f in body["releases"][version])
    return datetime.fromisoformat(body["time"][version].replace("Z", "+00:00"))
