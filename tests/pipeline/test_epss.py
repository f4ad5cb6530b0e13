"""FIRST EPSS: a snapshot in FIRST's format scores Spring4Shell in a recorded real Trivy report, the score
reaches every output (validated against SARIF, the botocore ASFF model and the OCSF 1.6 schema), and
`fail-on-epss` fails the gate on it whatever its severity. The snapshot is written for the tests
(tests/fixtures/epss/SOURCES.md): no EPSS snapshot is published in a package registry."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from normalizers.epss import EpssError, load_snapshot, parse_snapshot
from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.policy import parse_policy
from tests.conftest import FIXTURES
from tests.loopback import serving
from tests.pipeline.test_kev import SPRING4SHELL, closed_port_url, serve_bytes
from tests.validation import asff_problems, ocsf_problems, sarif_problems

SAMPLE = FIXTURES / "epss" / "epss_scores-sample.csv"
SAMPLE_GZ = FIXTURES / "epss" / "epss_scores-sample.csv.gz"


@pytest.fixture(autouse=True)
def no_fetched_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path / "data"))


def normalized(tmp_path: Path, *extra: str) -> dict[str, Path]:
    outputs = {kind: tmp_path / f"out.{kind}" for kind in ("json", "sarif", "asff", "ocsf")}
    argv = ["normalize", str(SPRING4SHELL), "--repo", "acme/web", "--account", "123456789012", *extra]
    for kind, path in outputs.items():
        argv += [f"--{kind}", str(path)]
    assert main(argv) == ExitCode.PASSED
    return outputs


def test_gzip_and_plain_csv_read_the_same() -> None:
    plain = parse_snapshot(SAMPLE.read_bytes(), "sample")
    zipped = parse_snapshot(SAMPLE_GZ.read_bytes(), "sample")
    assert plain.scores == zipped.scores
    assert (plain.model_version, plain.score_date, len(plain.scores)) == ("v2025.03.14", "2026-12-06T12:55:00Z", 4)
    spring = plain.scores["CVE-2022-22965"]
    assert (spring.probability, spring.percentile, spring.score_date) == (0.9442, 0.9997, "2026-12-06")


def test_spring4shell_carries_its_epss_in_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = normalized(tmp_path, "--epss", str(SAMPLE_GZ))
    assert "; 1 scored by EPSS v2025.03.14 of 2026-12-06 (4 CVEs, " in capsys.readouterr().out
    finding = json.loads(outputs["json"].read_text())["findings"][0]
    assert finding["epss"] == {"cve": "CVE-2022-22965", "probability": 0.9442, "percentile": 0.9997,
                               "score_date": "2026-12-06", "model_version": "v2025.03.14"}
    sarif = json.loads(outputs["sarif"].read_text())
    assert sarif_problems(sarif) == []
    assert sarif["runs"][0]["results"][0]["properties"]["epss"]["probability"] == 0.9442
    asff = json.loads(outputs["asff"].read_text())["Findings"]
    assert asff_problems(asff) == []
    assert asff[0]["Vulnerabilities"][0]["EpssScore"] == 0.9442
    assert asff[0]["ProductFields"]["tollgate/EpssPercentile"] == "0.9997"
    ocsf = json.loads(outputs["ocsf"].read_text())
    assert ocsf_problems(ocsf) == []
    assert ocsf[0]["vulnerabilities"][0]["cve"]["epss"] == {"score": "0.9442", "percentile": 0.9997,
                                                            "version": "v2025.03.14"}


def test_without_a_snapshot_nothing_is_scored(tmp_path: Path) -> None:
    finding = json.loads(normalized(tmp_path)["json"].read_text())["findings"][0]
    assert "epss" not in finding


def test_fail_on_epss_fails_the_gate_whatever_the_severity(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    results = str(normalized(tmp_path)["json"])  # not scored: the policy's snapshot scores it at the gate
    monkeypatch.chdir(tmp_path)
    (tmp_path / "epss.csv").write_bytes(SAMPLE.read_bytes())
    (tmp_path / ".tollgate.yml").write_text("fail-on: high\nfail-on-epss: 0.95\nepss: epss.csv\n")
    assert main(["gate", results]) == ExitCode.PASSED  # 0.9442 is under 0.95, and the finding is a LOW
    (tmp_path / ".tollgate.yml").write_text("fail-on: high\nfail-on-epss: 0.5\nepss: epss.csv\n")
    capsys.readouterr()
    assert main(["gate", results]) == ExitCode.GATE_FAILED
    out = capsys.readouterr().out
    assert "Failed: 1 finding at or above the threshold or likely exploited (1 low; 1 at EPSS >= 0.5)." in out
    assert parse_policy("fail-on-epss: 0.5\n").describe_thresholds() == "fail-on high; fail-on-epss 0.5"


@pytest.mark.parametrize(("policy", "message"), [
    ("fail-on-epss: 1.5\n", "fail-on-epss: 1.5 is greater than the maximum of 1"),
    ("fail-on-epss: high\n", "fail-on-epss: 'high' is not of type 'number'"),
])
def test_a_bad_fail_on_epss_is_a_policy_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str,
                                              message: str) -> None:
    (tmp_path / "policy.yml").write_text(policy)
    results = normalized(tmp_path)["json"]
    assert main(["gate", str(results), "--config", str(tmp_path / "policy.yml")]) == ExitCode.USAGE
    assert message in capsys.readouterr().err


HEADER_LINE = "#model_version:v2025.03.14,score_date:2026-12-06T12:55:00Z\n"


@pytest.mark.parametrize(("content", "message"), [
    (b"cve,epss,percentile\nCVE-2022-22965,0.9,0.9\n", "the first line must be #model_version"),
    ((HEADER_LINE + "cve,score,percentile\n").encode(), "line 2 must be the header cve,epss,percentile"),
    ((HEADER_LINE + "cve,epss,percentile\nCVE-2022-22965,1.2,0.9\n").encode(), "line 3: '1.2' is not a number"),
    ((HEADER_LINE + "cve,epss,percentile\nCVE-2022-22965,nan,0.9\n").encode(), "line 3: 'nan' is not a number"),
    ((HEADER_LINE + "cve,epss,percentile\nGHSA-1234,0.1,0.9\n").encode(), "line 3: expected CVE-YYYY-NNNN"),
    ((HEADER_LINE + "cve,epss,percentile\nCVE-2022-22965,0.1\n").encode(), "line 3: expected CVE-YYYY-NNNN"),
    (gzip.compress(b"x")[:12], "not an EPSS snapshot"),
    (b"\xff\xfe", "not an EPSS snapshot"),
])
def test_a_bad_snapshot_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                                               message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with pytest.raises(EpssError, match=message):
        parse_snapshot(content, "bad.csv")
    argv = ["normalize", str(SPRING4SHELL), "--repo", "acme/web", "--epss", str(bad)]
    assert main(argv) == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"tollgate: error: {bad}: ") and message in err[0]
    assert "Traceback" not in "\n".join(err)


def test_a_missing_snapshot_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", str(SPRING4SHELL), "--repo", "acme/web", "--epss", str(tmp_path / "no.csv")]) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_db_update_fetches_the_snapshot_and_normalize_uses_it(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    with serving(serve_bytes(SAMPLE_GZ.read_bytes())) as url:
        code = main(["db", "update", "--kev-url", closed_port_url("kev.json"), "--epss-url", f"{url}/e.csv.gz",
                     "--timeout", "2"])
    assert code == ExitCode.PASSED
    target = tmp_path / "data" / "epss" / "epss_scores-current.csv.gz"
    assert target.read_bytes() == SAMPLE_GZ.read_bytes()
    captured = capsys.readouterr()
    assert f"tollgate: EPSS v2025.03.14 of 2026-12-06 (4 CVEs) written to {target}" in captured.out
    assert "could not refresh the KEV catalog" in captured.err
    snapshot = load_snapshot(None)
    assert snapshot is not None and snapshot.source == str(target)
    finding = json.loads(normalized(tmp_path)["json"].read_text())["findings"][0]
    assert finding["epss"]["probability"] == 0.9442


def test_db_update_refuses_a_download_that_is_not_a_snapshot(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with serving(serve_bytes(b"<html>maintenance</html>")) as url:
        code = main(["db", "update", "--kev-url", closed_port_url("kev.json"), "--epss-url", f"{url}/e.csv.gz",
                     "--timeout", "2"])
    assert code == ExitCode.TOOL_FAILED
    assert "not an EPSS snapshot" in capsys.readouterr().err
    assert not (tmp_path / "data" / "epss").exists()


def test_db_update_refuses_a_url_that_is_not_https(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "update", "--epss-url", "http://example.com/epss.csv.gz"]) == ExitCode.USAGE
    assert "--epss-url: must be https" in capsys.readouterr().err


def test_the_summary_and_the_html_report_show_the_score(tmp_path: Path) -> None:
    outputs = normalized(tmp_path, "--epss", str(SAMPLE_GZ))
    summary, html = tmp_path / "summary.md", tmp_path / "report.html"
    main(["report", str(outputs["json"]), "--fail-on", "none", "--summary", str(summary), "--html", str(html)])
    assert "EPSS 94.4% (percentile 99.97, 2026-12-06)" in html.read_text(encoding="utf-8")
    assert r"EPSS 94\.4\% \(percentile 99\.97\, 2026\-12\-06\)" in summary.read_text(encoding="utf-8")  # escaped
