"""`make demo` runs offline here, and what it writes validates (SARIF schema, ASFF validator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from normalizers.asff_validator import validate_batch

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"

pytestmark = pytest.mark.slow


def test_demo_end_to_end(tmp_path: Path) -> None:
    if not (Path(sys.executable).parent / "moto_server").exists():
        pytest.skip('moto_server is not installed: pip install "moto[server]"')
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    if checkov.exists():
        env.setdefault("TOLLGATE_CHECKOV", str(checkov))
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py"), "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "demo: verdict: gate FAILED" in result.stdout  # the example app must fail the gate
    assert "demo: outputs validate" in result.stdout
    hub_total = next(line for line in result.stdout.splitlines() if line.startswith("demo:   total"))
    findings = json.loads((out / "results.json").read_text(encoding="utf-8"))["findings"]
    assert int(hub_total.split()[-1]) == len(findings) > 0, "Security Hub holds every finding of the scan"

    sarif = json.loads((out / "tollgate.sarif").read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert [e.message for e in Draft7Validator(schema).iter_errors(sarif)] == []
    asff = json.loads((out / "asff.json").read_text(encoding="utf-8"))["Findings"]
    assert validate_batch(asff) == []
    assert (out / "summary.md").read_text(encoding="utf-8").startswith("## ")
    assert "<html" in (out / "report.html").read_text(encoding="utf-8").lower()
