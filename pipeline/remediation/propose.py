"""Which Dockerfiles get a proposal, from which findings, and where the proposals go.

A Dockerfile gets a proposal when a finding names it (hadolint, Checkov, Trivy config: a code
location whose file is a Dockerfile or Containerfile). Image findings that name a fixed version
(Trivy image) are about a built image, which no finding ties to its Dockerfile; they are added to
the Dockerfile's findings when the scanned repository has exactly one Dockerfile with findings.

The proposal is written to `remediation/<the Dockerfile's path>` in the output folder, and its
unified diff against the original is a scan metric (`remediation/<path>`), which is how it reaches
the HTML and PDF reports (pipeline.report.view) from the results file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from normalizers.model import Category, CodeLocation, Finding, ImageLocation
from pipeline.atomic import write_atomic
from pipeline.remediation.dockerfile import Issue, Proposal, remediate

FOLDER = "remediation"
METRIC_PREFIX = "remediation/"
_DOCKERFILE = re.compile(r"^(Dockerfile|Containerfile)([.-].+)?$|\.(Dockerfile|Containerfile)$", re.IGNORECASE)


@dataclass(frozen=True)
class Remediation:
    path: str  # the Dockerfile, relative to the repository
    proposal: Proposal
    diff: str


def is_dockerfile(path: str) -> bool:
    return bool(_DOCKERFILE.search(PurePosixPath(path).name))


def issues_by_dockerfile(findings: Iterable[Finding]) -> dict[str, list[Issue]]:
    per_file: dict[str, list[Issue]] = {}
    image: list[Issue] = []
    for finding in findings:
        location = finding.location
        if isinstance(location, CodeLocation) and is_dockerfile(location.path):
            path = location.path.removeprefix("./")
            # A merged finding carries the other tools' rules as evidence; the comments cite them all.
            per_file.setdefault(path, []).extend([
                Issue(finding.rule_id, location.start_line),
                *(Issue(e.rule_id, e.start_line or location.start_line) for e in finding.evidence)])
        elif (finding.category is Category.IMAGE and isinstance(location, ImageLocation) and location.package
              and location.package.fixed_versions):
            image.append(Issue(finding.rule_id, package=location.package.name,
                               fixed_version=location.package.fixed_versions[0]))
    if image and len(per_file) == 1:
        next(iter(per_file.values())).extend(image)
    return per_file


def propose(source: Path, findings: Iterable[Finding]) -> tuple[Remediation, ...]:
    """A proposal for every Dockerfile under `source` that findings name and that can be improved."""
    found = []
    for path, issues in sorted(issues_by_dockerfile(findings).items()):
        file = source / path
        if not file.is_file():
            continue
        original = file.read_text(encoding="utf-8", errors="replace")
        proposal = remediate(original, issues)
        if proposal.changed:
            diff = "".join(difflib.unified_diff(original.splitlines(keepends=True),
                                                proposal.text.splitlines(keepends=True),
                                                fromfile=f"a/{path}", tofile=f"b/{path}"))
            found.append(Remediation(path, proposal, diff))
    return tuple(found)


def write_remediations(out_dir: Path, remediations: Iterable[Remediation]) -> tuple[tuple[str, str], ...]:
    """Write each proposal under `out_dir/remediation/`; returns the metrics that carry the diffs."""
    metrics = []
    for remediation in remediations:
        write_atomic(out_dir / FOLDER / remediation.path, remediation.proposal.text)
        metrics.append((f"{METRIC_PREFIX}{remediation.path}", remediation.diff))
    return tuple(metrics)
