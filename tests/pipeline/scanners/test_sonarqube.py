"""The SonarQube runner against a local stub that replays SonarQube's recorded API responses.

The stub (127.0.0.1 only) serves the recorded bodies in tests/fixtures/sonarqube (see its
SOURCES.md): `api/ce/task` (first PENDING, then the recorded SUCCESS), `api/qualitygates/
project_status` and `api/hotspots/search` as recorded, and `api/issues/search` over a project
of 13,500 issues built from the recorded issue records (each copy gets its own key, a creation
date and this test's project key). The search endpoint behaves like SonarQube's: `createdAfter`
is inclusive, `createdBefore` exclusive, `s=CREATION_DATE&asc=`, `resolved`/`resolutions`, and a
page past the 10,000th result is refused with HTTP 400 and SonarQube's own message.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from pipeline.errors import ScannerError
from pipeline.scanners import sonarqube
from pipeline.scanners.base import Options, ScanContext, SkipKind
from tests import conftest

FIXTURES = conftest.FIXTURES / "sonarqube"
TOKEN = "squ_test_token_never_logged_0123456789"  # noqa: S105 - the stub's own token
PROJECT = "tollgate-demo"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def recorded_issue_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The issue records and components of the three recorded issue responses."""
    over_api = recorded("findings_over_api.json")
    example = recorded("sonarqube-ws_issues-search-example.json")
    bare_list = recorded("api_sonarqube_issues.json")  # DefectDojo's importer fixture: the issues[] array
    return over_api["issues"] + example["issues"] + bare_list, over_api["components"] + example["components"]


def synthetic_project(count: int, start: datetime, spacing: timedelta) -> list[dict[str, Any]]:
    templates, _ = recorded_issue_records()
    issues = []
    for index in range(count):
        issue = copy.deepcopy(templates[index % len(templates)])
        issue["key"] = f"{issue['key']}-{index}"
        issue["project"] = PROJECT
        issue["creationDate"] = (start + index * spacing).strftime(DATE_FORMAT)
        issues.append(issue)
    return issues


