"""One house: every front door reaches the verdict through pipeline.flows, so they cannot disagree.

The same recorded dependency-check report and the same `.tollgate.yml` go through `tollgate scan`,
`tollgate gate`, `tollgate report --summary`, the action's gate and publish steps and the importer
Lambda (against moto's S3 and Security Hub); each gives one verdict and one set of counts, and a bad
baseline is the same one-line error everywhere.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path
from typing import Any

import boto3
import pytest

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.action import scan as action_scan
from pipeline.action.__main__ import main as action_main
from pipeline.cli import main
from pipeline.config import embedded_defaults, parse_scan_config, scan_schema
from pipeline.errors import ExitCode
from pipeline.flows.verdict import GateSettings, VerdictCounts, VerdictRequest, evaluate_results
from pipeline.publish.lambda_handler import handler
from pipeline.scanners import catalog
from pipeline.scanners.base import ActionInput, CommandScanner, Invocation, Options, ScanContext, ScannerSpec
from pipeline.scanners.reference import scanner_table

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "fixtures" / "dependency_check" / "VulnerableJavaWebApplication_dependency-check-report.json"
POLICY = "fail-on: medium\n"

pytest_plugins = ("tests.moto_server",)


class RecordedDependencyCheck(CommandScanner):
    """A real subprocess that writes the recorded report, which the dependency-check parser reads."""

    executable = sys.executable

    def __init__(self) -> None:
        spec = catalog.scanner_for("dependency-check").spec
        self.spec = dataclasses.replace(spec, tool_ids=(ToolId.DEPENDENCY_CHECK_JSON,))

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        report = ctx.folder(self.spec.name) / REPORT.name
        code = f"import shutil; shutil.copyfile({str(REPORT)!r}, {str(report)!r})"
        return (Invocation(argv=(executable, "-c", code), cwd=ctx.source, report=report),)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with the policy at its root, as the working directory, and no step summary."""
    (tmp_path / ".tollgate.yml").write_text(POLICY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    probe = RecordedDependencyCheck()
    real = catalog.scanner_for
    monkeypatch.setattr(catalog, "scanner_for", lambda name: probe if name == "dependency-check" else real(name))
    return tmp_path


def outputs(path: Path) -> dict[str, str]:
    """Parse `$GITHUB_OUTPUT`'s `name<<DELIM` blocks."""
    lines, found = path.read_text(encoding="utf-8").splitlines(), {}
    index = 0
    while index < len(lines):
        name, delimiter = lines[index].split("<<", 1)
        end = lines.index(delimiter, index + 1)
        found[name] = "\n".join(lines[index + 1:end])
        index = end + 1
    return found


def test_every_front_door_reaches_one_verdict_and_one_set_of_counts(
        workspace: Path, aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = workspace / "out"
    scan_code = main(["scan", ".", "--only", "dependency-check", "--out", str(out), "--repo", "acme/app"])
    results = out / "results.json"
    flow = evaluate_results(VerdictRequest((results,), GateSettings()))
    counts = VerdictCounts.of(flow.verdict)
    assert not counts.passed and counts.failing > 0  # medium CVEs fail under fail-on: medium
    assert scan_code == ExitCode.GATE_FAILED
    assert main(["gate", str(results)]) == ExitCode.GATE_FAILED
    summary = workspace / "summary.md"
    assert main(["report", str(results), "--summary", str(summary)]) == ExitCode.PASSED
    text = summary.read_text(encoding="utf-8").replace("\\", "")  # Markdown-escaped
    assert f"Failed: {counts.failing} findings at or above the threshold" in text
    assert "### What each report held" in text and "| dependency-check | 11 | 11 | 0 | 0 | 0 |" in text

    env = {"TOLLGATE_RESULTS": str(results), "RUNNER_TEMP": str(workspace / "runner"),
           "GITHUB_OUTPUT": str(workspace / "github-output")}
    assert action_main(["gate"], env) == ExitCode.GATE_FAILED
    assert action_main(["publish"], env) == ExitCode.PASSED
    published = outputs(workspace / "github-output")
    assert (published["verdict"], published["failing"], published["total"]) == (
        "failed", str(counts.failing), str(counts.total))
    assert {s.value.lower(): str(n) for s, n in counts.by_severity} == {
        name: published[name] for name in ("critical", "high", "medium", "low", "info")}

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="reports")
    s3.put_object(Bucket="reports", Key="reports/acme/app/.tollgate.yml", Body=POLICY.encode())
    s3.put_object(Bucket="reports", Key="reports/acme/app/run-1/dc.json", Body=REPORT.read_bytes())
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                          "s3": {"bucket": {"name": "reports"}, "object": {"key": "reports/acme/app/run-1/dc.json"}}}]}
    context = types.SimpleNamespace(invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:importer")
    lambda_verdict = handler(event, context)["verdicts"]["s3://reports/reports/acme/app/run-1/dc.json"]
    assert (lambda_verdict["verdict"], lambda_verdict["failing"], lambda_verdict["total"]) == (
        "failed", counts.failing, counts.total)
    capsys.readouterr()


@pytest.mark.parametrize("door", ["scan", "gate", "report", "action gate", "action publish"])
def test_a_bad_baseline_is_the_same_error_at_every_door(
        workspace: Path, door: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = workspace / "out"
    main(["scan", ".", "--only", "dependency-check", "--out", str(out), "--repo", "acme/app"])
    results = str(out / "results.json")
    bad = workspace / "baseline.json"
    bad.write_text("{not json", encoding="utf-8")
    capsys.readouterr()
    env = {"TOLLGATE_RESULTS": results, "TOLLGATE_BASELINE": str(bad), "RUNNER_TEMP": str(workspace / "runner"),
           "GITHUB_OUTPUT": str(workspace / "github-output")}
    code = {
        "scan": lambda: main(["scan", ".", "--only", "dependency-check", "--out", str(workspace / "again"),
                              "--repo", "acme/app", "--baseline", str(bad)]),
        "gate": lambda: main(["gate", results, "--baseline", str(bad)]),
        "report": lambda: main(["report", results, "--baseline", str(bad), "--summary", "-"]),
        "action gate": lambda: action_main(["gate"], env),
        "action publish": lambda: action_main(["publish"], env),
    }[door]()
    assert code == ExitCode.USAGE
    assert f"tollgate: error: baseline {bad}: not valid JSON" in capsys.readouterr().err


class Throwaway(CommandScanner):
    """A scanner that exists only in this test, declared the way a real one is."""

    executable = "throwaway-scanner"
    spec = ScannerSpec(
        name="throwaway", title="Throwaway", category=Category.SAST, tool_ids=(ToolId.SARIF,),
        install="pip install throwaway", timeout=60, homepage="https://example.com/throwaway", enabled=False,
        options={"depth": {"type": "integer", "minimum": 1}}, defaults={"depth": 3},
        action_inputs=(ActionInput("throwaway-depth", "depth"),),
    )

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        raise NotImplementedError


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> Any:
    module = types.ModuleType("tests_throwaway_scanner")
    module.SCANNERS = (Throwaway(),)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(catalog, "SCANNER_MODULES", (*catalog.SCANNER_MODULES, module.__name__))
    caches = (catalog.scanners, scan_schema, embedded_defaults)
    for cached in caches:
        cached.cache_clear()
    yield module
    for cached in caches:
        cached.cache_clear()


def test_a_new_scanner_is_one_spec_that_everything_picks_up(throwaway: Any, tmp_path: Path) -> None:
    assert catalog.names()[-1] == "throwaway"
    assert scan_schema()["properties"]["scanners"]["properties"]["throwaway"]["properties"]["depth"] == {
        "type": "integer", "minimum": 1}
    assert embedded_defaults()["scanners"]["throwaway"] == {"enabled": False, "depth": 3}
    config = parse_scan_config("scan:\n  scanners:\n    throwaway: {enabled: true}\n", ".tollgate.yml")
    assert config.settings("throwaway").options.get("depth") == 3 and config.settings("throwaway").required
    step = action_scan.scan_step({"TOLLGATE_THROWAWAY_DEPTH": "5", "TOLLGATE_SCANNERS": "throwaway",
                                  "TOLLGATE_PATH": str(tmp_path)}, tmp_path / "out")
    assert step.request.only == {"throwaway"}
    assert [(o.scanner, o.key, o.value) for o in step.request.options] == [("throwaway", "depth", "5")]
    assert "| `throwaway` | sast | opt-in | `depth` (`3`) | `throwaway-depth` → `depth` |" in scanner_table()


def test_the_configuration_docs_carry_the_generated_scanner_table() -> None:
    assert scanner_table() in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
