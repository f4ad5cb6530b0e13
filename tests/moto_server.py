"""moto's real server on 127.0.0.1, for AWS tests through boto3 over real HTTP.

Use it from a test module with

    pytest_plugins = ("tests.moto_server",)

and take `aws` (the endpoint URL) as a test argument. Loaded as a plugin (not imported into
each module, which would give every module its own "session" fixture), `moto_server` starts
once per test session on a free loopback port; `aws` resets moto's state (`POST /moto-api/reset`) before
each test and points boto3 at the server with dummy credentials, so no test can reach
real AWS. moto ignores GetFindings filters and its storage is O(n²): keep tests at ≤10k
findings.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

STARTUP_TIMEOUT_SECONDS = 30.0
DUMMY_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
UNSET_ENVIRONMENT = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def moto_server_command() -> str | None:
    """The moto_server of the running interpreter's venv, else one on PATH."""
    beside_python = Path(sys.executable).parent / "moto_server"
    return str(beside_python) if beside_python.exists() else shutil.which("moto_server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _wait_until_ready(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode} before answering")
        try:
            reset(endpoint)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer on {endpoint} within {STARTUP_TIMEOUT_SECONDS:.0f} s")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Start `moto_server -H 127.0.0.1 -p PORT` once; yields its endpoint URL."""
    command = moto_server_command()
    if command is None:
        pytest.skip('moto_server is not installed; pip install "moto[server]"')
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([command, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
        try:
            _wait_until_ready(endpoint, process)
            yield endpoint
        except RuntimeError as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}\n{log.read().decode('utf-8', 'replace')[-2000:]}") from None
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean moto, with boto3 pointed at it through the environment; yields the endpoint URL."""
    reset(moto_server)
    for name, value in DUMMY_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in UNSET_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    # No user configuration or credentials file may leak into a test.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return moto_server
