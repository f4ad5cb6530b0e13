"""The ZAP runner against a local stand-in for the ZAP API, through the real `zapv2` client.

The stand-in is a recorder written for these tests, not ZAP: it answers and records the calls the
runner makes, so the tests can assert what ZAP is told (the context's regexes, the scope options).
What ZAP then does with them (a context holds a URL when an include regex matches it whole and no
exclude does) is checked by matching the recorded regexes against URLs, as ZAP would.

`zapv2` sends every call to `http://zap/JSON/...` through ZAP as an HTTP proxy, so the stand-in
is a proxy-style server on 127.0.0.1. Each endpoint the runner calls answers with the shape ZAP's
API documentation gives (https://www.zaproxy.org/docs/api/): views return `{"<name>": value}`,
actions `{"Result": "OK"}` or an id, errors HTTP 400 `{"code": ..., "message": ...}`, and
`OTHER/core/other/jsonreport/` returns a real ZAP 2.14.0 traditional-JSON report
(tests/fixtures/zap, see SOURCES.md). Status views report progress before completion.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from normalizers.model import Category
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.cli import main
from pipeline.errors import ExitCode, ScannerError
from pipeline.scanners.base import Options, ScanContext, SkipKind
from pipeline.scanners.zap import SCANNER
from pipeline.scope import Allowlist
from tests.conftest import FIXTURES
from tests.loopback import serving

REPORT = FIXTURES / "zap" / "pipeline-templates_zap-2.14.0_report_json.json"
API_KEY = "zap-test-key"
AUTH_HEADER = "Authorization: Bearer secret-session-token"
TARGET = "http://127.0.0.1:8999/shop/"

# Endpoint -> the body ZAP answers with (from the API docs); None marks the ones with progress.
OK = {"Result": "OK"}
ENDPOINTS: dict[str, Any] = {
    "/JSON/core/view/version/": {"version": "2.14.0"},
    "/JSON/core/action/newSession/": OK,
    "/JSON/core/action/setMode/": OK,
    "/JSON/context/action/newContext/": {"contextId": "2"},
    "/JSON/context/action/includeInContext/": OK,
    "/JSON/context/action/excludeFromContext/": OK,
    "/JSON/context/action/removeContext/": OK,
    "/JSON/context/action/setContextInScope/": OK,
    "/JSON/replacer/action/addRule/": OK,
    "/JSON/replacer/action/removeRule/": OK,
    "/JSON/spider/action/setOptionMaxDuration/": OK,
    "/JSON/spider/action/scan/": {"scan": "0"},
    "/JSON/spider/view/status/": None,
    "/JSON/ajaxSpider/action/setOptionMaxDuration/": OK,
    "/JSON/ajaxSpider/action/scan/": OK,
    # ZAP's default allowed resources (AjaxSpiderParam), `enabled` a JSON boolean as ZAP writes it
    "/JSON/ajaxSpider/view/allowedResources/": {"allowedResources": [
        {"enabled": True, "regex": "^http.*\\.js(?:\\?.*)?$"}, {"enabled": True, "regex": "^http.*\\.css(?:\\?.*)?$"},
        {"enabled": False, "regex": "^https://cdn\\.example\\.com/.*$"}]},
    "/JSON/ajaxSpider/action/setEnabledAllowedResource/": OK,
    "/JSON/ajaxSpider/view/status/": None,
    "/JSON/pscan/view/recordsToScan/": None,
    "/JSON/ascan/action/scan/": {"scan": "3"},
    "/JSON/ascan/view/status/": None,
    "/OTHER/core/other/jsonreport/": None,
}
PROGRESS: dict[str, list[dict[str, str]]] = {
    "/JSON/spider/view/status/": [{"status": "40"}, {"status": "100"}],
    "/JSON/ajaxSpider/view/status/": [{"status": "running"}, {"status": "stopped"}],
    "/JSON/pscan/view/recordsToScan/": [{"recordsToScan": "7"}, {"recordsToScan": "0"}],
    "/JSON/ascan/view/status/": [{"status": "15"}, {"status": "100"}],
}


@dataclass
class ZapStub:
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # endpoint -> ZAP error body

    def answer(self, endpoint: str, params: dict[str, str]) -> tuple[int, bytes]:
        self.calls.append((endpoint, params))
        if endpoint in self.errors:
            return 400, json.dumps(self.errors[endpoint]).encode()
        if endpoint == "/OTHER/core/other/jsonreport/":
            return 200, REPORT.read_bytes()
        if endpoint in PROGRESS:
            steps = PROGRESS[endpoint]
            count = self.polls[endpoint] = self.polls.get(endpoint, 0) + 1
            return 200, json.dumps(steps[min(count, len(steps)) - 1]).encode()
        if endpoint in ENDPOINTS:
            return 200, json.dumps(ENDPOINTS[endpoint]).encode()
        return 400, json.dumps({"code": "bad_view", "message": f"No such view {endpoint}"}).encode()

    def called(self, endpoint: str) -> list[dict[str, str]]:
        return [params for name, params in self.calls if name == endpoint]


@pytest.fixture
def zap() -> Iterator[tuple[ZapStub, str]]:
    stub = ZapStub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the proxy request line holds the absolute URL http://zap/JSON/...
            url = urlsplit(self.path)
            stub.keys.append(self.headers.get("X-ZAP-API-Key"))
            stub.hosts.append(url.hostname or "")
            if self.headers.get("X-ZAP-API-Key") != API_KEY:
                status, body = 400, json.dumps({"code": "bad_api_key", "message": "Bad API Key"}).encode()
            else:
                status, body = stub.answer(url.path, dict(parse_qsl(url.query)))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield stub, url


def context(tmp_path: Path, zap_url: str) -> ScanContext:
    target = Allowlist.parse(["127.0.0.1"]).guard(TARGET)
    env = {"ZAP_URL": zap_url, "ZAP_API_KEY": API_KEY, "ZAP_AUTH_HEADER": AUTH_HEADER}
    return ScanContext(source=tmp_path, work_dir=tmp_path / "work", dast_targets=(target,), env=env)


FULL = Options.of({"mode": "full", "ajax-spider": True, "exclude": ("^.*/logout.*$",), "poll-seconds": 0.01})


def test_full_scan_calls_every_endpoint_in_order(zap: tuple[ZapStub, str], tmp_path: Path) -> None:
    stub, url = zap
    output = SCANNER.run(context(tmp_path, url), FULL, time.monotonic() + 60)
    order = [name for name, _ in stub.calls if not name.endswith(("/status/", "/recordsToScan/"))]
    assert order == [
        "/JSON/core/view/version/",
        "/JSON/core/action/newSession/",
        "/JSON/core/action/setMode/",
        "/JSON/context/action/newContext/",
        "/JSON/context/action/includeInContext/",
        "/JSON/context/action/excludeFromContext/",
        "/JSON/context/action/setContextInScope/",
        "/JSON/replacer/action/addRule/",
        "/JSON/spider/action/setOptionMaxDuration/",
        "/JSON/spider/action/scan/",
        "/JSON/ajaxSpider/action/setOptionMaxDuration/",
        "/JSON/ajaxSpider/view/allowedResources/",
        "/JSON/ajaxSpider/action/setEnabledAllowedResource/",
        "/JSON/ajaxSpider/action/setEnabledAllowedResource/",
        "/JSON/ajaxSpider/action/scan/",
        "/JSON/ajaxSpider/action/setEnabledAllowedResource/",
        "/JSON/ajaxSpider/action/setEnabledAllowedResource/",
        "/JSON/ascan/action/scan/",
        "/JSON/replacer/action/removeRule/",
        "/JSON/context/action/removeContext/",
        "/OTHER/core/other/jsonreport/",
    ]
    assert stub.polls == {endpoint: 2 for endpoint in PROGRESS} | {"/JSON/pscan/view/recordsToScan/": 3}
    assert set(stub.keys) == {API_KEY} and set(stub.hosts) == {"zap"}
    assert output.notes == ("ZAP 2.14.0",)
    assert output.reports[0].path.read_bytes() == REPORT.read_bytes()


def test_scope_reaches_zap_as_context_protected_mode_and_header_rule(zap: tuple[ZapStub, str], tmp_path: Path) -> None:
    stub, url = zap
    ctx = context(tmp_path, url)
    SCANNER.run(ctx, FULL, time.monotonic() + 60)
    origin = ctx.dast_targets[0].origin_regex
    assert stub.called("/JSON/core/action/setMode/") == [{"mode": "protect"}]
    context_name = stub.called("/JSON/context/action/newContext/")[0]["contextName"]
    assert stub.called("/JSON/context/action/includeInContext/") == [
        {"contextName": context_name, "regex": regex} for regex in ctx.dast_scope.url_regexes
    ]
    assert stub.called("/JSON/context/action/setContextInScope/") == [
        {"contextName": context_name, "booleanInScope": "true"}
    ]
    assert stub.called("/JSON/context/action/excludeFromContext/") == [
        {"contextName": context_name, "regex": "^.*/logout.*$"}
    ]
    rule = stub.called("/JSON/replacer/action/addRule/")[0]
    assert rule == {"description": "tollgate-auth-header", "enabled": "true", "matchType": "REQ_HEADER",
                    "matchRegex": "false", "matchString": "Authorization",
                    "replacement": "Bearer secret-session-token", "url": origin}
    assert stub.called("/JSON/spider/action/scan/") == [{"url": TARGET, "contextName": context_name, "recurse": "true"}]
    assert stub.called("/JSON/ajaxSpider/action/scan/") == [
        {"url": TARGET, "inScope": "true", "contextName": context_name}
    ]
    assert stub.called("/JSON/ascan/action/scan/") == [
        {"url": TARGET, "recurse": "true", "inScopeOnly": "true", "contextId": "2"}
    ]


def test_ajax_spider_fetches_no_allowed_resource_from_other_hosts(zap: tuple[ZapStub, str], tmp_path: Path) -> None:
    """The default allowed resources (any host's .js and .css) are off while the ajax spider runs, and
    on again afterwards; one the user had disabled stays as it was."""
    stub, url = zap
    SCANNER.run(context(tmp_path, url), FULL, time.monotonic() + 60)
    toggles = [(name, params) for name, params in stub.calls
               if name in ("/JSON/ajaxSpider/action/setEnabledAllowedResource/", "/JSON/ajaxSpider/action/scan/")]
    defaults = ["^http.*\\.js(?:\\?.*)?$", "^http.*\\.css(?:\\?.*)?$"]
    assert [params.get("enabled", "scan") for _, params in toggles] == ["false", "false", "scan", "true", "true"]
    assert [params["regex"] for _, params in toggles if "regex" in params] == defaults * 2


def in_context(url: str, includes: list[str], excludes: list[str]) -> bool:
    """ZAP's rule (Context.isInContext): an include regex matches the whole URL and no exclude does."""
    def matches(regexes: list[str]) -> bool:
        return any(re.fullmatch(regex, url) for regex in regexes)
    return matches(includes) and not matches(excludes)


@pytest.mark.parametrize(("allow", "inside", "outside"), [
    (["127.0.0.1:8999"],
     ["http://127.0.0.1:8999/shop/", "http://127.0.0.1:8999", "https://127.0.0.1:8999/a?b#c"],
     ["http://127.0.0.1:9000/", "http://127.0.0.1/", "http://127.0.0.1:8999@evil.test/",
      "http://127.0.0.1:8999.evil.test/", "http://127.0.0.10:8999/", "http://evil.test/?http://127.0.0.1:8999/",
      "http://127.0.0.1:89990/", "http://127.0.0.1:8999\\@evil.test/"]),
    (["app.example.com"],
     ["https://app.example.com/", "http://APP.example.com:8080/x", "https://app.example.com:443/"],
     ["https://app.example.com.evil.net/", "https://app.example.com@evil.net/", "https://xapp.example.com/",
      "https://evil.net/app.example.com", "https://app-example.com/", "https://a.app.example.com/",
      "ftp://app.example.com/"]),
    (["*.example.com:443"],
     ["https://a.example.com/", "https://a.b.example.com:443/x", "http://a.example.com:443/"],
     ["https://example.com/", "https://a.example.com:8443/", "http://a.example.com/", "https://a.example.com.evil/",
      "https://evil.com/.example.com", "https://a.example.com@evil.com/", "https://a/b.example.com/",
      "https://a.example.comx/"]),
    (["[::1]:8080"],
     ["http://[::1]:8080/"],
     ["http://[::1]/", "http://[::1]:8081/", "http://[::2]:8080/"]),
])
def test_context_holds_the_allowlist_and_nothing_else(zap: tuple[ZapStub, str], tmp_path: Path, allow: list[str],
                                                      inside: list[str], outside: list[str]) -> None:
    """What ZAP is told, matched as ZAP matches it: a redirect to another port, userinfo and suffix tricks
    are outside the context, so neither the spider nor (in protected mode) the active scan goes there."""
    stub, url = zap
    allowlist = Allowlist.parse(allow)
    target = allowlist.guard(inside[0])
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", dast_targets=(target,),
                      env={"ZAP_URL": url, "ZAP_API_KEY": API_KEY}, dast_allow=allowlist)
    SCANNER.run(ctx, FULL, time.monotonic() + 60)
    includes = [params["regex"] for params in stub.called("/JSON/context/action/includeInContext/")]
    excludes = [params["regex"] for params in stub.called("/JSON/context/action/excludeFromContext/")]
    assert len(includes) == len(allow)
    assert [u for u in inside if not in_context(u, includes, excludes)] == []
    assert [u for u in outside if in_context(u, includes, excludes)] == []
    assert not in_context(inside[0].rstrip("/") + "/logout", includes, excludes), "the configured exclude holds"


