"""The Web Security Checker API over requests: every call signed, throttling retried, errors one line.

Each request is prepared first and signed over the path and query exactly as they will be sent
(pipeline.ncp_wsc.signing). Throttling and 503s are retried with exponential backoff, honouring
Retry-After, but never past the deadline the scan gave (time.monotonic()). The keys live in
`Credentials`, whose repr hides them, and travel in headers only; no message carries them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from pipeline.errors import ScannerError, ScannerTimeout
from pipeline.ncp_wsc import endpoints
from pipeline.ncp_wsc.errors import WHAT, ApiError, api_error
from pipeline.ncp_wsc.jobs import JobRecord, as_int, page_count, records
from pipeline.ncp_wsc.signing import Credentials, auth_headers
from pipeline.ncp_wsc.validation import JobSpec
from pipeline.scanners.http import cut_by_deadline

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_ATTEMPTS = 6
MAX_BACKOFF = 60.0
PAGE_SIZE = 50
MAX_PAGES = 40  # 2,000 jobs: the look-up of one job never pages forever


class WscClient:
    def __init__(self, base_url: str, credentials: Credentials, deadline: float, *, backoff: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.deadline = deadline
        self.backoff = backoff
        self.clock = clock
        self.session = requests.Session()

    def __repr__(self) -> str:
        return f"WscClient({self.base_url!r})"

    # --- the documented calls -------------------------------------------------------------

    def create_job(self, spec: JobSpec) -> int:
        """A new job (or, with `spec.master_instance`, a re-scan of a finished one); its instance number."""
        answer = self.call("PUT", endpoints.CREATE_JOB, body=spec.body())
        instance = instance_number(answer)
        return instance if instance is not None else self.newest_job(spec.start.url).instance

    def get_jobs(self, page: int = 1, limit: int = PAGE_SIZE) -> Any:
        return self.call("GET", endpoints.JOBS, params={"limit": str(limit), "page": str(page)})

    def search_jobs(self, keyword: str, search_type: str = "url", status_code: int | None = None,
                    page: int = 1, limit: int = PAGE_SIZE) -> Any:
        body = {"searchType": search_type, "searchKeyword": keyword, "statusCode": status_code,
                "limit": limit, "page": page}
        return self.call("POST", endpoints.SEARCH_JOBS, body=body)

    def get_report(self, instance: int) -> Any:
        return self.call("GET", endpoints.report_path(instance))

    def cancel_job(self, instance: int) -> None:
        self.call("PATCH", endpoints.cancel_path(instance))

    def stop_job(self, instance: int) -> None:
        self.call("PATCH", endpoints.stop_path(instance))

    # --- looking jobs up ------------------------------------------------------------------

    def find_job(self, instance: int) -> JobRecord:
        """Job `instance` as getJobs lists it (the API has no call for one job)."""
        page, last = 1, 1
        while page <= min(last, MAX_PAGES):
            answer = self.get_jobs(page)
            match = next((job for job in records(answer) if job.instance == instance), None)
            if match is not None:
                return match
            page, last = page + 1, page_count(answer)
        raise ScannerError(f"{WHAT}: job {instance} is not among this account's jobs (getJobs)",
                           "check the instance number and that the keys belong to the account that owns it")

    def newest_job(self, start_url: str) -> JobRecord:
        jobs = [job for job in records(self.get_jobs()) if job.start_url == start_url]
        if not jobs:
            raise ScannerError(f"{WHAT}: createJob gave no instance number and getJobs lists no job for {start_url}")
        return max(jobs, key=lambda job: job.instance)

    # --- one signed call, with retries ------------------------------------------------------

    def call(self, method: str, path: str, *, params: dict[str, str] | None = None,
             body: dict[str, Any] | None = None) -> Any:
        """The answer's JSON; ScannerTimeout at the deadline; the error's own exception otherwise."""
        name = f"{method} {path}"
        attempt = 0
        while True:
            response = self.send(method, path, params, body, name)
            document = decoded(response, name)
            error = api_error(response.status_code, document)
            if error is None:
                return document
            if not error.retryable:
                raise error.exception(name)
            attempt += 1
            if attempt == MAX_ATTEMPTS:
                raise ScannerError(f"{WHAT}: {name} was still refused after {attempt} tries: {error.describe()}",
                                   "the account's API quota or rate limit is used up; retry later")
            self.pause(attempt - 1, response, error, name)

    def send(self, method: str, path: str, params: dict[str, str] | None, body: dict[str, Any] | None,
             name: str) -> requests.Response:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ScannerTimeout(f"{WHAT}: timed out before {name}")
        prepared = self.session.prepare_request(
            requests.Request(method, self.base_url + path, params=params, json=body,
                             headers={"Content-Type": "application/json"}))
        prepared.headers.update(auth_headers(method, prepared.path_url, int(self.clock() * 1000), self.credentials))
        try:
            return self.session.send(prepared, timeout=(CONNECT_TIMEOUT, min(READ_TIMEOUT, remaining)))
        except requests.RequestException as exc:
            if cut_by_deadline(exc, self.deadline):
                raise ScannerTimeout(f"{WHAT}: {name} was still unanswered at the timeout") from None
            raise ScannerError(f"{WHAT}: {name} to {self.base_url} failed: {exc.__class__.__name__}") from None

    def pause(self, attempt: int, response: requests.Response, error: ApiError, name: str) -> None:
        told = retry_after(response)
        delay = told if told is not None else min(self.backoff * 2**attempt, MAX_BACKOFF)
        if time.monotonic() + delay >= self.deadline:
            raise ScannerTimeout(f"{WHAT}: {name} was still throttled at the timeout ({error.describe()})")
        time.sleep(delay)


def decoded(response: requests.Response, name: str) -> Any:
    """The JSON body; None for an empty or non-JSON error body; a success must be JSON."""
    try:
        return response.json()
    except ValueError:
        if response.status_code >= 400:
            return None
        raise ScannerError(f"{WHAT}: {name} answered HTTP {response.status_code} without JSON") from None


def retry_after(response: requests.Response) -> float | None:
    seconds = as_int(response.headers.get("Retry-After"))
    return float(seconds) if seconds is not None and seconds >= 0 else None


def instance_number(answer: Any) -> int | None:
    """createJob's instance number: `resources` as a number, or as an object with `instanceNo`."""
    resources = answer.get("resources") if isinstance(answer, dict) else None
    if isinstance(resources, dict):
        resources = resources.get("instanceNo", resources.get("InstanceNo"))
    return as_int(resources)
