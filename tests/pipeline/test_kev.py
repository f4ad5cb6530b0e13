"""CISA KEV: Spring4Shell in a recorded real Trivy report is marked from the bundled snapshot, carried
into every output, ranked first in reports, and `fail-on-kev: true` fails the gate on it (a LOW there)."""

from __future__ import annotations

import dataclasses
import json
import socket
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import resources
from pathlib import Path

import pytest

import normalizers.tables.kev
from normalizers.kev import BUNDLED, CATALOG_FILE, KevCatalogError, bundled_catalog, load_catalog, parse_catalog
from normalizers.model import Category, CodeLocation, Finding, KnownExploited, Scope, Severity, Tool
from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.gate import evaluate
from pipeline.policy import Policy, parse_policy
from pipeline.report.view import build_view
from tests.conftest import FIXTURES
from tests.loopback import serving
from tests.validation import asff_problems, ocsf_problems, sarif_problems

SPRING4SHELL = FIXTURES / "trivy" / "spring4shell-jre8.json.golden"
SPRING4SHELL_KEV = KnownExploited("CVE-2022-22965", "2022-04-04", "2022-04-25", ransomware=False)


@pytest.fixture(autouse=True)
def no_fetched_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads the bundled snapshot unless it puts a fetched copy in place itself."""
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path / "data"))


def normalized(tmp_path: Path) -> dict[str, Path]:
    outputs = {kind: tmp_path / f"out.{kind}" for kind in ("json", "sarif", "asff", "ocsf")}
    argv = ["normalize", str(SPRING4SHELL), "--repo", "acme/web", "--account", "123456789012"]
    for kind, path in outputs.items():
        argv += [f"--{kind}", str(path)]
    assert main(argv) == ExitCode.PASSED
    return outputs


def test_the_bundled_snapshot_is_the_catalog_its_readme_names() -> None:
    catalog = bundled_catalog()
    assert (catalog.version, catalog.released, len(catalog.entries), catalog.source) == (
        "2025.08.25", date(2025, 8, 25), 1404, BUNDLED)
    assert catalog.entries["CVE-2022-22965"] == SPRING4SHELL_KEV
    assert catalog.notice(date(2025, 9, 24)) == (
        "CISA KEV catalog 2025.08.25 (bundled snapshot, released 2025-08-25, 30 days old)")


def test_the_bundled_snapshot_passes_the_schema_that_runs_skip_for_it() -> None:
    data = resources.files("normalizers.tables.kev").joinpath(CATALOG_FILE).read_bytes()
    assert parse_catalog(data, BUNDLED) == bundled_catalog()


def test_spring4shell_is_marked_in_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = normalized(tmp_path)
    assert "1 known exploited (CISA KEV catalog 2025.08.25 (bundled snapshot" in capsys.readouterr().out
    finding = json.loads(outputs["json"].read_text())["findings"][0]
    assert finding["rule_id"] == "CVE-2022-22965" and finding["severity"] == "LOW"
    assert finding["kev"] == {"cve": "CVE-2022-22965", "date_added": "2022-04-04", "due_date": "2022-04-25",
                              "ransomware": False}

    sarif = json.loads(outputs["sarif"].read_text())
    assert sarif_problems(sarif) == []
    run = sarif["runs"][0]
    assert run["results"][0]["properties"]["tags"] == ["known-exploited"]
    assert run["results"][0]["properties"]["kev"]["dueDate"] == "2022-04-25"
    assert "known-exploited" in run["tool"]["driver"]["rules"][0]["properties"]["tags"]

    asff = json.loads(outputs["asff"].read_text())["Findings"]
    assert asff_problems(asff) == []
    assert asff[0]["Vulnerabilities"][0]["ExploitAvailable"] == "YES"
    fields = asff[0]["ProductFields"]
    assert (fields["tollgate/Kev"], fields["tollgate/KevDateAdded"], fields["tollgate/KevDueDate"]) == (
        "true", "2022-04-04", "2022-04-25")

    ocsf = json.loads(outputs["ocsf"].read_text())
    assert ocsf_problems(ocsf) == []
    assert ocsf[0]["vulnerabilities"][0]["is_exploit_available"] is True
    assert ocsf[0]["unmapped"]["kev"]["due_date"] == "2022-04-25"


def test_fail_on_kev_fails_the_gate_whatever_the_severity(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    results = str(normalized(tmp_path)["json"])
    monkeypatch.chdir(tmp_path)
    assert main(["gate", results]) == ExitCode.PASSED  # a LOW under the default HIGH threshold
    (tmp_path / ".tollgate.yml").write_text("fail-on: high\nfail-on-kev: true\n")
    capsys.readouterr()
    assert main(["gate", results]) == ExitCode.GATE_FAILED
    out = capsys.readouterr().out
    assert "Failed: 1 finding at or above the threshold or known exploited (1 low; 1 in CISA KEV)." in out
    assert "CVE-2022-22965" in out
    assert parse_policy("fail-on: high\nfail-on-kev: true\n").describe_thresholds() == "fail-on high; fail-on-kev"


def test_fail_on_kev_ignores_the_baseline_but_not_a_suppression(tmp_path: Path) -> None:
    kev = finding("CVE-2022-22965", Severity.LOW, kev=SPRING4SHELL_KEV)
    policy = parse_policy("fail-on-kev: true\n")
    assert policy.fail_on_kev and not Policy().fail_on_kev
    assert evaluate([kev], policy, today=date(2026, 1, 1)).failing == (kev,)
    accepted = parse_policy("fail-on-kev: true\nsuppressions:\n- rule: CVE-2022-22965\n  reason: not reachable\n"
                            "  expires: 2026-12-31\n")
    assert evaluate([kev], accepted, today=date(2026, 1, 1)).passed
    assert evaluate([kev], Policy(), today=date(2026, 1, 1)).passed


def test_a_bad_fail_on_kev_is_a_policy_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "policy.yml").write_text("fail-on-kev: yes please\n")
    results = normalized(tmp_path)["json"]
    assert main(["gate", str(results), "--config", str(tmp_path / "policy.yml")]) == ExitCode.USAGE
    assert "fail-on-kev: 'yes please' is not of type 'boolean'" in capsys.readouterr().err


def test_reports_show_known_exploited_first() -> None:
    high = finding("python.eval", Severity.CRITICAL)
    kev = finding("CVE-2022-22965", Severity.LOW, kev=SPRING4SHELL_KEV)
    verdict = evaluate([high, kev], Policy(), today=date(2026, 1, 1))
    assert verdict.failing == (high,)
    rows = build_view(Scope("acme/web"), verdict).findings
    assert [row.rule_id for row in rows] == ["CVE-2022-22965", "python.eval"]
    assert rows[0].kev == "known exploited since 2022-04-04, due 2022-04-25"


def test_a_fetched_catalog_wins_and_a_damaged_one_falls_back(tmp_path: Path) -> None:
    fetched = tmp_path / "data" / "kev" / "known_exploited_vulnerabilities.json"
    fetched.parent.mkdir(parents=True)
    document = {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.01.01",
                "dateReleased": "2026-01-01T10:00:00.000Z", "count": 0, "vulnerabilities": []}
    fetched.write_text(json.dumps(document))  # written for this test, in the catalog's shape
    assert (load_catalog().version, load_catalog().source) == ("2026.01.01", str(fetched))
    fetched.write_text('{"title": "something else"}')
    assert load_catalog().source == BUNDLED


@pytest.mark.parametrize("data", [b"", b"[]", b'{"catalogVersion": 1}'])
def test_a_document_that_is_not_a_kev_catalog_is_refused(data: bytes) -> None:
    with pytest.raises(KevCatalogError, match=r"^feed: "):
        parse_catalog(data, "feed")


def finding(rule_id: str, severity: Severity, kev: KnownExploited | None = None) -> Finding:
    base = Finding(Tool("trivy", Category.SCA), rule_id, rule_id, severity, CodeLocation("pom.xml", 1),
                   vulnerability_ids=(rule_id,) if rule_id.startswith("CVE-") else (), fingerprint=rule_id)
    return dataclasses.replace(base, kev=kev)


# --- tollgate db update ---------------------------------------------------------------------

def serve_bytes(body: bytes) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return HTTPServer(("127.0.0.1", 0), Handler)


def closed_port_url(name: str) -> str:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/{name}"


NO_EPSS = ["--epss-url", closed_port_url("epss.csv.gz"), "--timeout", "2"]  # never FIRST's network in a test


def test_db_update_fetches_checks_and_writes_the_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = (Path(normalizers.tables.kev.__file__).parent / "known_exploited_vulnerabilities.json").read_bytes()
    with serving(serve_bytes(catalog)) as url:
        assert main(["db", "update", "--kev-url", f"{url}/kev.json", *NO_EPSS]) == ExitCode.PASSED
    target = tmp_path / "data" / "kev" / "known_exploited_vulnerabilities.json"
    assert target.read_bytes() == catalog
    assert f"KEV catalog 2025.08.25 (1404 entries) written to {target}" in capsys.readouterr().out
    assert load_catalog().source == str(target)


def test_db_update_offline_keeps_the_snapshot_with_a_notice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "update", "--kev-url", closed_port_url("kev.json"), *NO_EPSS]) == 0
    err = capsys.readouterr().err
    assert "could not refresh the KEV catalog (cannot download http://127.0.0.1:" in err
    assert "Connection refused); using the CISA KEV catalog 2025.08.25 (bundled snapshot, released 2025-08-25, " in err
    assert "could not refresh the EPSS snapshot (" in err and "using no EPSS scores (give --epss FILE)" in err
    assert load_catalog().source == BUNDLED


def test_db_update_refuses_a_download_that_is_not_a_catalog(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with serving(serve_bytes(b'{"vulnerabilities": "no"}')) as url:
        assert main(["db", "update", "--kev-url", f"{url}/kev.json", *NO_EPSS]) == ExitCode.TOOL_FAILED
    assert "not a KEV catalog" in capsys.readouterr().err
    assert not (tmp_path / "data" / "kev").exists()
