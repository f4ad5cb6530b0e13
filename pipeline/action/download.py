"""Verified downloads for the install steps: an https (or loopback mirror) URL, fetched with a
timeout, checked against an expected SHA-256 before anything is unpacked or run.

A failed download or a wrong checksum is the tool's failure (exit 3), not the user's input; a URL
that is not https is the user's (exit 2). Loopback mirrors are allowed so that tests can serve files.
A redirect may not leave what `checked_url` allows: an https download never continues over http.
"""

from __future__ import annotations

import hashlib
import shutil
import urllib.request
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, ScannerError

DOWNLOAD_TIMEOUT_SECONDS = 300


def allowed(url: str) -> bool:
    return url.startswith(("https://", "http://127.0.0.1:"))  # a loopback mirror is fine


def checked_url(url: str, input_name: str) -> str:
    if not allowed(url):
        raise ConfigError(f"input {input_name}: must be https, got {url!r}")
    return url


class NoDowngrade(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only where a download may go; a downgrade to http is the tool's failure (exit 3)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,  # noqa: PLR0917 - urllib's signature
                         newurl: str) -> urllib.request.Request | None:
        if not allowed(newurl) or (req.full_url.startswith("https://") and not newurl.startswith("https://")):
            raise ScannerError(f"refusing the redirect from {req.full_url} to {newurl}: a download never leaves https")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, destination: Path) -> Path:
    opener = urllib.request.build_opener(NoDowngrade())
    try:
        with opener.open(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response, \
                open(destination, "wb") as handle:  # https (checked), or a loopback mirror in tests
            shutil.copyfileobj(response, handle)
    except OSError as exc:  # URLError, a timeout or a reset: the download failed, not the user's input
        raise ScannerError(f"cannot download {url}: {getattr(exc, 'reason', None) or exc}") from None
    return destination


def fetch_bytes(url: str, timeout: float = DOWNLOAD_TIMEOUT_SECONDS) -> bytes:
    """A small download into memory (a data feed), with the same rules as `fetch`."""
    opener = urllib.request.build_opener(NoDowngrade())
    try:
        with opener.open(url, timeout=timeout) as response:  # https (checked), or a loopback mirror in tests
            return bytes(response.read())
    except OSError as exc:
        raise ScannerError(f"cannot download {url}: {getattr(exc, 'reason', None) or exc}") from None


def verify_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ScannerError(f"{path.name}: SHA-256 {digest} is not the expected {expected}; not installing it")
