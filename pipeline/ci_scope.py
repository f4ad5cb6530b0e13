"""Which repository, branch and commit a run belongs to, from the flags or else the CI system's own variables.

Security Hub scopes every finding's identity and archiving by repository and branch, so a wrong or
missing repository silently mixes repositories. Each CI system says where it runs in its own
variables; the first system whose marker is set wins (GitHub Actions, AWS CodeBuild, GitLab CI,
Jenkins, Azure Pipelines), and a flag always beats a variable. docs/ci.md has the table of which
variable gives what; each system's function below reads exactly those.

Repository URLs become their path (`https://github.com/acme/web.git` -> `acme/web`, GitLab subgroups
kept, Azure's `org/project/_git/repo` -> `org/project/repo`, CodeCommit's `v1/repos/web` ->
`codecommit/web`); credentials in a URL are never read. Outside any CI system, or when a system
names no repository (a CodeBuild project with an S3 source), the scope is `local/<folder>` with a
warning naming `--repo`; publishing refuses such a scope (`require_publishable`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from normalizers.model import Scope
from pipeline.errors import ConfigError

Env = Mapping[str, str]
LOCAL_OWNER = "local"
REPO_FLAG_TIP = "pass --repo owner/name (and --branch, --commit)"
_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?P<path>[^/].*)$")  # git@github.com:acme/web.git


@dataclass(frozen=True)
class CiRun:
    """What one CI system says about the run; any field may be unknown."""

    system: str  # the CI system's name, as shown to users
    repository: str | None = None
    branch: str | None = None
    commit: str | None = None
    merge_request: bool = False
    workspace: str | None = None  # the checkout, the root that report paths are relative to
    default_branch: str | None = None  # only GitHub (the event payload) and GitLab say


@dataclass(frozen=True)
class ResolvedScope:
    scope: Scope
    ci: CiRun | None
    warning: str | None = None

    def notice(self) -> str:
        """One line saying where the scope came from, for the console."""
        where = f" from {self.ci.system}" + (" (merge request)" if self.ci.merge_request else "") if self.ci else ""
        branch = f", branch {self.scope.branch}" if self.scope.branch else ""
        return f"scope {self.scope.repository}{branch}{where}"


def _text(env: Env, *names: str) -> str | None:
    """The first of the variables that is set and not blank."""
    return next((env[name].strip() for name in names if env.get(name, "").strip()), None)


def repository_from_url(url: str | None) -> str | None:
    """`owner/name` (or `group/subgroup/name`) from a clone URL; None when it names no repository."""
    if not url:
        return None
    scp = _SCP_LIKE.match(url.strip())
    path = scp["path"] if scp else urlsplit(url.strip()).path  # urlsplit drops user:token@
    if not scp and "://" not in url:
        return None  # an S3 source ("bucket/key") is not a repository
    parts = [part for part in path.removesuffix("/").removesuffix(".git").split("/") if part]
    if parts[:2] == ["v1", "repos"] and len(parts) == 3:  # CodeCommit
        return f"codecommit/{parts[2]}"
    parts = [part for part in parts if part != "_git"]  # Azure Repos: org/project/_git/repo
    return "/".join(parts) if len(parts) >= 2 else None


def branch_from_ref(ref: str | None) -> str | None:
    """`refs/heads/feature/x` -> `feature/x`; a pull-request ref or a bare commit is no branch."""
    if not ref:
        return None
    if ref.startswith(("refs/pull/", "pr/", "refs/merge-requests/")) or _SHA.match(ref):
        return None
    for prefix in ("refs/heads/", "refs/tags/", "origin/"):
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def github_default_branch(env: Env) -> str | None:
    """`repository.default_branch` of the event payload; None when it is unreadable or absent."""
    try:
        with open(env.get("GITHUB_EVENT_PATH") or "", encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError):
        return None
    repository = payload.get("repository") if isinstance(payload, dict) else None
    branch = repository.get("default_branch") if isinstance(repository, dict) else None
    return branch if isinstance(branch, str) and branch.strip() else None


def github(env: Env) -> CiRun | None:
    if not (env.get("GITHUB_ACTIONS") == "true" or _text(env, "GITHUB_REPOSITORY")):
        return None
    return CiRun("GitHub Actions", _text(env, "GITHUB_REPOSITORY"), _text(env, "GITHUB_REF_NAME"),
                 _text(env, "GITHUB_SHA"), (env.get("GITHUB_EVENT_NAME") or "").startswith("pull_request"),
                 _text(env, "GITHUB_WORKSPACE"), github_default_branch(env))


def codebuild(env: Env) -> CiRun | None:
    if not _text(env, "CODEBUILD_BUILD_ID", "CODEBUILD_BUILD_ARN"):
        return None
    source_version = _text(env, "CODEBUILD_SOURCE_VERSION") or ""
    merge_request = ((env.get("CODEBUILD_WEBHOOK_EVENT") or "").startswith("PULL_REQUEST")
                     or source_version.startswith("pr/"))
    repository = repository_from_url(env.get("CODEBUILD_SOURCE_REPO_URL"))
    # An S3 source's version is an object version id, never a branch.
    from_version = branch_from_ref(source_version) if repository else None
    return CiRun("AWS CodeBuild", repository,
                 branch_from_ref(_text(env, "CODEBUILD_WEBHOOK_HEAD_REF")) or from_version,
                 _text(env, "CODEBUILD_RESOLVED_SOURCE_VERSION"), merge_request, _text(env, "CODEBUILD_SRC_DIR"))


def gitlab(env: Env) -> CiRun | None:
    if not (env.get("GITLAB_CI") == "true" or _text(env, "CI_PROJECT_PATH")):
        return None
    merge_request = env.get("CI_PIPELINE_SOURCE") in ("merge_request_event", "external_pull_request_event")
    return CiRun("GitLab CI", _text(env, "CI_PROJECT_PATH"),
                 _text(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME"),
                 _text(env, "CI_COMMIT_SHA"), merge_request, _text(env, "CI_PROJECT_DIR"),
                 _text(env, "CI_DEFAULT_BRANCH"))


def jenkins(env: Env) -> CiRun | None:
    if not _text(env, "JENKINS_URL"):
        return None
    return CiRun("Jenkins", repository_from_url(env.get("GIT_URL")),
                 branch_from_ref(_text(env, "CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH")),
                 _text(env, "GIT_COMMIT"), bool(_text(env, "CHANGE_ID")), _text(env, "WORKSPACE"))


def azure(env: Env) -> CiRun | None:
    if (env.get("TF_BUILD") or "").lower() != "true":
        return None
    return CiRun("Azure Pipelines", repository_from_url(env.get("BUILD_REPOSITORY_URI")),
                 branch_from_ref(_text(env, "SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCH")),
                 _text(env, "BUILD_SOURCEVERSION"), env.get("BUILD_REASON") == "PullRequest",
                 _text(env, "BUILD_SOURCESDIRECTORY"))


SYSTEMS: tuple[Callable[[Env], CiRun | None], ...] = (github, codebuild, gitlab, jenkins, azure)


def detect(env: Env) -> CiRun | None:
    """The CI system this process runs in, from its own variables; None outside CI."""
    return next((run for run in (system(env) for system in SYSTEMS) if run is not None), None)


def resolve_scope(env: Env, *, repository: str | None, branch: str | None, commit: str | None,
                  environment: str | None, folder: Path) -> ResolvedScope:
    """Flags first, then the CI system's variables; `local/<folder>` with a warning when neither names a repository."""
    ci = detect(env)
    chosen = repository or (ci.repository if ci else None)
    warning = None
    if chosen is None:
        chosen = f"{LOCAL_OWNER}/{folder.resolve().name or 'root'}"
        where = f"{ci.system} names no repository" if ci else "no CI system detected"
        warning = (f"{where}: findings are scoped to {chosen}, which cannot be published; "
                   f"{REPO_FLAG_TIP}")
    chosen = chosen.strip("/")
    if "/" not in chosen:
        raise ConfigError(f"--repo must be owner/name, got {chosen!r}")
    scope = Scope(repository=chosen, environment=environment or None,
                  branch=branch or (ci.branch if ci else None), commit=commit or (ci.commit if ci else None))
    return ResolvedScope(scope, ci, warning)


def default_branch(env: Env, ci: CiRun | None) -> str | None:
    """`$TOLLGATE_DEFAULT_BRANCH`, else what the CI system says; None when nobody says."""
    return _text(env, "TOLLGATE_DEFAULT_BRANCH") or (ci.default_branch if ci else None)


def is_local(scope: Scope) -> bool:
    return scope.repository.split("/", 1)[0] == LOCAL_OWNER


def require_publishable(scope: Scope) -> None:
    """ConfigError for a `local/...` scope: it names a folder, not a repository, and would mix in Security Hub."""
    if is_local(scope):
        raise ConfigError(f"refusing to publish findings scoped to {scope.repository}: that is a folder, "
                          "not a repository", REPO_FLAG_TIP)
