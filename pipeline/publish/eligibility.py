"""Which runs may change Security Hub: the default branch and named environments, never a pull request.

Security Hub holds one state per repository and environment (docs/security-hub.md): the default
branch's, and one per named environment (`--scope-env`, the `environment` input). A run publishes
only when its results are that state:
- a pull-request or merge-request run never publishes (it is a proposal, not a state);
- a run with an environment publishes into that environment, whatever its branch;
- any other run publishes only from the default branch. The default branch is
  `$TOLLGATE_DEFAULT_BRANCH`, else what the CI system says (GitHub's event payload, GitLab's
  `CI_DEFAULT_BRANCH`); when nobody says, the run publishes with a warning naming the variable.

A run that may not publish is no error: the publisher prints one line and exits 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from normalizers.model import Scope
from pipeline.ci_scope import CiRun, default_branch, detect


@dataclass(frozen=True)
class Eligibility:
    publish: bool
    reason: str | None = None  # why not, or what was assumed

    def line(self) -> str:
        state = "published" if self.publish else "not published"
        return f"tollgate: security hub: {state}: {self.reason}"


def eligibility(scope: Scope, ci: CiRun | None, default: str | None) -> Eligibility:
    if ci is not None and ci.merge_request:
        return Eligibility(False, f"a {ci.system} pull-request run never publishes; Security Hub holds the "
                                  "default branch and named environments")
    if scope.environment:
        return Eligibility(True)
    if scope.branch and default and scope.branch != default:
        return Eligibility(False, f"branch {scope.branch} is not the default branch {default}; name an "
                                  "environment (--scope-env, the environment input) to publish it")
    if scope.branch and not default:
        return Eligibility(True, f"the default branch is unknown (set TOLLGATE_DEFAULT_BRANCH): branch "
                                 f"{scope.branch} is published as the repository's state")
    return Eligibility(True)


def eligibility_from(env: Mapping[str, str], scope: Scope) -> Eligibility:
    ci = detect(env)
    return eligibility(scope, ci, default_branch(env, ci))