def test_baseline_mode_runs_no_active_scan(zap: tuple[ZapStub, str], tmp_path: Path) -> None:
    stub, url = zap
    SCANNER.run(context(tmp_path, url), Options.of({"poll-seconds": 0.01}), time.monotonic() + 60)
    assert not stub.called("/JSON/ascan/action/scan/")
    assert not stub.called("/JSON/ajaxSpider/action/scan/")
    assert stub.called("/JSON/spider/action/scan/")


def test_report_goes_through_the_zap_parser(zap: tuple[ZapStub, str], tmp_path: Path) -> None:
    _, url = zap
    output = SCANNER.run(context(tmp_path, url), FULL, time.monotonic() + 60)
    result = parse_report(Report.from_path(str(output.reports[0].path)), ParseOptions(), output.reports[0].tool_id)
    assert result.findings
    assert all(f.category is Category.DAST for f in result.findings)


def test_zap_api_error_is_a_scanner_error(zap: tuple[ZapStub, str], tmp_path: Path) -> None:
    stub, url = zap
    stub.errors["/JSON/spider/action/scan/"] = {"code": "url_not_found", "message": "URL Not Found in the Scan Tree"}
    with pytest.raises(ScannerError, match="spider/action/scan failed: url_not_found"):
        SCANNER.run(context(tmp_path, url), FULL, time.monotonic() + 60)
    assert stub.called("/JSON/context/action/removeContext/"), "the context is removed even after a failure"


