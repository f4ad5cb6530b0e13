"""`tollgate publish securityhub` end to end: results files in, moto's Security Hub, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import orjson
import pytest

from normalizers.identity import scoped_id
from normalizers.results import Results, results_to_dict
from pipeline.cli import main
from tests.conftest import ROOT
from tests.pipeline.publish.helpers import FaultInjector, code_findings, package_findings, scope

pytest_plugins = ("tests.moto_server",)  # moto_server (one per session) and aws (reset per test)


def results_file(tmp_path: Path, name: str, results: Results) -> str:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(results_to_dict(results)))
    return str(path)


def hub(endpoint: str) -> dict[str, dict[str, object]]:
    client = boto3.client("securityhub", region_name="us-east-1", endpoint_url=endpoint)
    return {f["Id"]: f for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]}


@pytest.mark.parametrize("argv", [["--help"], ["publish", "--help"]])
def test_help_does_not_import_boto3(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from pipeline.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_publish_imports_then_updates_then_archives(tmp_path: Path, aws: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sca = results_file(tmp_path, "sca.json", Results(scope=scope(), findings=package_findings(40)))
    sast = results_file(tmp_path, "sast.json", Results(scope=scope(), findings=code_findings(5)))
    argv = ["publish", "securityhub", sca, sast, "--endpoint-url", aws, "--region", "us-east-1"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "tollgate: security hub: 45 imported, 0 updated, 0 archived, 0 failed, 0 unchanged "
        "(1 BatchImportFindings calls)"
    )
    fixed = results_file(tmp_path, "fixed.json", Results(scope=scope(), findings=()))
    assert main(["publish", "securityhub", fixed, sast, "--category", "sca", "--endpoint-url", aws,
                 "--region", "us-east-1"]) == 0
    assert "0 imported, 0 updated, 40 archived, 0 failed, 5 unchanged" in capsys.readouterr().out
    assert sum(f["RecordState"] == "ARCHIVED" for f in hub(aws).values()) == 40


def test_scope_env_scopes_the_ids(tmp_path: Path, aws: str) -> None:
    path = results_file(tmp_path, "r.json", Results(scope=scope(), findings=package_findings(2)))
    assert main(["publish", "securityhub", path, "--scope-env", "staging", "--endpoint-url", aws,
                 "--region", "us-east-1", "--account", "123456789012"]) == 0
    expected = {scoped_id(scope(environment="staging"), f) for f in package_findings(2)}
    assert set(hub(aws)) == expected
    assert all(i.startswith("tollgate/octo/shop/staging/sca/") for i in expected)


def test_a_finding_not_imported_is_reported_and_exits_3(tmp_path: Path, aws: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    findings = package_findings(4)
    refused = scoped_id(scope(), findings[1])
    session = boto3.session.Session(region_name="us-east-1")
    FaultInjector(session, throttle_ratio=0.0, transient=set(), permanent={refused: "InvalidInput"})
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)  # the CLI uses a caller's default session
    path = results_file(tmp_path, "r.json", Results(scope=scope(), findings=findings))
    assert main(["publish", "securityhub", path, "--endpoint-url", aws, "--region", "us-east-1"]) == 3
    captured = capsys.readouterr()
    assert f"tollgate: failed: {refused}: InvalidInput: injected" in captured.err.splitlines()
    assert "tollgate: error: 1 findings were not imported into Security Hub" in captured.err
    assert "3 imported, 0 updated, 0 archived, 1 failed" in captured.out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rate", "0"], "per_second > 0"),
        (["--account", "12345"], "--account must be a 12-digit AWS account id"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, extra: list[str], message: str, aws: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    path = results_file(tmp_path, "r.json", Results(scope=scope(), findings=package_findings(1)))
    assert main(["publish", "securityhub", path, "--region", "us-east-1", *extra]) == 2
    assert message in capsys.readouterr().err
    assert hub(aws) == {}


def test_no_region_exits_2_with_a_tip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    path = results_file(tmp_path, "r.json", Results(scope=scope(), findings=()))
    assert main(["publish", "securityhub", path]) == 2
    assert "tip: pass --region or set AWS_REGION" in capsys.readouterr().err


def test_results_of_two_repositories_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = results_file(tmp_path, "a.json", Results(scope=scope("octo/a"), findings=()))
    other = results_file(tmp_path, "b.json", Results(scope=scope("octo/b"), findings=()))
    assert main(["publish", "securityhub", one, other, "--region", "us-east-1"]) == 2
    assert "disagree on scope" in capsys.readouterr().err


def test_a_file_that_is_not_a_results_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"schema": "tollgate-results/1", "findings": [')
    assert main(["publish", "securityhub", str(broken), "--region", "us-east-1"]) == 2
    assert f"{broken}: not valid JSON" in capsys.readouterr().err
