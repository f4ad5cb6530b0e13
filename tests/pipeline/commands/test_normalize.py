"""`tollgate normalize` end to end: outputs valid for their consumers, stable ids, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.conftest import FIXTURES, ROOT
from tests.validation import asff_problems, ocsf_problems, sarif_problems

DC_JSON = FIXTURES / "dependency_check" / "VulnerableJavaWebApplication_dependency-check-report.json"
TRIVY = FIXTURES / "trivy" / "alpine-310.json.golden"
ZAP = FIXTURES / "zap" / "pipeline-templates_zap-2.14.0_report_json.json"


def normalize(tmp_path: Path, *reports: Path, repo: str = "acme/web", extra: tuple[str, ...] = ()) -> dict[str, Path]:
    outputs = {kind: tmp_path / f"{repo.replace('/', '_')}.{kind}" for kind in ("sarif", "asff", "json", "ocsf")}
    argv = ["normalize", *map(str, reports), "--repo", repo, "--account", "123456789012", "--region", "eu-west-1",
            "--source-root", str(tmp_path), *extra]
    for kind, path in outputs.items():
        argv += [f"--{kind}", str(path)]
    assert main(argv) == 0
    return outputs


def test_outputs_are_accepted_by_github_and_security_hub(tmp_path: Path) -> None:
    outputs = normalize(tmp_path, DC_JSON, TRIVY, ZAP)
    sarif = json.loads(outputs["sarif"].read_text())
    assert sarif_problems(sarif) == []
    assert {run["automationDetails"]["id"] for run in sarif["runs"]} == {
        "tollgate/sca/dependency-check/", "tollgate/image/trivy/", "tollgate/dast/zap/"}
    asff = json.loads(outputs["asff"].read_text())["Findings"]
    assert asff and asff_problems(asff) == []
    assert all(f["ProductArn"] == "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
               for f in asff)
    results = json.loads(outputs["json"].read_text())
    assert len(results["findings"]) == len(asff) == sum(len(run["results"]) for run in sarif["runs"])
    ocsf = json.loads(outputs["ocsf"].read_text())
    assert ocsf_problems(ocsf) == []
    assert [e["finding_info"]["uid"] for e in ocsf] == [f["fingerprint"] for f in results["findings"]]
    assert {e["class_uid"] for e in ocsf} == {2002, 2007}  # dependency-check and Trivy CVEs, ZAP alerts


def test_normalizing_twice_gives_identical_ids(tmp_path: Path) -> None:
    first = normalize(tmp_path / "a", DC_JSON, TRIVY)
    second = normalize(tmp_path / "b", DC_JSON, TRIVY)
    ids = [[f["Id"] for f in json.loads(out["asff"].read_text())["Findings"]] for out in (first, second)]
    assert ids[0] == ids[1] and len(set(ids[0])) == len(ids[0])


def test_two_repositories_never_share_an_asff_id(tmp_path: Path) -> None:
    web = normalize(tmp_path, DC_JSON, repo="acme/web")
    api = normalize(tmp_path, DC_JSON, repo="acme/api")
    web_ids = {f["Id"] for f in json.loads(web["asff"].read_text())["Findings"]}
    api_ids = {f["Id"] for f in json.loads(api["asff"].read_text())["Findings"]}
    assert web_ids and not web_ids & api_ids


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "the report is empty"),
    (b'{"Results": [{"Target": "x", "Vulnerabilities": [', "not valid JSON"),
    (b"<OWASPZAPReport><site", "not well-formed XML"),
    (b"hello, world", "not a report format Tollgate reads"),
    (b'{"some": "other json"}', "not a report format Tollgate reads"),
])
def test_a_bad_report_gets_one_line_and_leaves_outputs_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str) -> None:
    bad = tmp_path / "bad-report.json"
    bad.write_bytes(content)
    existing = tmp_path / "out.sarif"
    existing.write_text("previous run")
    code = main(["normalize", str(DC_JSON), str(bad), "--repo", "acme/web", "--sarif", str(existing),
                 "--json", str(tmp_path / "new.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "bad-report.json" in err and expected in err and "Traceback" not in err
    assert existing.read_text() == "previous run" and not (tmp_path / "new.json").exists()


def test_the_wrong_tool_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", str(TRIVY), "--repo", "acme/web", "--tool", "zap-json"]) == 2
    assert "not a zap-json report" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "empty.json"
    bad.write_bytes(b"")
    assert main(["normalize", str(bad), "--repo", "acme/web", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_a_repo_without_owner_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", str(TRIVY), "--repo", "web"]) == 2
    assert "owner/name" in capsys.readouterr().err


def test_help_and_version_start_without_heavy_imports() -> None:
    probe = ("import sys; from pipeline.cli import main; code = main(['--help']); "
             "heavy = [m for m in ('boto3', 'botocore', 'jinja2', 'zapv2') if m in sys.modules]; "
             "print('HEAVY', heavy, code)")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "HEAVY [] 0" in completed.stdout
    for verb in ("normalize", "gate", "publish", "report", "scan"):
        assert verb in completed.stdout
    version = subprocess.run([sys.executable, "-m", "pipeline.cli", "--version"], capture_output=True, text=True,
                             cwd=ROOT, check=False)
    assert version.returncode == 0 and version.stdout.startswith("tollgate ")


def test_normalize_help_documents_every_flag_docs_cli_lists(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["normalize", "--help"])
    help_text = capsys.readouterr().out
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = reference.split("## `tollgate normalize`", 1)[1].split("\n## ", 1)[0]
    flags = {line.split("`")[1].split()[0] for line in section.splitlines() if line.startswith("| `-")}
    assert flags, "docs/cli.md's normalize table lists no flags"
    for flag in flags:
        assert flag in help_text, f"docs/cli.md documents {flag}, which `tollgate normalize --help` lacks"
    for option in {word.strip("[],") for word in help_text.split() if word.startswith("--")} - {"--help"}:
        assert option in section, f"`tollgate normalize --help` has {option}, which docs/cli.md does not document"
