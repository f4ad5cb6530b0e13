"""Whole scans with the ncp-wsc engine against the documented contract stub (tests/ncp_wsc_stub.py).

Each test runs `tollgate scan --dast-engine ncp-wsc` (the CLI, or `run_scan`) with the stub as the
API (`base-url`), the keys in the environment, and a DAST target whose host the allowlist names:
the target is what the cloud service would attack, the stub only plays the API. The other
scanners are disabled by the test's configuration, and `--dast-engine` keeps ZAP and Wapiti out.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from normalizers.model import Category, Scope
from pipeline.cli import main
from pipeline.config import parse_scan_config
from pipeline.errors import ConfigError, ExitCode
from pipeline.flows.scan import ScanPlan, ScanRequest, run_scan, selected
from pipeline.scanners import catalog
from pipeline.scanners.base import Options, ScanContext, ScannerTimeout, SkipKind
from pipeline.scanners.catalog import scanner_for
from pipeline.scanners.ncp_wsc import SCANNER
from pipeline.scope import Allowlist
from tests.ncp_wsc_stub import ACCESS_KEY, CANCELLED_FLOW, SECRET_KEY, THROTTLED, WscStub, serve

TARGET = "http://127.0.0.1:8999/shop/"
ALLOW = "127.0.0.1:8999"
HEADER_SECRET = "session-cookie-value-7f3a"  # noqa: S105 - a test value that must never be printed


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WscStub, str]]:
    monkeypatch.setenv("NCP_ACCESS_KEY", ACCESS_KEY)
    monkeypatch.setenv("NCP_SECRET_KEY", SECRET_KEY)
    stub = WscStub()
    with serve(stub) as url:
        yield stub, url


def write_config(tmp_path: Path, url: str, **wsc: object) -> Path:
    """Only ncp-wsc among the non-DAST scanners' peers: every other scanner is off."""
    scanners: dict[str, dict[str, object]] = {name: {"enabled": False} for name in catalog.names()}
    scanners["ncp-wsc"] = {"enabled": True, "base-url": url, "poll-seconds": 0.01, **wsc}
    scanners["wapiti"] = {"enabled": True}  # on, so that --dast-engine is what keeps it out
    path = tmp_path / "tollgate.yml"
    path.write_text(yaml.safe_dump({"version": 1, "fail-on": "high", "scan": {"scanners": scanners}}), "utf-8")
    return path


def scan(tmp_path: Path, config: Path, *extra: str) -> int:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    # The stub answers with a recorded report of shop.example.com: allowed too, or its findings are out of scope.
    return main(["scan", str(source), "--config", str(config), "--out", str(tmp_path / "out"),
                 "--repo", "acme/shop", "--dast-engine", "ncp-wsc", "--dast-allow", "shop.example.com", "--keep-raw",
                 *extra])


def results(tmp_path: Path) -> list[dict[str, object]]:
    findings: list[dict[str, object]] = json.loads((tmp_path / "out" / "results.json").read_text())["findings"]
    return findings


def written_text(tmp_path: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "out").rglob("*")
                   if p.is_file())


