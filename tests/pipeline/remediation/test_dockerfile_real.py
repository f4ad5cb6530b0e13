"""Acceptance (issue 20): the proposed Dockerfiles, rescanned by the same real scanners (hadolint, Checkov, Trivy
config), have strictly fewer findings and none new, and hadolint parses them.

The Dockerfiles: the bundled example, and those of the optional real repositories beside the checkout (pygoat,
terragoat; docs/development.md) when that folder is present (skipped cleanly otherwise). They are copied into
one tree and scanned once with `tollgate scan`; the proposals it writes (`remediation/<path>`) form a tree of
the same shape, which is scanned once more.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from normalizers.checks import canonical_id
from pipeline.remediation.propose import FOLDER, is_dockerfile
from tests.conftest import REALWORLD, ROOT

pytestmark = pytest.mark.slow
SCANNERS = ("hadolint", "checkov", "trivy-config")
CHECKOV = "/work/main/.venv-checkov/bin/checkov"
Counts = dict[str, Counter[tuple[str, str]]]  # Dockerfile -> (tool, canonical rule) -> findings
Rescanned = tuple[Counts, Counts, dict[str, str]]  # before, after, and the proposals' text


def dockerfiles() -> dict[str, Path]:
    found = {"examples/vulnerable-app/Dockerfile": ROOT / "examples" / "vulnerable-app" / "Dockerfile"}
    if REALWORLD.is_dir():
        for path in sorted(REALWORLD.rglob("*")):
            if path.is_file() and is_dockerfile(path.name):
                found[f"realworld/{path.relative_to(REALWORLD).as_posix()}"] = path
    return found


def scan(source: Path, out: Path) -> Counts:
    """(tool, canonical rule) counts per Dockerfile, from a real `tollgate scan` of `source`."""
    env = {**os.environ, "TOLLGATE_CHECKOV": os.environ.get("TOLLGATE_CHECKOV", CHECKOV)}
    argv = [sys.executable, "-m", "pipeline.cli", "scan", str(source), "--out", str(out), "--repo", "acme/images",
            "--no-publish", *(arg for name in SCANNERS for arg in ("--only", name))]
    run = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=1200, check=False)
    if "not found; install it" in run.stderr:
        pytest.skip(run.stderr.strip().splitlines()[-1])
    assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr[-3000:]
    per_file: Counts = {}
    for finding in json.loads((out / "results.json").read_text(encoding="utf-8"))["findings"]:
        path = finding["location"].get("path", "")
        for tool in (finding["tool"]["name"], *(e["tool"] for e in finding.get("evidence", ()))):
            rule = finding["rule_id"] if tool == finding["tool"]["name"] else next(
                e["rule_id"] for e in finding["evidence"] if e["tool"] == tool)
            per_file.setdefault(path, Counter())[(tool, canonical_id(rule))] += 1
    return per_file


@pytest.fixture(scope="module")
def rescanned(tmp_path_factory: pytest.TempPathFactory) -> Rescanned:
    originals = tmp_path_factory.mktemp("originals")
    for relative, path in dockerfiles().items():
        (originals / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, originals / relative)
    first = tmp_path_factory.mktemp("first")
    before = scan(originals, first)
    proposed = first / FOLDER
    assert proposed.is_dir(), "no Dockerfile got a proposal"
    after = scan(proposed, tmp_path_factory.mktemp("second"))
    texts = {p.relative_to(proposed).as_posix(): p.read_text() for p in proposed.rglob("*") if p.is_file()}
    return before, after, texts


def test_every_dockerfile_with_findings_gets_a_commented_proposal(rescanned: Rescanned) -> None:
    before, _, proposals = rescanned
    assert set(proposals) == {path for path, counts in before.items() if counts and is_dockerfile(path)}
    for text in proposals.values():
        assert "# Tollgate:" in text and "USER 10001:10001" in text and "# HEALTHCHECK " in text


def test_rescanning_the_proposals_finds_strictly_fewer_and_nothing_new(rescanned: Rescanned) -> None:
    before, after, proposals = rescanned
    assert len(proposals) >= (6 if REALWORLD.is_dir() else 1)
    for path in proposals:
        new = after.get(path, Counter()) - before[path]
        assert not new, f"{path}: new findings {dict(new)}"
        assert sum(after.get(path, Counter()).values()) < sum(before[path].values()), path
        assert ("hadolint", "DL1000") not in after.get(path, Counter())  # hadolint parsed it
