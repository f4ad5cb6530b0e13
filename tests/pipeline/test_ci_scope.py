"""Scope from each CI system's own variables, as each system documents and sets them, and the refusal to publish
a `local/...` scope. The environments below are the variables those systems set for a push and for a merge/pull
request (names and value shapes from their documentation); nothing else of the environment is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from normalizers.model import Scope
from pipeline.ci_scope import CiRun, branch_from_ref, detect, repository_from_url, require_publishable, resolve_scope
from pipeline.cli import main
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.publish import PublishFlowRequest, publish_results
from tests.conftest import FIXTURES, ROOT

SHA = "9f1c2a7d5e3b4c6a8f0e1d2c3b4a5968778695a4"
ZAP = FIXTURES / "zap" / "pipeline-templates_zap-2.14.0_report_json.json"

CODEBUILD_WEBHOOK_PUSH = {
    "CODEBUILD_BUILD_ID": "tollgate-scan:0b9e6f35-1f3c-4a7e-9d1a-2f3b4c5d6e7f",
    "CODEBUILD_BUILD_ARN": "arn:aws:codebuild:eu-west-1:123456789012:build/tollgate-scan:0b9e6f35",
    "CODEBUILD_SOURCE_REPO_URL": "https://github.com/acme/web.git",
    "CODEBUILD_SOURCE_VERSION": SHA,
    "CODEBUILD_RESOLVED_SOURCE_VERSION": SHA,
    "CODEBUILD_WEBHOOK_EVENT": "PUSH",
    "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/feature/login",
    "CODEBUILD_WEBHOOK_TRIGGER": "branch/feature/login",
    "CODEBUILD_SRC_DIR": "/codebuild/output/src123/src/github.com/acme/web",
}
CODEBUILD_WEBHOOK_PR = {
    **CODEBUILD_WEBHOOK_PUSH,
    "CODEBUILD_SOURCE_VERSION": "pr/42",
    "CODEBUILD_WEBHOOK_EVENT": "PULL_REQUEST_UPDATED",
    "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main",
    "CODEBUILD_WEBHOOK_TRIGGER": "pr/42",
}
CODEBUILD_CODECOMMIT_MANUAL = {
    "CODEBUILD_BUILD_ID": "tollgate-scan:1",
    "CODEBUILD_SOURCE_REPO_URL": "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/payments",
    "CODEBUILD_SOURCE_VERSION": "refs/heads/main",
    "CODEBUILD_RESOLVED_SOURCE_VERSION": SHA,
}
CODEBUILD_S3 = {
    "CODEBUILD_BUILD_ID": "tollgate-scan:2",
    "CODEBUILD_SOURCE_REPO_URL": "acme-artifacts/web/source.zip",
    "CODEBUILD_SOURCE_VERSION": "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",  # an S3 object version, never a branch
}
GITLAB_PUSH = {
    "GITLAB_CI": "true", "CI": "true", "CI_PROJECT_PATH": "acme/platform/web", "CI_COMMIT_REF_NAME": "main",
    "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": SHA, "CI_PIPELINE_SOURCE": "push",
    "CI_PROJECT_DIR": "/builds/acme/web",
}
GITLAB_MR = {
    **{k: v for k, v in GITLAB_PUSH.items() if k != "CI_COMMIT_BRANCH"},
    "CI_COMMIT_REF_NAME": "feature/login", "CI_PIPELINE_SOURCE": "merge_request_event",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/login", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_MERGE_REQUEST_IID": "7",
}
JENKINS_MULTIBRANCH_PR = {
    "JENKINS_URL": "https://ci.acme.example/", "GIT_URL": "git@github.com:acme/web.git", "GIT_COMMIT": SHA,
    "BRANCH_NAME": "PR-12", "CHANGE_ID": "12", "CHANGE_BRANCH": "feature/login", "CHANGE_TARGET": "main",
    "WORKSPACE": "/var/jenkins/workspace/web_PR-12",
}
JENKINS_FREESTYLE = {
    "JENKINS_URL": "https://ci.acme.example/", "GIT_URL": "https://ci-bot:s3cr3t-t0ken@git.acme.example/acme/web.git",
    "GIT_BRANCH": "origin/release/2.1", "GIT_COMMIT": SHA,
}
AZURE_PR = {
    "TF_BUILD": "True", "BUILD_REPOSITORY_URI": "https://acme@dev.azure.com/acme/payments/_git/web",
    "BUILD_REPOSITORY_NAME": "web", "BUILD_SOURCEBRANCH": "refs/pull/5/merge", "BUILD_SOURCEVERSION": SHA,
    "BUILD_REASON": "PullRequest", "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feature/login",
    "BUILD_SOURCESDIRECTORY": "/home/vsts/work/1/s",
}
GITHUB_PR = {
    "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/web", "GITHUB_REF_NAME": "42/merge", "GITHUB_SHA": SHA,
    "GITHUB_EVENT_NAME": "pull_request", "GITHUB_WORKSPACE": "/home/runner/work/web/web",
}


@pytest.mark.parametrize(("env", "expected"), [
    (GITHUB_PR, CiRun("GitHub Actions", "acme/web", "42/merge", SHA, True, "/home/runner/work/web/web")),
    (CODEBUILD_WEBHOOK_PUSH, CiRun("AWS CodeBuild", "acme/web", "feature/login", SHA, False,
                                   "/codebuild/output/src123/src/github.com/acme/web")),
    (CODEBUILD_WEBHOOK_PR, CiRun("AWS CodeBuild", "acme/web", "feature/login", SHA, True,
                                 "/codebuild/output/src123/src/github.com/acme/web")),
    (CODEBUILD_CODECOMMIT_MANUAL, CiRun("AWS CodeBuild", "codecommit/payments", "main", SHA)),
    (CODEBUILD_S3, CiRun("AWS CodeBuild")),
    (GITLAB_PUSH, CiRun("GitLab CI", "acme/platform/web", "main", SHA, False, "/builds/acme/web")),
    (GITLAB_MR, CiRun("GitLab CI", "acme/platform/web", "feature/login", SHA, True, "/builds/acme/web")),
    (JENKINS_MULTIBRANCH_PR, CiRun("Jenkins", "acme/web", "feature/login", SHA, True,
                                   "/var/jenkins/workspace/web_PR-12")),
    (JENKINS_FREESTYLE, CiRun("Jenkins", "acme/web", "release/2.1", SHA)),
    (AZURE_PR, CiRun("Azure Pipelines", "acme/payments/web", "feature/login", SHA, True, "/home/vsts/work/1/s")),
    ({"PATH": "/usr/bin", "HOME": "/root"}, None),
], ids=["github-pr", "codebuild-push", "codebuild-pr", "codebuild-codecommit", "codebuild-s3", "gitlab-push",
        "gitlab-mr", "jenkins-pr", "jenkins-freestyle", "azure-pr", "no-ci"])
def test_each_ci_system_is_read_from_its_own_variables(env: dict[str, str], expected: CiRun | None) -> None:
    assert detect(env) == expected


def test_a_credential_in_a_clone_url_never_reaches_the_scope() -> None:
    scope = resolve_scope(JENKINS_FREESTYLE, repository=None, branch=None, commit=None, environment=None,
                          folder=Path("."))
    assert "s3cr3t" not in repr(scope) and scope.scope.repository == "acme/web"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://gitlab.com/acme/platform/web.git", "acme/platform/web"),
    ("ssh://git@bitbucket.org/acme/web.git", "acme/web"),
    ("https://github.com/acme/web/", "acme/web"),
    ("https://github.com/web", None),
    ("arn:aws:s3:::acme-artifacts/web.zip", None),
    ("", None),
])
def test_clone_urls_become_their_repository_path(url: str, expected: str | None) -> None:
    assert repository_from_url(url) == expected


@pytest.mark.parametrize(("ref", "expected"), [
    ("refs/heads/feature/x", "feature/x"), ("refs/tags/v1.2.0", "v1.2.0"), ("origin/main", "main"), ("main", "main"),
    ("refs/pull/5/merge", None), ("pr/42", None), (SHA, None), (None, None),
])
def test_refs_become_branches_and_pull_request_refs_none(ref: str | None, expected: str | None) -> None:
    assert branch_from_ref(ref) == expected


def test_flags_beat_the_ci_variables() -> None:
    resolved = resolve_scope(GITLAB_MR, repository="acme/override", branch="b", commit="c", environment="prod",
                             folder=Path("."))
    assert resolved.scope == Scope("acme/override", "prod", "b", "c")
    assert resolved.warning is None
    assert resolved.notice() == "scope acme/override, branch b from GitLab CI (merge request)"


def test_no_repository_anywhere_is_a_local_scope_with_a_warning_naming_the_flag(tmp_path: Path) -> None:
    resolved = resolve_scope({}, repository=None, branch=None, commit=None, environment=None, folder=tmp_path)
    assert resolved.scope == Scope(f"local/{tmp_path.name}")
    assert resolved.warning is not None and "no CI system detected" in resolved.warning
    assert "--repo owner/name" in resolved.warning
    s3 = resolve_scope(CODEBUILD_S3, repository=None, branch=None, commit=None, environment=None, folder=tmp_path)
    assert s3.warning is not None and s3.warning.startswith("AWS CodeBuild names no repository")


def test_a_repository_flag_without_an_owner_is_refused() -> None:
    with pytest.raises(ConfigError, match="--repo must be owner/name, got 'web'"):
        resolve_scope({}, repository="web", branch=None, commit=None, environment=None, folder=Path("."))


def test_publishing_a_local_scope_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^refusing to publish findings scoped to local/web: that is a folder") as e:
        require_publishable(Scope("local/web"))
    assert e.value.tip is not None and "--repo" in e.value.tip
    require_publishable(Scope("localcorp/web"))  # only the `local` owner is a folder


def test_normalize_takes_the_scope_from_gitlab_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in GITLAB_MR.items():
        monkeypatch.setenv(name, value)
    for name in ("GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_REF_NAME", "GITHUB_SHA"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "results.json"
    assert main(["normalize", str(ZAP), "--json", str(out), "--source-root", str(tmp_path)]) == ExitCode.PASSED
    scope = json.loads(out.read_text(encoding="utf-8"))["scope"]
    assert (scope["repository"], scope["branch"], scope["commit"]) == ("acme/platform/web", "feature/login", SHA)
    assert "tollgate: scope acme/platform/web, branch feature/login from GitLab CI (merge request)" in \
        capsys.readouterr().err


def test_publishing_local_results_is_refused_before_any_aws_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITLAB_CI", "CI_PROJECT_PATH", "CODEBUILD_BUILD_ID",
                 "JENKINS_URL", "TF_BUILD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["normalize", str(ZAP), "--json", "results.json"]) == ExitCode.PASSED
    assert "--repo owner/name" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=f"scoped to local/{tmp_path.name}"):
        publish_results(PublishFlowRequest(results=(tmp_path / "results.json",), region="eu-west-1"))
    code = main(["publish", "securityhub", "results.json", "--region", "eu-west-1",
                 "--endpoint-url", "http://127.0.0.1:9"])  # nothing listens: no call may be made
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"refusing to publish findings scoped to local/{tmp_path.name}" in err and "Traceback" not in err


def test_a_scan_that_would_publish_a_local_scope_stops_before_any_scanner(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITLAB_CI", "CI_PROJECT_PATH", "CODEBUILD_BUILD_ID",
                 "JENKINS_URL", "TF_BUILD"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / ".tollgate.yml"
    config.write_text("scan:\n  publish:\n    securityhub: {region: eu-west-1}\n", encoding="utf-8")
    code = main(["scan", str(ROOT / "examples" / "vulnerable-app"), "--only", "hadolint", "--config", str(config),
                 "--out", str(tmp_path / "out")])
    assert code == ExitCode.USAGE
    assert "refusing to publish findings scoped to local/vulnerable-app" in capsys.readouterr().err
    assert not (tmp_path / "out" / "raw").exists()