def test_timeout_while_spidering(zap: tuple[ZapStub, str], tmp_path: Path) -> None:
    _, url = zap
    with pytest.raises(ScannerError, match="spider was still running at the timeout"):
        SCANNER.run(context(tmp_path, url), Options.of({"poll-seconds": 5}), time.monotonic() + 1)


def test_no_daemon_is_not_configured(tmp_path: Path) -> None:
    ctx = context(tmp_path, "unused")
    bare = ScanContext(source=ctx.source, work_dir=ctx.work_dir, dast_targets=ctx.dast_targets, env={})
    reason = SCANNER.readiness(bare, Options())
    assert reason is not None
    assert reason.kind is SkipKind.NOT_CONFIGURED
    assert "ZAP_URL" in reason.message


def test_tollgate_scan_only_zap(zap: tuple[ZapStub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI end to end, with the scanner's options from .tollgate.yml: alerts normalized, gated, in SARIF."""
    _, url = zap
    (tmp_path / ".tollgate.yml").write_text("scan:\n  scanners:\n    zap: {poll-seconds: 0.01}\n", encoding="utf-8")
    for name, value in {"ZAP_URL": url, "ZAP_API_KEY": API_KEY}.items():
        monkeypatch.setenv(name, value)
    # The stub answers with a recorded report of www.itsecgames.com: allowed too, or its alerts are out of scope.
    code = main(["scan", str(tmp_path), "--only", "zap", "--dast-target", TARGET, "--dast-allow", "127.0.0.1",
                 "--dast-allow", "www.itsecgames.com", "--out", str(tmp_path / "out"),
                 "--repo", "tollgate-dev/zap-test"])
    assert code in (ExitCode.PASSED, ExitCode.GATE_FAILED)
    assert "zap: completed" in capsys.readouterr().err
    sarif = json.loads((tmp_path / "out" / "tollgate.sarif").read_text(encoding="utf-8"))
    assert any(run["tool"]["driver"]["name"] == "ZAP" for run in sarif["runs"])
