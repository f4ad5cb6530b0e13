"""`tollgate firewall install` end to end: the CLI in process against the vetting backend of
helpers.py (moto's Step Functions interpreter running vetting.asl.json, moto DynamoDB and
Security Hub, CodeArtifact through botocore's model with a Stubber and the AWS CLI reference's
response shapes), then real pip and npm installing from the loopback vetted repository.

Exit codes as documented in pipeline/commands/firewall.py: 0 installed, 1 BLOCKED (nothing
installed), 2 bad input, 3 FAILED, timeout or installer failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.pipeline.vetting.helpers import (
    ACCOUNT,
    DOMAIN,
    REGION,
    TABLE,
    TOKEN,
    Deployment,
    executions,
    expect_green,
    expect_install,
    settle,
    vetting_backend,
)

PIP_QUIET = "--no-deps --trusted-host 127.0.0.1 --no-cache-dir --disable-pip-version-check --no-input"


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Deployment]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("TOLLGATE_VETTING_STATE_MACHINE", "TOLLGATE_VETTING_TABLE", "TOLLGATE_VETTING_DOMAIN",
                 "TOLLGATE_VETTING_DOMAIN_OWNER", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    with vetting_backend(monkeypatch, tmp_path) as deployment:
        yield deployment
        settle(deployment)


def install(deployment: Deployment, *arguments: str, timeout: str = "60", poll: str = "0.1") -> int:
    return main(["firewall", "install", "--state-machine", deployment.state_machine_arn, "--table", TABLE,
                 "--domain", DOMAIN, "--domain-owner", ACCOUNT, "--region", REGION, "--timeout", timeout,
                 "--poll", poll, *arguments])


def test_green_package_is_vetted_with_progress_then_installed_by_pip(backend: Deployment, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    expect_green(backend, "pypi", "tollgate-demo", "1.2.0")
    expect_install(backend, "pypi")
    target = tmp_path / "site"

    code = install(backend, "--installer-args", f"--target {target} {PIP_QUIET}", "tollgate-demo==1.2.0")

    err = capsys.readouterr().err
    assert code == 0, err
    assert "tollgate firewall: tollgate-demo==1.2.0: vetting requested\n" in err
    assert "tollgate firewall: tollgate-demo==1.2.0: SECURE after" in err
    assert "tollgate firewall: 1 versions vetted (SECURE); installing from pypi-vetted" in err
    assert (target / "tollgate_demo" / "__init__.py").read_text() == "VERSION = '1.2.0'\n"
    assert TOKEN not in err
    assert [e["status"] for e in settle(backend)] == ["SUCCEEDED"]
    backend.stubber.assert_no_pending_responses()


def test_an_already_vetted_version_is_answered_at_once(backend: Deployment, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    expect_green(backend, "pypi", "tollgate-demo", "1.2.0")
    expect_install(backend, "pypi")
    expect_install(backend, "pypi")
    arguments = ("--installer-args", f"--target {tmp_path / 'site'} --upgrade {PIP_QUIET}", "tollgate-demo==1.2.0")
    assert install(backend, *arguments) == 0
    capsys.readouterr()

    assert install(backend, *arguments, timeout="0.001") == 0

    err = capsys.readouterr().err
    assert "tollgate firewall: tollgate-demo==1.2.0: SECURE (answered earlier)\n" in err
    assert "vetting requested" not in err
    assert len(executions(backend)) == 1
    backend.stubber.assert_no_pending_responses()


def test_blocked_package_prints_its_reasons_exits_1_and_installs_nothing(backend: Deployment, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "site"

    code = install(backend, "--installer-args", f"--target {target}", "reqeusts==2.31.0")

    err = capsys.readouterr().err
    assert code == 1, err
    assert "tollgate firewall: BLOCKED: reqeusts==2.31.0 (score n/a): the firewall's risk level is Red\n" in err
    assert "  - TG-SC-TYPOSQUAT HIGH: reqeusts looks like the popular requests" in err
    assert "1 of 1 versions are BLOCKED; nothing was installed" in err
    assert not target.exists()
    backend.stubber.assert_no_pending_responses()  # no token asked, no install


def test_requirements_file_with_one_blocked_version_installs_nothing(backend: Deployment, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tollgate-demo==1.2.0\nreqeusts==2.31.0  # a typo\n", encoding="utf-8")
    expect_green(backend, "pypi", "tollgate-demo", "1.2.0")

    code = install(backend, "-r", str(requirements))

    err = capsys.readouterr().err
    assert code == 1, err
    assert "tollgate-demo==1.2.0: SECURE after" in err
    assert "BLOCKED: reqeusts==2.31.0" in err
    assert "1 of 2 versions are BLOCKED; nothing was installed" in err
    backend.stubber.assert_no_pending_responses()


def test_requirements_file_installs_with_r_once_every_version_is_secure(backend: Deployment, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("Tollgate_Demo==1.2.0\n", encoding="utf-8")
    expect_green(backend, "pypi", "tollgate-demo", "1.2.0")
    expect_install(backend, "pypi")
    target = tmp_path / "site"

    code = install(backend, "--lockfile", str(requirements), "--installer-args", f"--target {target} {PIP_QUIET}")

    assert code == 0, capsys.readouterr().err
    assert (target / "tollgate_demo").is_dir()


def test_client_timeout_exits_3_and_names_what_is_pending(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    overrides = {"TOLLGATE_VETTING_POLL_SECONDS": "2", "TOLLGATE_VETTING_MAX_POLLS": "2"}
    with vetting_backend(monkeypatch, tmp_path, overrides) as backend:
        backend.endpoint.add("pypi-intake", "pypi", "tollgate-demo", "1.2.0")
        backend.expect_fetch("pypi", "tollgate-demo")
        for _ in range(2):
            backend.expect_intake_status("pypi", "tollgate-demo", "1.2.0", status="Unfinished")

        code = install(backend, "tollgate-demo==1.2.0", timeout="1", poll="0.2")

        err = capsys.readouterr().err
        assert code == 3, err
        assert "tollgate firewall: tollgate-demo==1.2.0: no answer after 1 s (last status: CHECK)" in err
        assert ("tollgate: error: 0 vettings failed, 1 not answered in 1 s (tollgate-demo==1.2.0); nothing was "
                "installed") in err
        assert "a longer --timeout waits longer" in err
        [execution] = settle(backend)
        assert execution["states"][-3:] == ["TimedOut", "RecordFailure", "Failed"]
        assert backend.item("pypi#tollgate-demo#1.2.0")["status"] == "FAILED"

        # Asked again, the FAILED item of the last attempt is not taken for this attempt's answer.
        expect_green(backend, "pypi", "tollgate-demo", "1.2.0")
        expect_install(backend, "pypi")
        code = install(backend, "tollgate-demo==1.2.0", "--installer-args",
                       f"--target {tmp_path / 'site'} {PIP_QUIET}")
        err = capsys.readouterr().err
        assert code == 0, err
        assert "tollgate-demo==1.2.0: vetting requested again (the last vetting FAILED)" in err
        backend.stubber.assert_no_pending_responses()


def test_failed_vetting_exits_3_with_its_reason(backend: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    backend.expect_fetch("pypi", "tollgate-demo")  # 0.0.9 is not upstream: the fetch fails

    code = install(backend, "tollgate-demo==0.0.9")

    err = capsys.readouterr().err
    assert code == 3, err
    assert "tollgate firewall: FAILED: tollgate-demo==0.0.9: InstallFailed: the index of tollgate-demo" in err
    assert "tollgate: error: 1 vettings failed, 0 not answered" in err


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_flavour_installs_a_scoped_package_from_the_vetted_registry(backend: Deployment, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    expect_green(backend, "npm", "@tollgate/demo", "3.0.1")
    expect_install(backend, "npm")
    project = tmp_path / "project"
    project.mkdir()

    code = install(backend, "--tool", "npm", "--installer-args",
                   f"--prefix {project} --no-audit --no-fund --cache {tmp_path / 'npm-cache'}", "@tollgate/demo@3.0.1")

    err = capsys.readouterr().err
    assert code == 0, err
    installed = project / "node_modules" / "@tollgate" / "demo" / "package.json"
    assert '"version": "3.0.1"' in installed.read_text(encoding="utf-8")
    assert not list(tmp_path.rglob(".npmrc"))  # the token file is gone
    backend.stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("arguments", "message"), [
    (["tollgate-demo==1.2.0"], "firewall install needs --state-machine"),
    (["--table", "t", "--state-machine", "a", "--domain", "d", "--domain-owner", "1"], "name a package or a file"),
    (["--table", "t", "--state-machine", "a", "--domain", "d", "--domain-owner", "1", "-r", "setup.cfg"],
     "not a file Tollgate reads"),
    (["--table", "t", "--state-machine", "a", "--domain", "d", "--domain-owner", "1", "--tool", "npm", "--lockfile",
      "yarn.lock"], "no such file"),
])
def test_bad_input_exits_2_before_any_aws_call(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str], arguments: list[str],
                                               message: str) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TOLLGATE_VETTING_STATE_MACHINE", "TOLLGATE_VETTING_TABLE", "TOLLGATE_VETTING_DOMAIN",
                 "TOLLGATE_VETTING_DOMAIN_OWNER", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["firewall", "install", *arguments]) == 2
    assert message in capsys.readouterr().err
