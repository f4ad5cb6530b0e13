"""A small JSON-over-HTTP client for the API scanners: retries, timeouts, a deadline, no secrets in errors."""

from __future__ import annotations

import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from pipeline.errors import ScannerError, ScannerTimeout

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


class ApiClient:
    """GETs JSON from one server. Transient failures (connection errors, 429, 5xx) are retried with
    backoff, honouring Retry-After; anything else becomes a ScannerError naming the path and status.
    Credentials travel in headers only, so no error message or log line can carry them."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None, deadline: float, what: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.deadline = deadline
        self.what = what
        self.warnings: list[str] = []
        self.session = requests.Session()
        self.session.auth = auth
        retry = Retry(
            total=5, connect=5, read=2, backoff_factor=0.5, status_forcelist=TRANSIENT_STATUSES,
            allowed_methods=frozenset({"GET"}), respect_retry_after_header=True, raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get_json(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ScannerTimeout(f"{self.what}: timed out before GET {path}")
        try:
            response = self.session.get(
                self.base_url + path, params=params, timeout=(CONNECT_TIMEOUT, min(READ_TIMEOUT, remaining))
            )
        except requests.RequestException as exc:
            if cut_by_deadline(exc, self.deadline):
                raise ScannerTimeout(f"{self.what}: GET {path} was still unanswered at the timeout") from None
            raise ScannerError(f"{self.what}: GET {path} failed: {exc.__class__.__name__}: {exc}") from None
        if response.status_code >= 400:
            raise ScannerError(f"{self.what}: GET {path} returned HTTP {response.status_code}: {response.text[:300]}")
        try:
            document: dict[str, Any] = response.json()
        except ValueError:
            raise ScannerError(f"{self.what}: GET {path} did not return JSON") from None
        return document


def cut_by_deadline(exc: requests.RequestException, deadline: float) -> bool:
    """A read whose timeout was the scan's remaining time, and which ran into it: the scan's timeout,
    not a failure of the server."""
    return isinstance(exc, requests.Timeout) and time.monotonic() >= deadline
