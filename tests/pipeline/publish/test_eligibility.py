"""Which runs may change Security Hub: the default branch and named environments, never a pull request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from normalizers.model import Scope
from pipeline.ci_scope import CiRun, default_branch, detect
from pipeline.publish.eligibility import eligibility, eligibility_from

MAIN = Scope("octo/shop", branch="main")


def test_a_pull_request_never_publishes_even_into_an_environment() -> None:
    run = CiRun("GitHub Actions", "octo/shop", "12/merge", merge_request=True)
    for scope in (Scope("octo/shop", branch="12/merge"), Scope("octo/shop", environment="staging")):
        decision = eligibility(scope, run, "main")
        assert not decision.publish
        assert decision.line().startswith("tollgate: security hub: not published: a GitHub Actions pull-request run")


def test_the_default_branch_publishes_and_another_branch_only_as_an_environment() -> None:
    assert eligibility(MAIN, None, "main").publish
    release = eligibility(Scope("octo/shop", branch="release/2"), None, "main")
    assert not release.publish and "name an environment" in str(release.reason)
    assert eligibility(Scope("octo/shop", branch="release/2", environment="release"), None, "main").publish


def test_an_unknown_default_branch_publishes_with_a_warning_naming_the_variable() -> None:
    decision = eligibility(MAIN, CiRun("Jenkins", "octo/shop", "main"), None)
    assert decision.publish and "TOLLGATE_DEFAULT_BRANCH" in str(decision.reason)
    assert eligibility(Scope("octo/shop"), None, None) == eligibility(Scope("octo/shop"), None, "main")


def test_github_names_the_default_branch_in_its_event_payload(tmp_path: Path) -> None:
    payload = tmp_path / "event.json"
    payload.write_text(json.dumps({"repository": {"full_name": "octo/shop", "default_branch": "trunk"}}))
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/shop", "GITHUB_REF_NAME": "main",
           "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(payload)}
    assert default_branch(env, detect(env)) == "trunk"
    assert not eligibility_from(env, MAIN).publish  # main is not this repository's default branch
    assert eligibility_from({**env, "TOLLGATE_DEFAULT_BRANCH": "main"}, MAIN).publish  # the variable wins
    unreadable = {**env, "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    assert default_branch(unreadable, detect(unreadable)) is None


@pytest.mark.parametrize(("env", "publish"), [
    ({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}, False),
    ({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target"}, False),
    ({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main"}, False),
    ({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "main"}, True),
    ({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "develop"}, False),
    ({"JENKINS_URL": "https://ci.example", "CHANGE_ID": "7"}, False),
    ({"TF_BUILD": "True", "BUILD_REASON": "PullRequest"}, False),
    ({"CODEBUILD_BUILD_ID": "b:1", "CODEBUILD_WEBHOOK_EVENT": "PULL_REQUEST_UPDATED"}, False),
])
def test_every_ci_systems_pull_requests_and_default_branch(env: dict[str, str], publish: bool) -> None:
    assert eligibility_from(env, MAIN).publish is publish
