"""SonarQube: read the analysis the SonarScanner just submitted, through the Web API.

The scanner itself (sonar-scanner, or SonarSource's action) runs first and leaves
`report-task.txt`. Tollgate then:
1. waits for the compute-engine task it names (`api/ce/task`);
2. reads the quality gate of that analysis (`api/qualitygates/project_status`);
3. reads every issue (`api/issues/search`, ps=500). The API refuses to page past 10,000 results
   ("Can return only the first 10000 results"), so a query over the cap is sliced by creation
   date (`createdAfter` inclusive, `createdBefore` exclusive) and each half is fetched on its own,
   recursively, until every slice fits;
4. reads the security hotspots (`api/hotspots/search`).
Open issues and the ones a reviewer resolved as false positive or won't fix are both kept; the
parser marks the latter inactive, so a triage decision is never lost.

The token comes from the environment variable `token-env` names (default SONAR_TOKEN). It is sent
as HTTP basic auth (every SonarQube version accepts that) and never appears in a log or report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline import termination
from pipeline.atomic import write_atomic
from pipeline.errors import ScannerError
from pipeline.scanners.base import (
    ActionInput,
    Options,
    ReportFile,
    ScanContext,
    Scanner,
    ScannerOutput,
    ScannerSpec,
    ScannerTimeout,
    SkipKind,
    SkipReason,
)
from pipeline.scanners.schema import SECONDS, STRING
from pipeline.secret_mask import secret_from

if TYPE_CHECKING:  # the HTTP client (requests) loads only when a scan talks to the server
    from pipeline.scanners.http import ApiClient

MAX_RESULTS = 10_000  # the Elasticsearch window behind every search web service
PAGE_SIZE = 500
REPORT_TASK_CANDIDATES = (".scannerwork/report-task.txt", "target/sonar/report-task.txt", "build/sonar/report-task.txt")
ISSUE_QUERIES = ({"resolved": "false"}, {"resolved": "true", "resolutions": "FALSE-POSITIVE,WONTFIX"})
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class ReportTask:
    server_url: str
    project_key: str
    ce_task_id: str
    branch: str | None = None
    pull_request: str | None = None

    @classmethod
    def read(cls, path: Path) -> ReportTask:
        pairs = dict(
            line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line
        )
        missing = [key for key in ("serverUrl", "projectKey", "ceTaskId") if not pairs.get(key)]
        if missing:
            raise ScannerError(f"{path}: missing {', '.join(missing)}; is it the SonarScanner's report-task.txt?")
        return cls(pairs["serverUrl"], pairs["projectKey"], pairs["ceTaskId"], pairs.get("branch"),
                   pairs.get("pullRequest"))

    def component_params(self) -> dict[str, str]:
        extra = {"branch": self.branch} if self.branch else {}
        return extra | ({"pullRequest": self.pull_request} if self.pull_request else {})


def report_task_path(ctx: ScanContext, options: Options) -> Path | None:
    configured = options.get("report-task")
    candidates = (configured,) if configured else REPORT_TASK_CANDIDATES
    return next((ctx.source / c for c in candidates if (ctx.source / c).is_file()), None)


class SonarQube(Scanner):
    spec = ScannerSpec(
        name="sonarqube",
        title="SonarQube",
        category=Category.SAST,
        tool_ids=(ToolId.SONARQUBE_ISSUES, ToolId.SONARQUBE_HOTSPOTS),
        install="run the SonarScanner first (sonar-scanner, or the sonarqube-scan-action); Tollgate reads the "
        "report-task.txt it leaves and needs SONAR_TOKEN",
        timeout=1800,
        homepage="https://www.sonarsource.com/products/sonarqube/",
        expected_seconds=30, memory_mb=100, uses_core=False,
        options={"host-url": STRING, "report-task": STRING, "token-env": STRING, "poll-seconds": SECONDS},
        action_inputs=(ActionInput("sonar-host-url", "host-url"),),
    )

    def readiness(self, ctx: ScanContext, options: Options) -> SkipReason | None:
        token_env = options.get("token-env", "SONAR_TOKEN")
        if report_task_path(ctx, options) is None:
            return SkipReason(SkipKind.NOT_CONFIGURED, "no report-task.txt: the SonarScanner has not run here")
        if not ctx.env.get(token_env):
            return SkipReason(SkipKind.NOT_CONFIGURED, f"${token_env} is not set")
        return None

    def run(self, ctx: ScanContext, options: Options, deadline: float) -> ScannerOutput:
        path = report_task_path(ctx, options)
        if path is None:
            raise ScannerError("SonarQube: report-task.txt disappeared")
        task = ReportTask.read(path)
        from pipeline.scanners.http import ApiClient  # noqa: PLC0415 - lazy: requests

        client = ApiClient(
            base_url=options.get("host-url") or task.server_url,
            auth=(secret_from(ctx.env, options.get("token-env", "SONAR_TOKEN")) or "", ""),
            deadline=deadline,
            what="SonarQube",
        )
        folder = ctx.folder(self.spec.name)
        analysis_id = wait_for_task(client, task.ce_task_id, float(options.get("poll-seconds", 2.0)))
        gate = client.get_json("api/qualitygates/project_status", {"analysisId": analysis_id})
        write_json(folder / "quality-gate.json", gate)
        # `componentKeys`: deprecated for `components` in 10.2 but still served, and the one 9.9 LTS knows.
        issues = fetch_issues(client, {"componentKeys": task.project_key, **task.component_params()})
        write_json(folder / "issues.json", issues)
        hotspots = fetch_hotspots(client, {"projectKey": task.project_key, **task.component_params()})
        write_json(folder / "hotspots.json", hotspots)
        return ScannerOutput(
            reports=(
                ReportFile(folder / "issues.json", ToolId.SONARQUBE_ISSUES),
                ReportFile(folder / "hotspots.json", ToolId.SONARQUBE_HOTSPOTS),
            ),
            notes=(quality_gate_note(gate), *client.warnings),
        )


def wait_for_task(client: ApiClient, task_id: str, poll_seconds: float) -> str:
    """Poll the compute-engine task until it succeeds; its analysis id names the quality gate to read."""
    while True:
        task = client.get_json("api/ce/task", {"id": task_id}).get("task", {})
        status = task.get("status")
        if status == "SUCCESS":
            return str(task["analysisId"])
        if status in ("FAILED", "CANCELED"):
            raise ScannerError(f"SonarQube: background task {task_id} ended {status}: {task.get('errorMessage', '')}")
        if time.monotonic() + poll_seconds >= client.deadline:
            raise ScannerTimeout(f"SonarQube: background task {task_id} still {status} at the timeout")
        termination.pause(poll_seconds, "SonarQube")


def fetch_issues(client: ApiClient, component: dict[str, str]) -> dict[str, Any]:
    pages = [page for query in ISSUE_QUERIES for page in sliced_search(client, {**component, **query})]
    return merged_response(pages, "issues", extra_lists=("components", "rules"))


def sliced_search(client: ApiClient, params: dict[str, str], window: tuple[datetime, datetime] | None = None,
                  ) -> Iterator[dict[str, Any]]:
    """Every page of an issue search; a query over the 10,000 cap is split by creation date."""
    window_params = params | (_window_params(window) if window else {})
    first = search_page(client, window_params, 1)
    total = int(first.get("paging", {}).get("total", 0))
    if total <= MAX_RESULTS:
        yield first
        for page in range(2, -(-total // PAGE_SIZE) + 1):
            yield search_page(client, window_params, page)
        return
    window = window or _creation_window(client, params)
    start, end = window
    if end - start <= ONE_SECOND:
        client.warnings.append(
            f"SonarQube: {total} issues were created within one second ({start:%Y-%m-%dT%H:%M:%S}); "
            f"only the first {MAX_RESULTS} could be read"
        )
        yield from (search_page(client, window_params, page) for page in range(1, MAX_RESULTS // PAGE_SIZE + 1))
        return
    middle = (start + (end - start) / 2).replace(microsecond=0)  # whole seconds: the API's resolution
    yield from sliced_search(client, params, (start, middle))
    yield from sliced_search(client, params, (middle, end))


def search_page(client: ApiClient, params: dict[str, str], page: int) -> dict[str, Any]:
    query = {**params, "ps": str(PAGE_SIZE), "p": str(page), "additionalFields": "rules"}
    return client.get_json("api/issues/search", query)


def _creation_window(client: ApiClient, params: dict[str, str]) -> tuple[datetime, datetime]:
    """[oldest, newest + 1 s): the span every issue of the query was created in."""

    def edge(ascending: str) -> datetime:
        page = client.get_json("api/issues/search", {**params, "ps": "1", "s": "CREATION_DATE", "asc": ascending})
        return datetime.strptime(page["issues"][0]["creationDate"], DATE_FORMAT)

    return edge("true"), edge("false") + ONE_SECOND


def _window_params(window: tuple[datetime, datetime]) -> dict[str, str]:
    start, end = window
    return {"createdAfter": _format_date(start), "createdBefore": _format_date(end)}


def _format_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(DATE_FORMAT)


def fetch_hotspots(client: ApiClient, project: dict[str, str]) -> dict[str, Any]:
    """Hotspots cannot be sliced by date; past 10,000 the rest is reported as a warning."""
    pages = [client.get_json("api/hotspots/search", {**project, "ps": str(PAGE_SIZE), "p": "1"})]
    total = int(pages[0].get("paging", {}).get("total", 0))
    last_page = -(-min(total, MAX_RESULTS) // PAGE_SIZE)
    pages += [
        client.get_json("api/hotspots/search", {**project, "ps": str(PAGE_SIZE), "p": str(page)})
        for page in range(2, last_page + 1)
    ]
    if total > MAX_RESULTS:
        client.warnings.append(f"SonarQube: {total} hotspots; only the first {MAX_RESULTS} could be read")
    return merged_response(pages, "hotspots", extra_lists=("components",))


def merged_response(pages: list[dict[str, Any]], records: str, extra_lists: tuple[str, ...]) -> dict[str, Any]:
    """One response-shaped document: records unique by key, with their components and rules."""
    merged: dict[str, Any] = {records: list(_unique(pages, records))}
    for name in extra_lists:
        merged[name] = list(_unique(pages, name))
    count = len(merged[records])
    merged["paging"] = {"pageIndex": 1, "pageSize": count, "total": count}
    return merged


def _unique(pages: list[dict[str, Any]], name: str) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    for page in pages:
        for item in page.get(name) or ():
            key = str(item.get("key"))
            if key not in seen:
                seen.add(key)
                yield item


def quality_gate_note(gate: dict[str, Any]) -> str:
    status = gate.get("projectStatus", {})
    failed = [c for c in status.get("conditions", []) if c.get("status") == "ERROR"]
    details = "; ".join(
        f"{c.get('metricKey')} {c.get('comparator', '')} {c.get('errorThreshold', '')} "
        f"(actual {c.get('actualValue')})".replace("  ", " ")
        for c in failed
    )
    verdict = status.get("status", "NONE")
    return f"SonarQube quality gate: {verdict}" + (f", {len(failed)} failed conditions: {details}" if failed else "")


def write_json(path: Path, document: Any) -> None:
    write_atomic(path, json.dumps(document, ensure_ascii=False, indent=1))


SCANNER = SonarQube()
SCANNERS = (SCANNER,)
