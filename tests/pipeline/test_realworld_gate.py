"""The default scan on real repositories nobody here wrote: a clean project passes the default gate, a
deliberately vulnerable one fails on its real flaws, not on hygiene (copies of the optional real
repositories beside the checkout, docs/development.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main
from pipeline.errors import ExitCode
from tests.conftest import REALWORLD

pytestmark = pytest.mark.slow

NEEDED = {"semgrep": "pip install semgrep", "bandit": "pip install 'bandit[sarif]'"}
# The flaw classes pygoat plants that the default rules must fail on: OS command injection, code
# injection, unsafe deserialization (CWE-78/77, 94/95, 502).
REAL_FLAWS = {77, 78, 94, 95, 502}


def scan(tmp_path: Path, name: str) -> tuple[int, list[dict[str, Any]]]:
    if not (REALWORLD / name).is_dir():
        pytest.skip(f"{REALWORLD / name} is absent; the realworld repositories live beside the checkout")
    for tool, install in NEEDED.items():
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: {install}")
    source = tmp_path / name
    shutil.copytree(REALWORLD / name, source)
    out = tmp_path / "out"
    code = main(["scan", str(source), "--out", str(out), "--repo", f"realworld/{name}", "--no-publish"])
    return code, json.loads((out / "results.json").read_text(encoding="utf-8"))["findings"]


def failing(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["active"] and f["severity"] in ("HIGH", "CRITICAL")]


def test_a_clean_project_passes_the_default_gate(tmp_path: Path) -> None:
    code, findings = scan(tmp_path, "click")
    assert code == ExitCode.PASSED, [(f["tool"]["name"], f["rule_id"], f["location"]) for f in failing(findings)]
    assert not any("tests/" in str(f["location"].get("path", "")) for f in findings)  # tests are not shipped code


def test_a_vulnerable_project_fails_on_its_real_flaws_not_on_hygiene(tmp_path: Path) -> None:
    code, findings = scan(tmp_path, "pygoat")
    assert code == ExitCode.GATE_FAILED
    high = failing(findings)
    flaws = [f for f in high if REAL_FLAWS & set(f["cwe"])]
    assert len(flaws) >= 5
    hygiene = [f for f in high if "HEALTHCHECK" in f["title"].upper() or f["rule_id"] in ("CKV_DOCKER_2", "DS-0026")]
    assert hygiene == []
    # One problem, one finding: shell=True lines are reported by Bandit and confirmed by Semgrep.
    assert any(f["rule_id"] == "B602" and f["confirmed_by"] for f in high)
