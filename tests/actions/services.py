"""What the action harness puts where a real scanner would be (tests/fixtures/actions, see SOURCES.md).

- `replaying_tool`: an executable with the tool's name (dependency-check.sh, trivy) that records its
  argv and copies a real recorded report to the path Tollgate asked for (`--out DIR` or `--output
  FILE`). Tollgate finds it on PATH exactly as it finds the real tool.
- `SonarQubeApi` and `ZapApi`: loopback HTTP servers answering the Web API endpoints Tollgate's
  runners call, with the recorded response bodies. The ZAP one is a proxy-style server, because
  the zapv2 client sends `http://zap/JSON/...` through the daemon as an HTTP proxy.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.conftest import FIXTURES
from tests.loopback import serving

# The real recorded reports the harness feeds to the actions, where the parser tests keep them;
# each folder's SOURCES.md gives the origin and license.
_FIXTURES = FIXTURES
RECORDED_IN = {
    "VulnerableJavaWebApplication_dependency-check-report.json": _FIXTURES / "dependency_check",
    "alpine-310.json.golden": _FIXTURES / "trivy",
    "pipeline-templates_zap-2.14.0_report_json.json": _FIXTURES / "zap",
    "findings_over_api.json": _FIXTURES / "sonarqube",
    "findings_over_api_empty.json": _FIXTURES / "sonarqube",
    "sonarqube-ws_hotspots-search-example.json": _FIXTURES / "sonarqube",
    "sonarqube-ws_qualitygates-project_status-example.json": _FIXTURES / "sonarqube",
    "sonarqube-ws_ce-task-example.json": _FIXTURES / "sonarqube",
}


def recorded_path(name: str) -> Path:
    return RECORDED_IN[name] / name

REPLAYER = '''#!{python}
"""Stands in for {tool}, which cannot run here: records its argv, then writes the real recorded report
{report} where Tollgate asked for it."""
import json, shutil, sys
from pathlib import Path
arguments = sys.argv[1:]
with open({calls!r}, "a", encoding="utf-8") as log:
    log.write(json.dumps(arguments) + "\\n")
if "--out" in arguments:
    destination = Path(arguments[arguments.index("--out") + 1]) / {report_name!r}
else:
    destination = Path(arguments[arguments.index("--output") + 1])
shutil.copyfile({report!r}, destination)
'''


@dataclass(frozen=True)
class ReplayingTool:
    executable: Path
    calls_file: Path

    def calls(self) -> list[list[str]]:
        if not self.calls_file.exists():
            return []
        return [json.loads(line) for line in self.calls_file.read_text(encoding="utf-8").splitlines()]


def replaying_tool(bin_dir: Path, name: str, report: Path, report_name: str = "") -> ReplayingTool:
    bin_dir.mkdir(parents=True, exist_ok=True)
    executable, calls = bin_dir / name, bin_dir / f"{name}.calls"
    executable.write_text(REPLAYER.format(python=sys.executable, tool=name, report=str(report),
                                          calls=str(calls), report_name=report_name), encoding="utf-8")
    executable.chmod(0o755)
    return ReplayingTool(executable, calls)


def recorded(name: str) -> bytes:
    return recorded_path(name).read_bytes()


@dataclass
class Api:
    """Requests seen by a stub: (path, query parameters, headers)."""

    calls: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)

    def answer(self, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, bytes]:
        raise NotImplementedError

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.calls]


@dataclass
class SonarQubeApi(Api):
    """api/ce/task, api/qualitygates/project_status, api/issues/search and api/hotspots/search."""

    token: str = "squ_action_harness_token"  # noqa: S105 - the stub's own token

    def answer(self, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, bytes]:
        expected = "Basic " + base64.b64encode(f"{self.token}:".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, b'{"errors":[{"msg":"Unauthorized"}]}'
        bodies = {
            "/api/ce/task": "sonarqube-ws_ce-task-example.json",
            "/api/qualitygates/project_status": "sonarqube-ws_qualitygates-project_status-example.json",
            "/api/hotspots/search": "sonarqube-ws_hotspots-search-example.json",
            "/api/issues/search": ("findings_over_api.json" if params.get("resolved") == "false"
                                   else "findings_over_api_empty.json"),
        }
        return (200, recorded(bodies[path])) if path in bodies else (404, b'{"errors":[{"msg":"Unknown url"}]}')


OK = b'{"Result": "OK"}'


@dataclass
class ZapApi(Api):
    """The ZAP API endpoints the runner calls (https://www.zaproxy.org/docs/api/), each complete at once."""

    api_key: str = "zap-action-harness-key"

    def answer(self, path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, bytes]:
        if headers.get("X-ZAP-API-Key") != self.api_key:
            return 400, b'{"code": "bad_api_key", "message": "Bad API Key"}'
        views: dict[str, Any] = {
            "/JSON/core/view/version/": {"version": "2.14.0"},
            "/JSON/context/action/newContext/": {"contextId": "1"},
            "/JSON/spider/action/scan/": {"scan": "0"},
            "/JSON/spider/view/status/": {"status": "100"},
            "/JSON/pscan/view/recordsToScan/": {"recordsToScan": "0"},
            "/JSON/ascan/action/scan/": {"scan": "1"},
            "/JSON/ascan/view/status/": {"status": "100"},
            "/JSON/ajaxSpider/view/status/": {"status": "stopped"},
        }
        if path == "/OTHER/core/other/jsonreport/":
            return 200, recorded("pipeline-templates_zap-2.14.0_report_json.json")
        if path in views:
            return 200, json.dumps(views[path]).encode()
        return (200, OK) if "/action/" in path else (400, b'{"code": "bad_view", "message": "No such view"}')


@contextmanager
def serve(api: Api) -> Iterator[str]:
    """The stub on 127.0.0.1 (a free port); yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # a proxy request line holds the absolute URL; a direct one, the path
            url = urlsplit(self.path)
            params, headers = dict(parse_qsl(url.query)), {k: v for k, v in self.headers.items()}
            api.calls.append((url.path, params, headers))
            status, body = api.answer(url.path, params, headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url
