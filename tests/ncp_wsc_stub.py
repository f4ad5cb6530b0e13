"""A local stand-in for NAVER Cloud's Web Security Checker API, built from its documentation.

It serves, on 127.0.0.1, what the API pages describe (see pipeline/ncp_wsc/__init__.py):
- every request must carry `x-ncp-apigw-timestamp` (within 5 minutes), `x-ncp-iam-access-key` and
  `x-ncp-apigw-signature-v2`, checked here with its own HMAC code, not the client's; a bad one gets
  the gateway's 401 `{"error": {"errorCode": "200", "message": "Authentication Failed"}}`;
- `PUT /api/v1/job` checks the body as the service does: VulnItems not a list is 160431, an unknown
  item or ALL with others 160433, a StartUrl host that is not one of the caller's assets 160451
  Assets_Check_Fail (service errors as `{"error": {"errorCode", "message"}}`, HTTP 400 by default);
- `GET /api/v1/jobs?limit=&page=` lists the jobs, newest first, and each listing moves every job one
  step along its flow of searchJobs status codes (crawl pending 12, crawling 13, crawl complete 14,
  scan pending 2, scanning 3, complete 4 by default), with `progress` and `result_button`;
- `POST /api/v1/jobs/search`, `PATCH /api/v1/jobs/{id}/cancel` and `/stop`, and
  `GET /api/v1/jobs/{id}/report` (the report fixture, in the `returnCode`/`resources` envelope; 901
  API Call Fail before the job is complete);
- `script(status, body)` queues canned answers (e.g. a 429 Throttle Limited) for the next requests.
Every request is recorded, so a test can assert that none was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.loopback import serving

REPORT = Path(__file__).parent / "fixtures" / "ncp_wsc" / "getreport-envelope.json"
ACCESS_KEY = "stub-access-key-0123"
SECRET_KEY = "stub-secret-key-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - a test key for the stub only
KNOWN_ITEMS = {"XSS", "SQL Injection", "SSRF", "XXE", "Command Injection", "File Upload", "File Download", "LFI",
               "RFI", "Directory Listing", "Source Code Disclosure", "Information Disclosure", "URL Redirection",
               "Insecure SSL/TLS", "Mixed Content", "HTTP Request Smuggling", "Personal Information Exposure",
               "SSI Injection", "Insufficient Authorization", "Specific Vulnerability", "File Management"}
HAPPY_FLOW = ("12", "13", "14", "2", "3", "4")
CANCELLED_FLOW = ("12", "13", "91")
BUTTONS = {"4": "report", "91": "cancel", "93": "terminate", "5": "cause", "15": "cause"}
SUCCESS = {"returnCode": "0", "returnDesc": "Request Success", "returnMessage": "Success"}
AUTH_FAILED = {"error": {"errorCode": "200", "message": "Authentication Failed",
                         "details": "Invalid authentication information."}}
THROTTLED = {"error": {"errorCode": "410", "message": "Throttle Limited"}}
_JOB_PATH = re.compile(r"^/api/v1/jobs/(\d+)/(report|cancel|stop)$")


@dataclass(frozen=True)
class Recorded:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]
    body: Any


@dataclass
class Job:
    instance: int
    start_url: str
    memo: str
    flow: tuple[str, ...]
    master: int | None = None
    step: int = 0

    @property
    def status(self) -> str:
        return self.flow[min(self.step, len(self.flow) - 1)]

    def record(self) -> dict[str, Any]:
        done = self.step >= len(self.flow) - 1
        return {"instanceNo": self.instance, "start_date": "2026-11-22 10:00:00",
                "end_date": "2026-11-22 11:00:00" if done else None, "status": self.status,
                "progress": round(100 * min(self.step, len(self.flow) - 1) / (len(self.flow) - 1)),
                "start_url": self.start_url, "crawl_cnt": 10 * self.step, "scan_cnt": 9 if self.status == "4" else 0,
                "memo": self.memo, "result_button": BUTTONS.get(self.status, ""),
                "rescan_button": "possible" if self.status == "4" else ""}


@dataclass
class WscStub:
    assets: frozenset[str] = frozenset({"127.0.0.1"})  # hosts the caller "owns" in NAVER Cloud
    flow: tuple[str, ...] = HAPPY_FLOW
    service_error_status: int = 400  # the English page says 400, the Korean one 200
    report: dict[str, Any] = field(default_factory=lambda: json.loads(REPORT.read_text(encoding="utf-8")))
    requests: list[Recorded] = field(default_factory=list)
    jobs: dict[int, Job] = field(default_factory=dict)
    scripted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    next_instance: int = 5001
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, status: int, body: dict[str, Any], times: int = 1) -> None:
        self.scripted.extend([(status, body)] * times)

    def add_job(self, start_url: str, flow: tuple[str, ...] | None = None) -> int:
        """A job created elsewhere (the console), to attach to."""
        job = Job(self.next_instance, start_url, "console", flow or self.flow)
        self.jobs[job.instance] = job
        self.next_instance += 1
        return job.instance

    def calls(self) -> list[str]:
        return [f"{r.method} {urlsplit(r.target).path}" for r in self.requests]

    # --- the API ----------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(Recorded(method, target, headers, body))
            if not signed_correctly(method, target, headers):
                return 401, AUTH_FAILED
            if self.scripted:
                return self.scripted.pop(0)
            return self.route(method, target, body)

    def route(self, method: str, target: str, body: Any) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        if (method, url.path) == ("PUT", "/api/v1/job"):
            return self.create(body)
        if (method, url.path) == ("GET", "/api/v1/jobs"):
            query = dict(parse_qsl(url.query))
            return self.listing(list(self.jobs.values()), int(query["limit"]), int(query["page"]), advance=True)
        if (method, url.path) == ("POST", "/api/v1/jobs/search"):
            return self.search(body)
        match = _JOB_PATH.match(url.path)
        if match:
            return self.job_action(method, int(match[1]), match[2])
        return 404, {"error": {"errorCode": "300", "message": "Not Found Exception"}}

    def job_action(self, method: str, instance: int, action: str) -> tuple[int, dict[str, Any]]:
        job = self.jobs.get(instance)
        if job is None or (method, action) not in {("GET", "report"), ("PATCH", "cancel"), ("PATCH", "stop")}:
            return self.service_error(901, "API Call Fail")
        if action == "report":
            if job.status != "4":
                return self.service_error(901, "API Call Fail")
            return 200, {**SUCCESS, "resources": self.report.get("resources", self.report)}
        job.flow, job.step = (job.status, "91" if action == "cancel" else "93"), 1
        return 200, {**SUCCESS, "resources": None}

    def create(self, body: Any) -> tuple[int, dict[str, Any]]:
        items = body.get("VulnItems") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return self.service_error(160431, "VulnItems should be list")
        if not items or any(i not in KNOWN_ITEMS | {"ALL"} for i in items) or ("ALL" in items and len(items) > 1):
            return self.service_error(160433, "Param Value Not Define - VulnItems")
        if body.get("UserAgent") not in {"PC Chrome", "PC IE", "iPhone", "Android"} or \
                body.get("Speed") not in {"1", "2", "3"}:
            return self.service_error(160332, "Param Check Error")
        if urlsplit(str(body.get("StartUrl"))).hostname not in self.assets:
            return self.service_error(160451, "Assets_Check_Fail")
        master = int(body["MasterInstanceNo"]) if "MasterInstanceNo" in body else None
        if master is not None and (master not in self.jobs or self.jobs[master].status != "4"):
            return self.service_error(901, "API Call Fail")
        job = Job(self.next_instance, body["StartUrl"], str(body.get("Memo", "")), self.flow, master)
        self.jobs[job.instance] = job
        self.next_instance += 1
        return 200, {**SUCCESS, "resources": {"instanceNo": job.instance}}

    def listing(self, jobs: list[Job], limit: int, page: int, advance: bool) -> tuple[int, dict[str, Any]]:
        ordered = sorted(jobs, key=lambda job: -job.instance)
        shown = ordered[(page - 1) * limit: page * limit]
        records = [job.record() for job in shown]
        if advance:
            for job in shown:
                job.step += 1
        pages = max(1, -(-len(ordered) // limit))
        return 200, {**SUCCESS, "resources": {"total_cnt": len(ordered), "total_page_cnt": pages,
                                              "current_start_page": 1, "current_end_page": pages,
                                              "record_data": records}}

    def search(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        keyword, kind, code = body.get("searchKeyword") or "", body.get("searchType"), body.get("statusCode")
        found = [job for job in self.jobs.values()
                 if (kind != "url" or keyword in job.start_url) and (kind != "memo" or keyword in job.memo)
                 and (code is None or job.status == str(code))]
        return self.listing(found, int(body["limit"]), int(body["page"]), advance=False)

    def service_error(self, code: int, message: str) -> tuple[int, dict[str, Any]]:
        return self.service_error_status, {"error": {"errorCode": code, "message": message}}


def signed_correctly(method: str, target: str, headers: dict[str, str]) -> bool:
    """The gateway's check, written here independently of pipeline.ncp_wsc.signing."""
    timestamp = headers.get("x-ncp-apigw-timestamp", "")
    if headers.get("x-ncp-iam-access-key") != ACCESS_KEY or not timestamp.isdigit():
        return False
    if abs(time.time() * 1000 - int(timestamp)) > 5 * 60 * 1000:
        return False
    message = f"{method} {target}\n{timestamp}\n{ACCESS_KEY}".encode()
    expected = base64.b64encode(hmac.new(SECRET_KEY.encode(), message, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers.get("x-ncp-apigw-signature-v2", ""))


@contextmanager
def serve(stub: WscStub) -> Iterator[str]:
    """The stub on 127.0.0.1 in a thread; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = stub.answer(self.command, self.path, headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_PATCH = handle_any

        def log_message(self, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield url
