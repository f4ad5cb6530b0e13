"""The ZAP daemon for the DAST steps: start it in its official container, wait for it, stop it.

The scope guard runs before the container starts, on the targets of the inputs and of
`.tollgate.yml` as the scan reads them, so nothing ever runs against a host that is not allowed.
The container uses host networking, so ZAP reaches targets on the runner's loopback, but its API
binds 127.0.0.1 only. The API key is new at each start, masked at once, and reaches ZAP in a config
file in the mounted work dir, never on a command line; it leaves this step only as a (masked)
output for the scan step. Stopping prints the container's last log lines, then removes it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shlex
import stat
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipeline.action.env import Env, runner_temp, text, write_outputs
from pipeline.action.plan import planned
from pipeline.errors import ConfigError, ExitCode, ScannerError

ZAP_CONTAINER = "tollgate-zap"
ZAP_READY_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class ZapDaemon:
    image: str
    port: int
    work_dir: Path
    container: str = ZAP_CONTAINER

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def docker_argv(self) -> list[str]:
        """Host networking, so ZAP reaches targets on the runner's loopback; its API binds 127.0.0.1 only.
        The API key is in a config file in the mounted work dir, never on a command line."""
        return [
            "docker", "run", "--detach", "--rm", "--name", self.container, "--network", "host",
            "--volume", f"{self.work_dir}:/zap/wrk:rw", self.image,
            "zap.sh", "-daemon", "-host", "127.0.0.1", "-port", str(self.port), "-configfile", "/zap/wrk/zap.conf",
        ]


def zap_port(env: Env) -> int:
    value = text(env, "TOLLGATE_ZAP_PORT", "8090")
    if not value.isdigit() or not 1024 <= int(value) <= 65535:
        raise ConfigError(f"input zap-port: expected a port from 1024 to 65535, got {value!r}")
    return int(value)


def guard_targets(env: Env) -> None:
    """The scope guard, before a container starts: the targets of the inputs and of `.tollgate.yml`,
    read and checked as the scan reads them, so nothing runs against a host not allowed."""
    if not planned(env).targets:
        raise ConfigError("no DAST target", "give the URLs of your own application (targets or scan.dast.targets)")


def prepare_work_dir(folder: Path, api_key: str) -> None:
    """ZAP runs as its own user (uid 1000) in the image: the mounted folder must be writable by it."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)  # a fresh folder under $RUNNER_TEMP, shared with the container only
    config = folder / "zap.conf"
    config.write_text(f"api.key={api_key}\n", encoding="utf-8")
    config.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)


def command_start_zap(env: Env) -> int:
    guard_targets(env)
    api_key = secrets.token_urlsafe(24)
    print(f"::add-mask::{api_key}")
    daemon = ZapDaemon(image=text(env, "TOLLGATE_ZAP_IMAGE"), port=zap_port(env),
                       work_dir=runner_temp(env) / "tollgate-zap")
    if not daemon.image:
        raise ConfigError("input zap-image: empty")
    prepare_work_dir(daemon.work_dir, api_key)
    print(f"tollgate: running {shlex.join(daemon.docker_argv())}", flush=True)
    started = subprocess.run(daemon.docker_argv(), check=False)  # noqa: S603 - an argv list
    if started.returncode != 0:
        raise ScannerError(f"docker run {daemon.image} exited with status {started.returncode}")
    wait_for_zap(daemon, api_key, float(text(env, "TOLLGATE_ZAP_START_TIMEOUT", "300")))
    write_outputs({"url": daemon.url, "api-key": api_key, "container": daemon.container}, env)
    return ExitCode.PASSED


def wait_for_zap(daemon: ZapDaemon, api_key: str, timeout: float) -> None:
    version_url = f"{daemon.url}/JSON/core/view/version/"
    request = urllib.request.Request(version_url, headers={"X-ZAP-API-Key": api_key})  # noqa: S310 - 127.0.0.1
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            print(f"tollgate: ZAP {json.load(response).get('version', '?')} is ready at {daemon.url}")
            return
        time.sleep(ZAP_READY_POLL_SECONDS)
    raise ScannerError(f"ZAP did not answer at {daemon.url} within {timeout:g}s",
                       f"see `docker logs {daemon.container}`")


def command_stop_zap(env: Env) -> int:
    container = text(env, "TOLLGATE_ZAP_CONTAINER", ZAP_CONTAINER)
    subprocess.run(["docker", "logs", "--tail", "40", container], check=False)  # noqa: S603, S607
    removed = subprocess.run(["docker", "rm", "--force", container], check=False)  # noqa: S603, S607
    return ExitCode.PASSED if removed.returncode == 0 else ExitCode.TOOL_FAILED
