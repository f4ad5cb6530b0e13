"""The server-backed scanners against their real images, through testcontainers.

These run wherever a Docker engine answers (the project's GitHub CI) and skip, with the reason,
where none does. The check is `docker.from_env().ping()`: a `docker` CLI without a daemon is
common (this machine has one), so `shutil.which("docker")` would be the wrong test.
- ZAP (`ghcr.io/zaproxy/zaproxy:stable`) as a daemon, scanning a small nginx target container;
- SonarQube (`sonarqube:community`) after SonarSource's scanner container analyzed the example app;
- dependency-check (`owasp/dependency-check`) run with the argv Tollgate's runner builds.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from normalizers.model import Category
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from pipeline.scanners import dependency_check, sonarqube, zap
from pipeline.scanners.base import Options, ScanContext
from pipeline.scope import Allowlist
from tests.conftest import ROOT

APP = ROOT / "examples" / "vulnerable-app"
ZAP_IMAGE = "ghcr.io/zaproxy/zaproxy:stable"
TARGET_IMAGE = "nginx:1.27-alpine"
SONARQUBE_IMAGE = "sonarqube:community"
SONAR_SCANNER_IMAGE = "sonarsource/sonar-scanner-cli:latest"
DEPENDENCY_CHECK_IMAGE = "owasp/dependency-check:latest"
ZAP_KEY = "tollgate-container-test"
SONAR_PASSWORD = "Tollgate-Test-Password-1"  # noqa: S105 - a throwaway container's admin password

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def docker_engine() -> None:
    import docker  # noqa: PLC0415 - only where these tests run

    try:
        docker.from_env().ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine answers ({exc.__class__.__name__}); the testcontainers tests run in CI")


def wait_for_http(url: str, ready: Any, timeout: float, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=10) as response:
                if ready(response.read()):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(2)
    raise AssertionError(f"{url} was not ready after {timeout:.0f}s")


def parsed_findings(output_reports: Any, source: Path | None = None) -> list[Any]:
    options = ParseOptions(source_root=str(source) if source else None)
    return [f for r in output_reports for f in parse_report(Report.from_path(str(r.path)), options, r.tool_id).findings]


@pytest.fixture
def zap_against_nginx(docker_engine: None) -> Iterator[tuple[str, str]]:
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415
    from testcontainers.core.network import Network  # noqa: PLC0415

    daemon = (f"zap.sh -daemon -host 0.0.0.0 -port 8080 -config api.key={ZAP_KEY} "
              "-config api.addrs.addr.name=.* -config api.addrs.addr.regex=true")
    with Network() as network:
        target = DockerContainer(TARGET_IMAGE).with_network(network).with_network_aliases("target")
        daemon_container = (DockerContainer(ZAP_IMAGE).with_command(daemon).with_exposed_ports(8080)
                            .with_network(network))
        with target, daemon_container:
            url = f"http://{daemon_container.get_container_host_ip()}:{daemon_container.get_exposed_port(8080)}"
            wait_for_http(f"{url}/JSON/core/view/version/", lambda body: b"version" in body, 300,
                          {"X-ZAP-API-Key": ZAP_KEY})
            yield url, "http://target/"


def test_zap_daemon_scans_a_target_container(zap_against_nginx: tuple[str, str], tmp_path: Path) -> None:
    url, target_url = zap_against_nginx
    target = Allowlist.parse(["target"]).guard(target_url)
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", dast_targets=(target,),
                      env={"ZAP_URL": url, "ZAP_API_KEY": ZAP_KEY})
    output = zap.SCANNER.run(ctx, Options.of({"mode": "baseline", "spider-minutes": 1}), time.monotonic() + 900)
    findings = parsed_findings(output.reports)
    assert findings, "nginx's default page lacks security headers; ZAP's passive rules report that"
    assert all(f.category is Category.DAST for f in findings)
    assert all(f.location.url.startswith("http://target") for f in findings)


@pytest.fixture
def sonarqube_analysis(docker_engine: None, tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """A SonarQube server and one analysis of a copy of the example app: (source, host url, token)."""
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415
    from testcontainers.core.network import Network  # noqa: PLC0415

    source = tmp_path / "app"
    shutil.copytree(APP, source)
    with Network() as network:
        server = DockerContainer(SONARQUBE_IMAGE).with_exposed_ports(9000).with_network(network)
        with server.with_network_aliases("sonarqube"):
            host = f"http://{server.get_container_host_ip()}:{server.get_exposed_port(9000)}"
            wait_for_http(f"{host}/api/system/status", lambda body: json.loads(body).get("status") == "UP", 600)
            token = sonar_token(host)
            scanner = (DockerContainer(SONAR_SCANNER_IMAGE).with_network(network)
                       .with_volume_mapping(str(source), "/usr/src", "rw")
                       .with_env("SONAR_HOST_URL", "http://sonarqube:9000").with_env("SONAR_TOKEN", token)
                       .with_command("-Dsonar.projectKey=tollgate-demo -Dsonar.sources=."))
            with scanner:
                result = scanner.get_wrapped_container().wait(timeout=900)
                assert result["StatusCode"] == 0, scanner.get_logs()
            yield source, host, token


def sonar_token(host: str) -> str:
    """Change the default admin password (10.x insists), then mint a user token."""
    import requests  # noqa: PLC0415

    requests.post(f"{host}/api/users/change_password", auth=("admin", "admin"), timeout=30,
                  data={"login": "admin", "previousPassword": "admin", "password": SONAR_PASSWORD})
    response = requests.post(f"{host}/api/user_tokens/generate", auth=("admin", SONAR_PASSWORD), timeout=30,
                             data={"name": f"tollgate-{time.time_ns()}"})
    response.raise_for_status()
    return str(response.json()["token"])


def test_sonarqube_runner_reads_a_real_analysis(sonarqube_analysis: tuple[Path, str, str], tmp_path: Path) -> None:
    source, host, token = sonarqube_analysis
    ctx = ScanContext(source=source, work_dir=tmp_path / "work", env={"SONAR_TOKEN": token})
    options = Options.of({"host-url": host})  # report-task.txt names the server by its in-network name
    output = sonarqube.SCANNER.run(ctx, options, time.monotonic() + 900)
    assert output.notes[0].startswith("SonarQube quality gate:")
    findings = parsed_findings(output.reports, source)
    assert any(f.location.path == "app.py" for f in findings), "SonarQube flags the planted SQL injection"


def test_dependency_check_image_runs_the_runners_argv(docker_engine: None, tmp_path: Path) -> None:
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415

    api_key = os.environ.get("NVD_API_KEY")
    data_dir = Path(os.environ.get("TOLLGATE_DC_DATA", Path.home() / ".cache" / "tollgate-dependency-check"))
    if not api_key and not (data_dir / "odc.mv.db").exists():
        pytest.skip("dependency-check needs the NVD data: set NVD_API_KEY (or TOLLGATE_DC_DATA to a filled data dir)")
    data_dir.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "app"
    shutil.copytree(APP, source)
    ctx = ScanContext(source=source, work_dir=tmp_path / "work", env={"NVD_API_KEY": api_key} if api_key else {})
    invocation = dependency_check.SCANNER.invocations(ctx, Options.of({"data-dir": str(data_dir)}), "dc")[0]
    container = DockerContainer(DEPENDENCY_CHECK_IMAGE).with_command(list(invocation.argv[1:]))
    for folder in (source, ctx.work_dir, data_dir):
        container = container.with_volume_mapping(str(folder), str(folder), "rw")
    with container:
        result = container.get_wrapped_container().wait(timeout=3600)
        assert result["StatusCode"] == 0, container.get_logs()
    assert parse_report(Report.from_path(str(invocation.report)), ParseOptions(str(source)),
                        dependency_check.SCANNER.spec.tool_ids[0]).tool_id == "dependency-check-json"
