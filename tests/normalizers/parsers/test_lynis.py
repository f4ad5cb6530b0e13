"""Lynis' lynis-report.dat: a recorded real audit of this machine, its mapping, identity and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.emit.sarif import SarifOptions, emit_sarif
from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Category, Finding, HostLocation, Outcome, ParseResult, Scope, Severity
from normalizers.parsers import lynis
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import detect
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from pipeline.cli import main
from pipeline.scanners.lynis import KEPT_LINES
from tests.conftest import FIXTURES
from tests.normalizers.parsers.helpers import parse_bytes, parse_fixture, truncated
from tests.validation import asff_problems, sarif_problems

RECORDED = "lynis-3.0.8-debian12.dat"
RAW = (FIXTURES / "lynis" / RECORDED).read_bytes()
CONTEXT = AsffContext("123456789012", "eu-west-1", Scope("acme/servers", branch="main"))
# Every category (test-id prefix) Lynis 3.0.8 registers (`Register --test-no` in /usr/sbin/lynis and
# /usr/share/lynis/include/*), less CUST (the custom-test template), plus the Debian plugin's DEB, the
# pseudo-test LYNIS (its own update check) and GEN (its profile checks, `ReportWarning "GEN-0030"`).
LYNIS_3_0_8_PREFIXES = (
    "ACCT", "AUTH", "BANN", "BOOT", "CONT", "CORE", "CRYP", "DBS", "DEB", "DNS", "FILE", "FINT", "FIRE", "GEN", "HOME",
    "HRDN", "HTTP", "INSE", "KRNL", "LDAP", "LOGG", "LYNIS", "MACF", "MAIL", "MALW", "NAME", "NETW", "PHP", "PKGS",
    "PRNT", "PROC", "RBAC", "SCHD", "SHLL", "SINT", "SNMP", "SQD", "SSH", "STRG", "TIME", "TOOL", "USB", "VIRT",
)


def recorded() -> ParseResult:
    return parse_fixture("lynis", RECORDED, ToolId.LYNIS)


def host(finding: Finding) -> HostLocation:
    assert isinstance(finding.location, HostLocation)
    return finding.location


def by_rule(result: ParseResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


def edited(old: bytes, new: bytes, raw: bytes = RAW) -> bytes:
    assert raw.count(old) == 1, old
    return raw.replace(old, new)


def problems(result: ParseResult) -> list[Finding]:
    return [f for f in result.findings if f.is_problem]


def test_the_recorded_audit_maps_its_warnings() -> None:
    result = recorded()
    assert (len(problems(result)), result.skipped) == (46, ())
    warnings = [f for f in result.findings if f.original_severity == "warning"]
    assert [(f.rule_id, f.severity, host(f).group) for f in warnings] == [
        ("PKGS-7392", Severity.HIGH, "patches-and-logs"),
        ("LOGG-2138", Severity.MEDIUM, "patches-and-logs"),
    ]
    (packages,) = warnings[:1]
    assert (packages.tool.name, packages.tool.version, packages.category) == ("Lynis", "3.0.8", Category.HOST)
    assert packages.title == "[U-64] Found one or more vulnerable packages."  # the KISA item it cites
    assert dict(packages.properties)["kisa.item"] == "U-64"
    assert packages.location == HostLocation(
        host="vm", instance_id=None, test_id="PKGS-7392", group="patches-and-logs",
        anchor="warning|Found one or more vulnerable packages.|",
    )
    assert packages.references == ("https://cisofy.com/lynis/controls/PKGS-7392/",)
    assert packages.description == "Lynis warning PKGS-7392 (patches-and-logs): Found one or more vulnerable packages."
    assert dict(packages.properties) == {"lynis.kind": "warning", "kisa.item": "U-64", "kisa.area": "patches-and-logs",
                                         "kisa.importance": "high", "kisa.old": "U-42"}


def test_suggestions_are_low_and_keep_details_and_solutions() -> None:
    result = recorded()
    assert {f.severity for f in result.findings if f.original_severity == "suggestion"} == {Severity.LOW}
    (chmod,) = by_rule(result, "FILE-7524")
    assert chmod.title == "Consider restricting file permissions: See screen output or log file"
    assert chmod.remediation is not None
    assert (chmod.remediation.text, chmod.remediation.url) == (
        "Use chmod to change file permissions", "https://cisofy.com/lynis/controls/FILE-7524/")
    assert dict(chmod.properties)["lynis.details"] == "See screen output or log file"
    (sysctl,) = by_rule(result, "KRNL-6000")
    assert (host(sysctl).group, sysctl.severity) == ("services", Severity.LOW)
    assert "- sysctl: desc: Restrict access to kernel symbols; field: kernel.kptr_restrict; prefval: 2; value: 0" \
        in sysctl.description.splitlines()
    assert sysctl.description.count("\n- sysctl: ") == 19  # one line per details[] record of KRNL-6000
    (vmlinuz,) = by_rule(result, "KRNL-5788")
    assert vmlinuz.title == "Determine why /vmlinuz or /boot/vmlinuz is missing on this Debian/Ubuntu system: " \
                            "/vmlinuz or /boot/vmlinuz"


def test_one_test_reporting_several_things_keeps_each() -> None:
    result = recorded()
    partitions = by_rule(result, "FILE-6310")
    assert [f.title.split(",")[0] for f in partitions] == [
        "To decrease the impact of a full /home file system",
        "To decrease the impact of a full /tmp file system",
        "To decrease the impact of a full /var file system",
    ]
    assert len(by_rule(result, "NETW-3200")) == 4
    assert len({f.fingerprint for f in result.findings}) == len(result.findings)


def test_counts_in_messages_do_not_change_identity_but_addresses_do() -> None:
    def fingerprints(*messages: str) -> list[str]:
        records = b"".join(f"suggestion[]=FILE-6354|{m}|-|-|\n".encode() for m in messages)
        result = parse_bytes("counts.dat", edited(b"finish=true\n", records + b"finish=true\n"), ToolId.LYNIS)
        return [f.fingerprint for f in result.findings if f.rule_id == "FILE-6354"]

    (three,) = fingerprints("Check 3 files in /tmp which are older than 90 days")
    (four,) = fingerprints("Check 4 files in /tmp which are older than 30 days")
    assert three == four
    first, second = fingerprints("Nameserver 10.0.0.1 does not respond", "Nameserver 10.0.0.2 does not respond")
    assert first != second


def test_groups_cover_every_lynis_category() -> None:
    assert set(LYNIS_3_0_8_PREFIXES) == set(lynis.PREFIXES)
    assert {group for group, _ in lynis.PREFIXES.values()} == {
        "accounts", "files-and-permissions", "services", "patches-and-logs"}
    assert lynis.group_of("AUTH-9286") == ("accounts", Severity.HIGH)
    assert lynis.group_of("SSH-7408") == ("services", Severity.MEDIUM)
    assert lynis.group_of("KRNL-5830") == ("patches-and-logs", Severity.MEDIUM)  # reboot after a kernel update
    assert lynis.group_of("CUST-0010") == ("other", Severity.MEDIUM)
    assert lynis.group_of("GEN-0030") == ("patches-and-logs", Severity.MEDIUM)  # a deprecated profile option


def test_hardening_index_and_version_are_scan_metrics() -> None:
    metrics = dict(recorded().metrics)
    assert {k: v for k, v in metrics.items() if k.startswith("lynis/")} == {
        "lynis/vm/hardening_index": "56", "lynis/vm/tests_performed": "235", "lynis/vm/version": "3.0.8"}
    assert len([k for k in metrics if k.startswith("kisa/vm/U-")]) == 67  # every item's verdict on the host


def test_a_known_instance_makes_an_ec2_resource() -> None:
    raw = RAW + b"ec2_instance_id=i-0a1b2c3d4e5f60718\n"  # what the SSM runner appends
    result = parse_bytes("remote.dat", raw, ToolId.LYNIS)
    (packages,) = [f for f in by_rule(result, "PKGS-7392") if f.original_severity == "warning"]
    assert (host(packages).host, host(packages).instance_id) == ("vm", "i-0a1b2c3d4e5f60718")
    assert dict(result.metrics)["lynis/i-0a1b2c3d4e5f60718/hardening_index"] == "56"
    (resource,) = emit_asff([packages], CONTEXT).findings[0]["Resources"]
    assert (resource["Type"], resource["Id"]) == (
        "AwsEc2Instance", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0a1b2c3d4e5f60718")
    assert resource["Details"]["Other"]["Group"] == "patches-and-logs"
    (local,) = emit_asff(by_rule(recorded(), "LOGG-2138"), CONTEXT).findings[0]["Resources"]
    assert (local["Type"], local["Id"]) == ("Other", "vm")
    assert local["Details"]["Other"]["TestId"] == "LOGG-2138"


def test_every_finding_is_valid_sarif_at_the_host_inventory_and_valid_asff() -> None:
    findings = list(recorded().findings)
    (document,) = emit_sarif(findings, SarifOptions(host_location="ops/inventory.ini")).documents
    assert sarif_problems(document) == []
    run, verdicts = document["runs"]  # Lynis' findings; the items judged to pass, Tollgate's verdicts
    assert run["automationDetails"]["id"] == "tollgate/host/lynis/"
    assert verdicts["automationDetails"]["id"] == "tollgate/host/tollgate-host-checks/"
    assert {(r["kind"], r["level"]) for r in verdicts["results"]} == {("pass", "none")}
    assert len(verdicts["results"]) == 20 and "kind" not in run["results"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"ops/inventory.ini"}
    packages = next(r for r in run["results"] if r["ruleId"] == "PKGS-7392" and r["level"] == "error")
    assert packages["properties"]["host"] == {"host": "vm", "testId": "PKGS-7392", "group": "patches-and-logs"}
    asff = emit_asff(findings, CONTEXT).findings
    assert asff_problems(asff) == [] and len(asff) == 46 + 20  # and the items judged to pass
    assert {f["Types"][0] for f in asff} == {"Software and Configuration Checks/Industry and Regulatory Standards"}


def test_a_truncated_warning_record_is_skipped_and_counted() -> None:
    klogd = b"warning[]=LOGG-2138|klogd is not running, which could lead to missing kernel messages in log files|-|-|"
    raw = edited(klogd, klogd[:40])  # cut mid-record, as a crash mid-write leaves it
    raw = edited(b"suggestion[]=ACCT-9622|Enable", b"suggestion[]=|Enable", raw)  # no test id
    result = parse_bytes("broken.dat", raw, ToolId.LYNIS)
    assert len(problems(result)) == 44
    assert [(s.tool, s.reason, s.record) for s in result.skipped] == [
        ("Lynis", "truncated record: expected TEST-ID|message|details|solution|", "warning[1] (line 282)"),
        ("Lynis", "the record has no test id or no message", "suggestion[34] (line 299)"),
    ]


@pytest.mark.parametrize(("raw", "message"), [
    (truncated(FIXTURES / "lynis" / RECORDED).raw, "truncated: no `finish=true` line"),
    (b"# Lynis Report\n\x00\x01\x02\xff\xfe binary\x00", "binary data, not a Lynis report"),
    (b"# Lynis Report\nthis is not\na key value file\n", "no key=value lines; not a Lynis report"),
    (re.sub(rb"(?m)^hostname=.*\n", b"", RAW), "no `hostname=` line"),
])
def test_a_malformed_report_is_one_line(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedReportError) as refused:
        parse_bytes("bad.dat", raw, ToolId.LYNIS)
    assert str(refused.value).startswith("bad.dat: ") and message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_non_utf8_bytes_in_a_record_are_replaced_not_fatal() -> None:
    raw = edited(b"deleted_file[]=/tmp/redacted-job-output(bash)\ndeleted_file",
                 b"deleted_file[]=/tmp/caf\xe9(bash)\ndeleted_file")
    assert len(problems(parse_bytes("latin1.dat", raw, ToolId.LYNIS))) == 46


def test_normalize_cli_refuses_a_malformed_report_in_one_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "lynis-report.dat"
    bad.write_bytes(truncated(FIXTURES / "lynis" / RECORDED).raw)
    assert main(["normalize", str(bad), "--repo", "acme/servers", "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "finish=true" in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


def test_normalize_cli_points_host_findings_at_the_inventory(tmp_path: Path) -> None:
    sarif, results = tmp_path / "host.sarif", tmp_path / "results.json"
    argv = ["normalize", str(FIXTURES / "lynis" / RECORDED), "--repo", "acme/servers", "--sarif", str(sarif),
            "--json", str(results), "--host-location", "ansible/hosts.yml"]
    assert main(argv) == 0
    runs = json.loads(sarif.read_text())["runs"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for run in runs
            for r in run["results"]} == {"ansible/hosts.yml"}
    assert json.loads(results.read_text())["metrics"]["lynis/vm/hardening_index"] == "56"


def test_garbage_is_not_claimed_and_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = bytes(range(256)) * 4
    assert not lynis.PARSER.sniff(Report("garbage.dat", garbage))
    with pytest.raises(UnsupportedReportError, match=r"^garbage\.dat: not a Lynis report"):
        list(lynis.PARSER.parse(Report("garbage.dat", garbage), ParseOptions()))
    bad = tmp_path / "garbage.dat"
    bad.write_bytes(garbage)
    assert main(["normalize", str(bad), "--repo", "acme/servers", "--tool", "lynis"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "garbage.dat" in err and "Traceback" not in err


def other_fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.parent.name != "lynis"
                  and p.suffix in {".json", ".xml", ".sarif", ".golden", ".txt", ".md", ".yml"})


def test_no_other_fixture_is_claimed() -> None:
    claimed = [p for p in other_fixtures() if lynis.PARSER.sniff(Report.from_path(str(p)))]
    assert claimed == [] and len(other_fixtures()) > 50


def test_detection_is_by_content_and_accepts_a_filtered_report() -> None:
    assert detect(Report("anything.json", RAW)).tool_id is ToolId.LYNIS
    # What the SSM runner keeps when the report must fit SSM's stdout: header, findings and a few scalars.
    kept = re.compile(KEPT_LINES.encode())
    filtered = b"\n".join(line for line in RAW.splitlines() if kept.match(line)) + b"\n"
    assert len(filtered) < 24_000
    result = parse_bytes("filtered.dat", filtered, ToolId.LYNIS)
    assert [f.fingerprint for f in result.findings] == [f.fingerprint for f in recorded().findings]
    headless = parse_bytes("headless.dat", filtered.split(b"\n", 1)[1], ToolId.LYNIS)
    assert len(problems(headless)) == 46


@pytest.mark.parametrize("raw", [b"\xef\xbb\xbf" + RAW, RAW.replace(b"\n", b"\r\n"),
                                 b"\xef\xbb\xbf" + RAW.split(b"\n", 1)[1]])
def test_a_byte_order_mark_and_crlf_line_ends_read_like_the_original(raw: bytes) -> None:
    """What a Windows editor makes of a copied report: the same findings, and no stray first line."""
    assert detect(Report("edited.dat", raw)).tool_id is ToolId.LYNIS
    result = parse_bytes("edited.dat", raw, ToolId.LYNIS)
    assert result.skipped == ()
    assert [f.fingerprint for f in result.findings] == [f.fingerprint for f in recorded().findings]


def test_details_attach_to_their_test_whatever_the_spacing() -> None:
    raw = RAW.replace(b"finish=true", b"details[]= CUST-0001 |svc|field:x;|\nwarning[]=CUST-0001|m|-|-|\nfinish=true")
    (finding,) = by_rule(parse_bytes("spaced.dat", raw, ToolId.LYNIS), "CUST-0001")
    assert finding.description.endswith("- svc: field: x")


def test_each_item_judged_to_pass_is_a_passed_finding_citing_it() -> None:
    """Compliance scanners report passed controls too: one finding per item judged to pass, never a problem."""
    result = recorded()
    passes = [f for f in result.findings if not f.is_problem]
    verdicts = {k.rsplit("/", 1)[1]: v for k, v in result.metrics if k.startswith("kisa/")}
    assert sorted(f.rule_id for f in passes) == sorted(item for item, v in verdicts.items() if v == "pass")
    assert len(passes) == 20
    cited = {dict(f.properties)["kisa.item"] for f in result.findings if "kisa.item" in dict(f.properties)}
    assert cited == {item for item, v in verdicts.items() if v in ("pass", "fail")}
    u04 = next(f for f in passes if f.rule_id == "U-04")
    assert (u04.outcome, u04.severity, u04.tool.name, u04.title) == (
        Outcome.PASS, Severity.INFO, lynis.CHECKS_TOOL, "[U-04] Password hashes kept out of the world-readable passwd "
                                                         "file: passed")
    assert host(u04).group == "accounts" and "judged by Lynis AUTH-9216" in u04.description
    (document,) = emit_asff([u04], CONTEXT).findings
    assert document["Compliance"] == {"Status": "PASSED", "RelatedRequirements": ["KISA Unix 2026 U-04"]}
    assert document["Severity"]["Label"] == "INFORMATIONAL" and asff_problems([document]) == []
