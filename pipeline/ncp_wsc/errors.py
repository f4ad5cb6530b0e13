"""What an answer of the Web Security Checker API means: success, retry later, or one clear error.

Errors arrive as the API gateway's `{"error": {"errorCode", "message"}}`, the service's own
`{"error": {"errorCode": 901, ...}}` (HTTP 200 or 400: the docs disagree, so the body decides), or a
`returnCode` other than "0". Throttling (HTTP 429: 400 Quota Exceeded, 410 Throttle Limited,
420 Rate Limited) and 503 Endpoint Error are retried; everything else fails at once with the
call, the code, its meaning and what to do. Credential and request problems are ConfigErrors;
the service refusing or failing the work is a ScannerError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.errors import ConfigError, ScannerError, TollgateError

WHAT = "NCP Web Security Checker"
RETRY_STATUSES = frozenset({429, 503})
THROTTLE_CODES = frozenset({"400", "410", "420"})
_KEYS_TIP = ("check $NCP_ACCESS_KEY and $NCP_SECRET_KEY, that they belong to this endpoint (public, gov and fin "
             "keys differ), and that this machine's clock is within 5 minutes of the real time")
_VULN_ITEMS_TIP = 'VulnItems must be a list: ["ALL"] alone, or known names such as ["XSS", "SQL Injection"]'
# code -> (error class, tip). The message itself comes from the answer.
KNOWN: dict[str, tuple[type[TollgateError], str]] = {
    "200": (ConfigError, _KEYS_TIP),
    "210": (ConfigError, "grant the key's sub account permission to use Web Security Checker"),
    "169201": (ConfigError, "the account has no permission to use Web Security Checker"),
    "169202": (ScannerError, "NAVER Cloud could not verify the account; contact its support"),
    "160431": (ConfigError, _VULN_ITEMS_TIP),
    "160433": (ConfigError, _VULN_ITEMS_TIP),
    "160451": (ScannerError, "createJob scans only servers created in your NAVER Cloud account; "
                             "scan any other server from the NAVER Cloud console"),
    "901": (ScannerError, "a temporary failure of the service, or an instance number it does not know; "
                          "if it persists, contact NAVER Cloud support"),
}


@dataclass(frozen=True)
class ApiError:
    http_status: int
    code: str | None
    message: str

    @property
    def retryable(self) -> bool:
        return self.http_status in RETRY_STATUSES or self.code in THROTTLE_CODES

    def describe(self) -> str:
        code = f", error {self.code}" if self.code else ""
        return f"HTTP {self.http_status}{code}" + (f" {self.message}" if self.message else "")

    def exception(self, call: str) -> TollgateError:
        kind, tip = KNOWN.get(self.code or "", (ScannerError, None))
        return kind(f"{WHAT}: {call} failed: {self.describe()}", tip)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def api_error(http_status: int, body: Any) -> ApiError | None:
    """The error an answer carries, or None when it is a success."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiError(http_status, _text(error.get("errorCode")) or None, _text(error.get("message"))[:200])
    return_code = _text(body.get("returnCode")) if isinstance(body, dict) else ""
    if return_code and return_code != "0":
        message = _text(body.get("returnMessage") or body.get("returnDesc"))[:200]
        return ApiError(http_status, return_code, message)
    if http_status >= 400:
        return ApiError(http_status, None, "")
    return None