@dataclass
class SonarStub:
    issues: list[dict[str, Any]]
    cap: int = 10_000
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    task_polls: int = 0
    dated: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dated = sorted(((created(issue), issue) for issue in self.issues), key=lambda pair: pair[0])

    def search(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        page, size = int(params.get("p", "1")), int(params.get("ps", "100"))
        if page * size > self.cap:
            message = f"Can return only the first {self.cap} results. {page * size}th result asked."
            self.refused.append(message)
            return 400, {"errors": [{"msg": message}]}
        matching = [issue for when, issue in self.dated if self.matches(issue, when, params)]
        if params.get("s") == "CREATION_DATE" and params.get("asc") == "false":
            matching.reverse()
        selected = matching[(page - 1) * size : page * size]
        _, components = recorded_issue_records()
        body = {
            "total": len(matching), "p": page, "ps": size,
            "paging": {"pageIndex": page, "pageSize": size, "total": len(matching)},
            "effortTotal": 0, "issues": selected,
            "components": [c for c in components if c["key"] in {i["component"] for i in selected}],
        }
        if "rules" in params.get("additionalFields", ""):
            body["rules"] = recorded("sonarqube-ws_issues-search-example.json")["rules"]
        return 200, body

    @staticmethod
    def matches(issue: dict[str, Any], when: datetime, params: dict[str, str]) -> bool:
        if params.get("componentKeys") != PROJECT:
            return False
        resolution = issue.get("resolution")
        if params.get("resolved") == "false" and resolution:
            return False
        if params.get("resolved") == "true" and (not resolution or resolution not in params["resolutions"].split(",")):
            return False
        if "createdAfter" in params and when < parse_date(params["createdAfter"]):
            return False
        return not ("createdBefore" in params and when >= parse_date(params["createdBefore"]))

    def respond(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        self.requests.append((path, params))
        if path == "/api/ce/task":
            self.task_polls += 1
            task = recorded("sonarqube-ws_ce-task-example.json")
            if self.task_polls == 1:
                task["task"]["status"] = "PENDING"
                del task["task"]["analysisId"]
            return 200, task
        if path == "/api/qualitygates/project_status":
            return 200, recorded("sonarqube-ws_qualitygates-project_status-example.json")
        if path == "/api/hotspots/search":
            return 200, recorded("sonarqube-ws_hotspots-search-example.json")
        if path == "/api/issues/search":
            return self.search(params)
        return 404, {"errors": [{"msg": f"Unknown url : {path}"}]}


def created(issue: dict[str, Any]) -> datetime:
    return parse_date(issue["creationDate"])


def parse_date(text: str) -> datetime:
    return datetime.strptime(text, DATE_FORMAT)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(stub: SonarStub) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                expected = "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    status, body = 401, {"errors": [{"msg": "Authentication required"}]}
                else:
                    status, body = stub.respond(url.path, dict(parse_qsl(url.query)))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def scan_context(tmp_path: Path, server_url: str, token: str | None = TOKEN) -> ScanContext:
    source = tmp_path / "source"
    (source / ".scannerwork").mkdir(parents=True)
    (source / ".scannerwork" / "report-task.txt").write_text(
        f"projectKey={PROJECT}\nserverUrl={server_url}\nserverVersion=10.6.0\n"
        f"dashboardUrl={server_url}/dashboard?id={PROJECT}\nceTaskId=AYhSC2-LY0CHkWJxvNA9\n"
        f"ceTaskUrl={server_url}/api/ce/task?id=AYhSC2-LY0CHkWJxvNA9\n",
        encoding="utf-8",
    )
    env = {"SONAR_TOKEN": token} if token else {}
    return ScanContext(source=source, work_dir=tmp_path / "work", env=env)


FAST = Options.of({"poll-seconds": 0.01})


def test_reads_every_issue_past_the_10000_cap(tmp_path: Path, serve: Any) -> None:
    issues = synthetic_project(13_500, datetime(2024, 1, 1, tzinfo=timezone.utc), timedelta(seconds=97))
    stub = SonarStub(issues)
    ctx = scan_context(tmp_path, serve(stub))
    output = sonarqube.SCANNER.run(ctx, FAST, time.monotonic() + 300)

    written = json.loads((ctx.work_dir / "sonarqube" / "issues.json").read_text(encoding="utf-8"))
    keys = [issue["key"] for issue in written["issues"]]
    assert len(keys) == len(set(keys)) == 13_500  # every issue once, none twice
    assert written["paging"]["total"] == 13_500
    assert stub.refused == []  # no page past the cap was ever asked for
    searches = [params for path, params in stub.requests if path == "/api/issues/search"]
    assert all(int(p["ps"]) in (1, 500) for p in searches)
    assert any("createdAfter" in p and "createdBefore" in p for p in searches), "the over-cap query was not sliced"
    assert stub.task_polls == 2  # PENDING, then SUCCESS
    assert [r.tool_id for r in output.reports] == [ToolId.SONARQUBE_ISSUES, ToolId.SONARQUBE_HOTSPOTS]
    assert output.notes[0].startswith("SonarQube quality gate: ERROR, 4 failed conditions: new_coverage LT 85")


def test_reports_go_through_the_parsers(tmp_path: Path, serve: Any) -> None:
    issues = synthetic_project(90, datetime(2024, 1, 1, tzinfo=timezone.utc), timedelta(hours=1))
    ctx = scan_context(tmp_path, serve(SonarStub(issues)))
    output = sonarqube.SCANNER.run(ctx, FAST, time.monotonic() + 60)
    options = ParseOptions(source_root=str(ctx.source))
    issues_result, hotspots_result = (parse_report(Report.from_path(str(r.path)), options, r.tool_id)
                                      for r in output.reports)
    counted = issues_result.reconciliation
    assert counted is not None and counted.raw == 90 and not issues_result.skipped
    # The synthetic project repeats the recorded issues: each repeat is the same problem, merged and counted.
    templates, _ = recorded_issue_records()
    assert (counted.kept, counted.merged) == (len(templates), 90 - len(templates))
    # The recorded WONTFIX and FALSE-POSITIVE records come back as inactive findings, not dropped.
    inactive = [f for f in issues_result.findings if not f.active]
    assert len(inactive) == counted.suppressed == 2
    assert len(hotspots_result.findings) == 3


def test_a_second_with_more_than_the_cap_is_read_up_to_the_cap_and_said(tmp_path: Path, serve: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With every issue in one second the date cannot be split further: the cap is a warning, not a crash."""
    monkeypatch.setattr(sonarqube, "MAX_RESULTS", 50)
    monkeypatch.setattr(sonarqube, "PAGE_SIZE", 10)
    stub = SonarStub(synthetic_project(80, datetime(2024, 5, 1, tzinfo=timezone.utc), timedelta(0)), cap=50)
    ctx = scan_context(tmp_path, serve(stub))
    output = sonarqube.SCANNER.run(ctx, FAST, time.monotonic() + 60)
    written = json.loads((ctx.work_dir / "sonarqube" / "issues.json").read_text(encoding="utf-8"))
    unresolved = sum(1 for i in stub.issues if not i.get("resolution"))
    resolved = len(stub.issues) - unresolved
    assert len(written["issues"]) == 50 + resolved
    assert any(f"{unresolved} issues were created within one second" in note for note in output.notes)
    assert stub.refused == []


def test_token_never_reaches_a_file(tmp_path: Path, serve: Any) -> None:
    issues = synthetic_project(10, datetime(2024, 1, 1, tzinfo=timezone.utc), timedelta(days=1))
    ctx = scan_context(tmp_path, serve(SonarStub(issues)))
    output = sonarqube.SCANNER.run(ctx, FAST, time.monotonic() + 60)
    assert all(TOKEN not in path.read_text(encoding="utf-8") for path in (ctx.work_dir / "sonarqube").iterdir())
    assert all(TOKEN not in note for note in output.notes)


def test_wrong_token_is_a_clear_scanner_error(tmp_path: Path, serve: Any) -> None:
    ctx = scan_context(tmp_path, serve(SonarStub([])), token="squ_wrong")  # noqa: S106 - a wrong test token
    with pytest.raises(ScannerError, match="HTTP 401") as raised:
        sonarqube.SCANNER.run(ctx, FAST, time.monotonic() + 60)
    assert "squ_wrong" not in str(raised.value)


def test_failed_background_task(tmp_path: Path, serve: Any) -> None:
    stub = SonarStub([])
    original = stub.respond

    def failing(path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path == "/api/ce/task":
            task = recorded("sonarqube-ws_ce-task-example.json")
            task["task"].update(status="FAILED", errorMessage="Analysis failed")
            return 200, task
        return original(path, params)

    stub.respond = failing  # type: ignore[method-assign]
    ctx = scan_context(tmp_path, serve(stub))
    with pytest.raises(ScannerError, match="ended FAILED: Analysis failed"):
        sonarqube.SCANNER.run(ctx, FAST, time.monotonic() + 60)


def test_not_configured_without_report_task_or_token(tmp_path: Path) -> None:
    bare = ScanContext(source=tmp_path, work_dir=tmp_path / "work", env={"SONAR_TOKEN": TOKEN})
    reason = sonarqube.SCANNER.readiness(bare, Options())
    assert reason is not None
    assert reason.kind is SkipKind.NOT_CONFIGURED
    assert "report-task.txt" in reason.message
    no_token = scan_context(tmp_path, "http://127.0.0.1:9", token=None)
    reason = sonarqube.SCANNER.readiness(no_token, Options())
    assert reason is not None
    assert "SONAR_TOKEN" in reason.message
