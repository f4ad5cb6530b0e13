"""The CodeBuild buildspecs and the GitLab CI template: every `tollgate` command they run parses with the real
CLI, their variables are set or documented, and their structure is what CodeBuild and GitLab require.

GitLab's CI JSON schema is not on a package registry this project can reach, so the template is
checked STRUCTURALLY: job keys, stages, needs, artifacts:reports types and rules.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.cli import COMMANDS
from tests.conftest import ROOT

BUILDSPECS = sorted((ROOT / "examples" / "codebuild").glob("buildspec-*.yml"))
GITLAB = ROOT / "templates" / "gitlab" / "tollgate.gitlab-ci.yml"
# Variables the CI system or the codebuild-scan module sets (documented in docs/codebuild.md and docs/gitlab.md).
PROVIDED = {"CODEBUILD_SRC_DIR", "CODEBUILD_RESOLVED_SOURCE_VERSION", "CODEBUILD_BUILD_NUMBER", "AWS_REGION",
            "TOLLGATE_REPORT_BUCKET", "TOLLGATE_ZAP_REPORT_PREFIX", "CI_PIPELINE_SOURCE", "CI_COMMIT_BRANCH",
            "CI_DEFAULT_BRANCH"}
GITLAB_REPORT_TYPES = {"sast", "dependency_scanning", "dast", "secret_detection"}


def parse_tollgate(line: str, values: dict[str, str] | None = None) -> argparse.Namespace:
    """A `tollgate VERB ...` line through the verb's real argument parser (shell variables stand in as words;
    a trailing unquoted one is a list of extra flags, left out)."""
    known = values or {}
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: known.get(m[1]) or m[1], re.sub(r"\s\$\w+$", "", line))
    argv = shlex.split(expanded)
    verb, rest = argv[1], argv[2:]
    assert verb in COMMANDS, line
    parser = argparse.ArgumentParser(exit_on_error=False)
    importlib.import_module(COMMANDS[verb][0]).add_arguments(parser)  # type: ignore[attr-defined]
    return parser.parse_args(rest)


def tollgate_lines(commands: list[str]) -> list[str]:
    lines = [line.strip() for command in commands for line in command.splitlines()]
    return [line for line in lines if line.startswith("tollgate ")]


def referenced(text: str) -> set[str]:
    return set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", text))


@pytest.mark.parametrize("path", BUILDSPECS, ids=lambda path: path.name)
def test_every_buildspec_is_codebuild_0_2_and_runs_real_tollgate_commands(path: Path) -> None:
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert spec["version"] == 0.2
    assert set(spec["phases"]) <= {"install", "pre_build", "build", "post_build"}
    assert spec["phases"]["install"]["runtime-versions"]["python"] == "3.12"
    commands = [c for phase in spec["phases"].values() for c in phase.get("commands", [])]
    lines = tollgate_lines(commands)
    assert lines, f"{path.name} runs no tollgate command"
    for line in lines:
        parse_tollgate(line)
    defined = set(spec.get("env", {}).get("variables", {}))
    undefined = referenced(path.read_text(encoding="utf-8")) - defined - PROVIDED
    assert not undefined, f"{path.name} uses variables nobody sets: {sorted(undefined)}"
    docs = (ROOT / "docs" / "codebuild.md").read_text(encoding="utf-8")
    assert path.name in docs
    for variable in defined:
        assert variable in docs, f"docs/codebuild.md does not document {variable}"


def test_the_dast_buildspec_allows_only_its_target_and_runs_zap_ssm() -> None:
    spec = yaml.safe_load((ROOT / "examples" / "codebuild" / "buildspec-dast-ssm.yml").read_text(encoding="utf-8"))
    [scan] = tollgate_lines(spec["phases"]["build"]["commands"])
    args = parse_tollgate(scan)
    assert args.dast_engine == ["zap-ssm"] and args.only == ["zap-ssm"]
    assert args.dast_allow == ["TOLLGATE_DAST_ALLOW"] and args.dast_target == ["TOLLGATE_DAST_TARGET"]


def test_the_gitlab_template_scans_gates_and_publishes_with_security_reports() -> None:
    template: dict[str, Any] = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    jobs = {name: body for name, body in template.items()
            if isinstance(body, dict) and "script" in body}
    assert set(jobs) == {"tollgate-scan", "tollgate-gate", "tollgate-publish"}
    for name, job in jobs.items():
        assert job["extends"] == ".tollgate" and job["stage"] in template["stages"], name
        assert set(job) <= {"extends", "stage", "script", "artifacts", "rules", "needs"}, name
        for need in job.get("needs", []):
            assert need in jobs, name
        for line in tollgate_lines(job["script"]):
            parse_tollgate(line, template["variables"])
    scan_args = parse_tollgate(tollgate_lines(jobs["tollgate-scan"]["script"])[0])
    reports = jobs["tollgate-scan"]["artifacts"]["reports"]
    assert set(reports) == GITLAB_REPORT_TYPES
    from normalizers.emit.gitlab import REPORT_TYPES  # noqa: PLC0415

    assert {kind: f"{scan_args.gitlab}/{name}" for kind, name in REPORT_TYPES.values()} == reports
    assert jobs["tollgate-scan"]["artifacts"]["when"] == "always"
    publish_rule = jobs["tollgate-publish"]["rules"][0]["if"]
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in publish_rule  # never from a merge request
    undefined = referenced(GITLAB.read_text(encoding="utf-8")) - set(template["variables"]) - PROVIDED
    assert not undefined, sorted(undefined)
    docs = (ROOT / "docs" / "gitlab.md").read_text(encoding="utf-8")
    for variable in template["variables"]:
        assert variable in docs, f"docs/gitlab.md does not document {variable}"


def test_the_command_check_can_fail() -> None:
    with pytest.raises((argparse.ArgumentError, SystemExit)):
        parse_tollgate("tollgate scan . --no-such-flag")
    with pytest.raises(AssertionError):
        parse_tollgate("tollgate deploy .")
