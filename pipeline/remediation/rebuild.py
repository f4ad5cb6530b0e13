"""`tollgate scan --remediate-build`: build each proposed Dockerfile and rescan what was built.

Where a Docker engine answers (`docker info`), each proposal (`remediation/<path>` in the output
folder) is built with the original Dockerfile's folder as the context, then rescanned: the Dockerfile
scanners that completed in this run read the proposals, and the image scanner (Trivy image) reads each
built image. The counts become metrics that the reports' remediation section shows:
`remediation-rescan/<path>/before` (this run's open problems on the Dockerfile), `.../after` (the same
scanners on the proposal) and `.../image` (the rebuilt image's problems).

Fail closed: the step was asked for, so when it cannot run (no `docker` on PATH, no engine behind it, a
build that fails, a rescan that does not complete) the reason is returned and the scan counts it as
missing: the verdict is "failed: incomplete" and the exit code 3 (pipeline.flows.scan).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from normalizers.model import CodeLocation, Finding, ParseResult

METRIC_PREFIX = "remediation-rescan/"
DOCKERFILE_SCANNERS = ("hadolint", "checkov", "trivy-config")
IMAGE_SCANNER = "trivy-image"
ENGINE_TIMEOUT = 30.0
BUILD_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Rescan:
    """What a rescan returns: the parsed reports, and why a scanner did not complete (empty: all did)."""

    parsed: tuple[ParseResult, ...]
    problems: tuple[str, ...] = ()


# (source folder, image reference or None, scanner names) -> the rescan: pipeline.flows.scan runs the scanners
Rescanner = Callable[[Path, str | None, tuple[str, ...]], Rescan]


@dataclass(frozen=True)
class Rebuilt:
    metrics: tuple[tuple[str, str], ...]
    problems: tuple[str, ...]  # each a reason the step did not fully run: missing, so exit 3


def engine_problem() -> str | None:
    """None when `docker info` answers; else why not, in one line."""
    docker = shutil.which("docker")
    if docker is None:
        return "no Docker engine: `docker` is not on PATH"
    try:
        run = subprocess.run(  # noqa: S603 - an argv list, no shell
            [docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
            timeout=ENGINE_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no Docker engine: `docker info` did not answer ({exc.__class__.__name__})"
    if run.returncode != 0 or not run.stdout.strip():
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return f"no Docker engine: `docker info` failed: {last[:200]}"
    return None


def image_tag(path: str) -> str:
    """A local tag per Dockerfile: Docker's names are lower-case letters, digits and separators."""
    return f"tollgate-remediated/{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-') or 'dockerfile'}:latest"


def rebuild_and_rescan(paths: Sequence[str], source: Path, out_dir: Path, findings: Iterable[Finding], *,
                       completed: Iterable[str], rescan: Rescanner) -> Rebuilt:
    """Build every proposal under `out_dir/remediation`, rescan, and count before and after."""
    problem = engine_problem()  # asked for: without an engine it is missing, even with nothing to rebuild
    if problem:
        return Rebuilt((), (f"remediate-build: {problem}",))
    problems: list[str] = []
    scanners = tuple(name for name in DOCKERFILE_SCANNERS if name in set(completed))
    proposals = out_dir / "remediation"
    after = rescan(proposals, None, scanners) if scanners else Rescan(())
    problems += [f"remediate-build: rescan: {p}" for p in after.problems]
    before = _counts(f for f in findings if f.is_problem and f.active)
    rescanned = _counts(f for result in after.parsed for f in result.findings if f.is_problem and f.active)
    metrics: list[tuple[str, str]] = []
    for path in paths:
        key = f"{METRIC_PREFIX}{path}"
        metrics += [(f"{key}/before", str(before.get(path, 0))), (f"{key}/after", str(rescanned.get(path, 0)))]
        built = _build(path, source, proposals)
        if built:
            problems.append(f"remediate-build: {path}: {built}")
            continue
        image = rescan(proposals, image_tag(path), (IMAGE_SCANNER,))
        problems += [f"remediate-build: {path}: {p}" for p in image.problems]
        if not image.problems:
            count = sum(1 for r in image.parsed for f in r.findings if f.is_problem and f.active)
            metrics.append((f"{key}/image", str(count)))
    return Rebuilt(tuple(metrics), tuple(problems))


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        if isinstance(finding.location, CodeLocation):
            path = finding.location.path.removeprefix("./")
            counts[path] = counts.get(path, 0) + 1
    return counts


def _build(path: str, source: Path, proposals: Path) -> str | None:
    """None when `docker build` of the proposal (context: the original's folder) succeeded; else why not."""
    context = source / PurePosixPath(path).parent
    argv = ["docker", "build", "--file", str(proposals / path), "--tag", image_tag(path), str(context)]
    try:
        run = subprocess.run(argv, capture_output=True, text=True,  # noqa: S603 - an argv list, no shell
                             timeout=BUILD_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker build did not finish ({exc.__class__.__name__})"
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return f"docker build failed (exit {run.returncode}): {last[:200]}"
    return None
