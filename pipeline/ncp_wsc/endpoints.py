"""Where the Web Security Checker API lives: one host per NAVER Cloud region family, plus the paths.

`endpoint` picks public, gov or fin; `base-url` overrides it (a proxy, or the test stub on 127.0.0.1).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pipeline.errors import ConfigError

HOSTS = {
    "public": "https://wsc.apigw.ntruss.com",
    "gov": "https://wsc.apigw.gov-ntruss.com",
    "fin": "https://wsc.apigw.fin-ntruss.com",  # inferred from the platform's naming, see the package docstring
}
DEFAULT_ENDPOINT = "public"

CREATE_JOB = "/api/v1/job"
JOBS = "/api/v1/jobs"
SEARCH_JOBS = "/api/v1/jobs/search"


def report_path(instance: int) -> str:
    return f"/api/v1/jobs/{instance}/report"


def cancel_path(instance: int) -> str:
    return f"/api/v1/jobs/{instance}/cancel"


def stop_path(instance: int) -> str:
    return f"/api/v1/jobs/{instance}/stop"


def base_url(endpoint: str | None, override: str | None = None) -> str:
    """The API's base URL: `override` when given (http(s), no path), else the endpoint's host."""
    if override:
        parts = urlsplit(override)
        if "@" in parts.netloc:  # never quoted back: what precedes the @ is a password
            raise ConfigError("ncp-wsc base-url: give no user or password in the URL; the API is signed with "
                              "$NCP_ACCESS_KEY and $NCP_SECRET_KEY")
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            raise ConfigError(f"ncp-wsc base-url {override!r}: give scheme://host[:port] with no path")
        return f"{parts.scheme}://{parts.netloc}"
    name = endpoint or DEFAULT_ENDPOINT
    if name not in HOSTS:
        raise ConfigError(f"ncp-wsc endpoint {name!r}: expected one of {', '.join(HOSTS)}")
    return HOSTS[name]
