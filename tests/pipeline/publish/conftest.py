"""Every publish test runs as outside CI, whatever CI runs the suite: the CI's own variables would decide
whether a run may publish (pipeline.publish.eligibility)."""

from __future__ import annotations

import pytest

CI_MARKERS = ("GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITLAB_CI",
              "CI_PROJECT_PATH", "CI_DEFAULT_BRANCH", "CODEBUILD_BUILD_ID", "CODEBUILD_BUILD_ARN", "JENKINS_URL",
              "TF_BUILD", "TOLLGATE_DEFAULT_BRANCH")


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_MARKERS:
        monkeypatch.delenv(name, raising=False)