def test_happy_path_creates_polls_reads_and_gates(api: tuple[WscStub, str], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    code = scan(tmp_path, write_config(tmp_path, url), "--dast-target", TARGET, "--dast-allow", ALLOW)
    err = capsys.readouterr().err
    assert code == ExitCode.GATE_FAILED, err  # the report holds HIGH findings; fail-on is high
    assert stub.calls() == ["PUT /api/v1/job", *["GET /api/v1/jobs"] * 6, "GET /api/v1/jobs/5001/report"]
    assert stub.requests[0].body == {"StartUrl": TARGET, "VulnItems": ["ALL"], "UserAgent": "PC Chrome",
                                     "Speed": "1", "Memo": "tollgate"}
    assert "tollgate: ncp-wsc: job 5001 created for http://127.0.0.1:8999/shop/" in err
    assert "tollgate: ncp-wsc: job 5001: crawling 20%, 10 URLs crawled" in err
    assert "tollgate: ncp-wsc: job 5001: complete 100%, 50 URLs crawled, 9 vulnerabilities" in err
    assert "wapiti" not in err and "zap" not in err
    findings = results(tmp_path)
    assert {f["tool"]["name"] for f in findings} == {"NCP Web Security Checker"}  # type: ignore[index]
    assert {f["tool"]["category"] for f in findings} == {Category.DAST.value}  # type: ignore[index]
    assert len(findings) == 8  # nine listed, two XSS at one URL and parameter are one identity
    assert (tmp_path / "out" / "raw" / "ncp-wsc" / "wsc-5001.json").is_file()
    assert SECRET_KEY not in err and SECRET_KEY not in written_text(tmp_path)


def test_throttling_429_then_success(api: tuple[WscStub, str], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    stub.script(429, THROTTLED)
    code = scan(tmp_path, write_config(tmp_path, url), "--dast-target", TARGET, "--dast-allow", ALLOW,
                "--fail-on", "none")
    assert code == ExitCode.PASSED, capsys.readouterr().err
    assert stub.calls()[:2] == ["PUT /api/v1/job", "PUT /api/v1/job"]
    assert len(results(tmp_path)) == 8


def test_assets_check_fail_is_a_clear_error_exit_3(api: tuple[WscStub, str], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    stub.assets = frozenset({"10.1.1.1"})  # the target is allowed by Tollgate, but not the caller's NCP server
    code = scan(tmp_path, write_config(tmp_path, url), "--dast-target", TARGET, "--dast-allow", ALLOW)
    err = capsys.readouterr().err
    assert code == ExitCode.TOOL_FAILED
    assert ("ncp-wsc: failed after" in err and "NCP Web Security Checker: PUT /api/v1/job failed: HTTP 400, "
            "error 160451 Assets_Check_Fail (tip: createJob scans only servers created in your NAVER Cloud "
            "account" in err)
    assert stub.calls() == ["PUT /api/v1/job"]


@pytest.mark.parametrize("items, message", [
    (["ALL", "XSS"], 'VulnItems: "ALL" must stand alone'),
    (["Clickjacking"], "scan.scanners.ncp-wsc.vuln-items[0]: 'Clickjacking' is not one of ['ALL', 'XSS'"),
    ("XSS", "scan.scanners.ncp-wsc.vuln-items: 'XSS' is not of type 'array'"),
])
def test_bad_vuln_items_are_caught_before_any_request(api: tuple[WscStub, str], tmp_path: Path, items: object,
                                                      message: str, capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    code = scan(tmp_path, write_config(tmp_path, url, **{"vuln-items": items}), "--dast-target", TARGET,
                "--dast-allow", ALLOW)
    assert code == ExitCode.USAGE
    assert message in capsys.readouterr().err
    assert stub.requests == []


def test_a_cancelled_job_exits_3(api: tuple[WscStub, str], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    stub.flow = CANCELLED_FLOW
    code = scan(tmp_path, write_config(tmp_path, url), "--dast-target", TARGET, "--dast-allow", ALLOW)
    err = capsys.readouterr().err
    assert code == ExitCode.TOOL_FAILED
    assert "job 5001 ended cancelled (cancelled 100%, 20 URLs crawled, 0 vulnerabilities); there is no report" in err
    assert "GET /api/v1/jobs/5001/report" not in stub.calls()


def test_attach_to_an_existing_instance_creates_no_job(api: tuple[WscStub, str], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    instance = stub.add_job("http://127.0.0.1:8999/console-job/")
    code = scan(tmp_path, write_config(tmp_path, url), "--wsc-instance", str(instance), "--fail-on", "none")
    assert code == ExitCode.PASSED, capsys.readouterr().err
    assert "PUT /api/v1/job" not in stub.calls()
    assert stub.calls()[-1] == f"GET /api/v1/jobs/{instance}/report"
    assert len(results(tmp_path)) == 8


def test_the_instance_option_attaches_too(api: tuple[WscStub, str], tmp_path: Path) -> None:
    stub, url = api
    instance = stub.add_job(TARGET)
    request = ScanRequest(source=tmp_path, out_dir=tmp_path / "out", scope=Scope("acme/shop"),
                          config=write_config(tmp_path, url, instance=instance),
                          dast_engines=frozenset({"ncp-wsc"}), fail_on="none")
    outcome = run_scan(request)
    assert outcome.exit_code == ExitCode.PASSED
    assert [run.name for run in outcome.runs] == ["ncp-wsc"]
    assert outcome.runs[0].notes == (f"job {instance} ({TARGET}): complete 100%, 50 URLs crawled, 9 vulnerabilities",)


def test_headers_reach_the_job_and_are_never_printed(api: tuple[WscStub, str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    monkeypatch.setenv("WSC_HEADERS", f"Cookie: JSESSIONID={HEADER_SECRET}")
    config = write_config(tmp_path, url, **{"headers-env": "WSC_HEADERS", "speed": 2, "user-agent": "iPhone",
                                            "vuln-items": ["XSS", "SQL Injection"],
                                            "exclude-urls": ["http://127.0.0.1:8999/shop/logout"]})
    scan(tmp_path, config, "--dast-target", TARGET, "--dast-allow", ALLOW)
    assert stub.requests[0].body == {
        "StartUrl": TARGET, "VulnItems": ["XSS", "SQL Injection"], "UserAgent": "iPhone", "Speed": "2",
        "Memo": "tollgate", "ExcludeUrl": ["http://127.0.0.1:8999/shop/logout"],
        "Headers": {"Cookie": f"JSESSIONID={HEADER_SECRET}"}}
    assert HEADER_SECRET not in capsys.readouterr().err and HEADER_SECRET not in written_text(tmp_path)


def test_a_job_still_running_at_the_timeout_names_its_instance(api: tuple[WscStub, str], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    stub, url = api
    stub.flow = ("12", *["13"] * 10_000)
    code = scan(tmp_path, write_config(tmp_path, url, **{"poll-seconds": 0.2}), "--dast-target", TARGET,
                "--dast-allow", ALLOW, "--timeout", "1")
    err = capsys.readouterr().err
    assert code == ExitCode.TOOL_FAILED
    assert "ncp-wsc: timed out after" in err and "read it later with --wsc-instance 5001" in err


def test_without_keys_it_is_skipped_as_not_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NCP_ACCESS_KEY", raising=False)
    monkeypatch.setenv("NCP_SECRET_KEY", SECRET_KEY)
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path, env={"NCP_SECRET_KEY": SECRET_KEY},
                      dast_targets=(Allowlist.parse([ALLOW]).guard(TARGET),))
    reason = SCANNER.readiness(ctx, Options())
    assert reason is not None and reason.kind is SkipKind.NOT_CONFIGURED
    assert reason.message == "no NAVER Cloud API key (set $NCP_ACCESS_KEY and $NCP_SECRET_KEY)"
    nothing = SCANNER.readiness(dataclasses.replace(ctx, dast_targets=()), Options())
    assert nothing is not None and nothing.kind is SkipKind.NOTHING_TO_SCAN


def test_readiness_refuses_bad_options_before_anything_runs(tmp_path: Path) -> None:
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path, env={"K": "a", "S": "b"},
                      dast_targets=(Allowlist.parse([ALLOW]).guard(TARGET),))
    keys = {"access-key-env": "K", "secret-key-env": "S"}
    assert SCANNER.readiness(ctx, Options.of(keys)) is None
    with pytest.raises(ConfigError, match="endpoint 'private'"):
        SCANNER.readiness(ctx, Options.of({**keys, "endpoint": "private"}))
    with pytest.raises(ConfigError, match="UserAgent: 'Safari'"):
        SCANNER.readiness(ctx, Options.of({**keys, "user-agent": "Safari"}))


def test_dast_engine_picks_the_dast_engines_and_leaves_the_rest() -> None:
    config = parse_scan_config("scan:\n  scanners:\n    zap: {enabled: false}\n", "t.yml")
    base = ScanRequest(source=Path(), out_dir=Path(), scope=Scope("a/b"))

    def selected_for(request: ScanRequest) -> list[str]:
        return selected(ScanPlan(request, config, None, None, (), Allowlist()))  # type: ignore[arg-type]

    everything = selected_for(base)
    assert "wapiti" in everything and "zap" not in everything
    only_wsc = selected_for(dataclasses.replace(base, dast_engines=frozenset({"ncp-wsc"})))
    assert only_wsc == [n for n in everything if n not in catalog.dast_engines()] + ["ncp-wsc"]
    zap = selected_for(dataclasses.replace(base, dast_engines=frozenset({"zap"})))  # disabled, but named
    assert "zap" in zap and "wapiti" not in zap
    skipped = dataclasses.replace(base, dast_engines=frozenset({"zap"}), skip=frozenset({"zap"}))
    assert not set(selected_for(skipped)) & set(catalog.dast_engines())
    only = dataclasses.replace(base, only=frozenset({"semgrep"}), dast_engines=frozenset({"zap"}))
    assert selected_for(only) == ["semgrep", "zap"]


def test_dast_engines_are_exactly_the_dast_scanners() -> None:
    dast = {name for name in catalog.names() if scanner_for(name).spec.category is Category.DAST}
    assert dast == set(catalog.dast_engines())


@pytest.mark.parametrize("arguments, message", [
    (["--dast-engine", "nmap"], "invalid choice: 'nmap'"),
    (["--wsc-instance", "0"], "'0' is not a positive whole number"),
])
def test_bad_scan_flags_exit_2(tmp_path: Path, arguments: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["scan", str(tmp_path), *arguments])
    assert refused.value.code == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_deadline_is_respected_by_the_runner(api: tuple[WscStub, str], tmp_path: Path) -> None:
    stub, url = api
    stub.flow = ("12", *["13"] * 10_000)
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", env={"NCP_ACCESS_KEY": ACCESS_KEY,
                      "NCP_SECRET_KEY": SECRET_KEY}, dast_targets=(Allowlist.parse([ALLOW]).guard(TARGET),))
    started = time.monotonic()
    with pytest.raises(ScannerTimeout, match="at the timeout"):
        SCANNER.run(ctx, Options.of({"base-url": url, "poll-seconds": 0.05}), started + 0.5)
    assert time.monotonic() - started < 2
