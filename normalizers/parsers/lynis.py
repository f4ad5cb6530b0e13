"""Lynis' `lynis-report.dat`: a host hardening audit (Lynis 3.x; Debian's `lynis`).

The report is `key=value` lines; `key[]=` repeats. Lynis writes `# Lynis Report` first and
`finish=true` last, so a report without `finish=true` is an audit that died or a file that was cut,
and is refused (MalformedReportError) rather than read as a host with fewer problems. Findings come
from `warning[]=` and `suggestion[]=` records, `TEST-ID|message|details|solution|`; `details[]=`
records (`TEST-ID|service|key:value;...|`, e.g. each sysctl that differs) are added to the
description of that test's findings. A record with fewer fields is a counted Skipped. Bytes that are not
UTF-8 (a file name in Latin-1 in some record) are replaced rather than fatal; NUL bytes are not text.
A UTF-8 byte-order mark (a report saved by a Windows editor) is dropped; CRLF line ends are read.

Location: `hostname=`, and `ec2_instance_id=` when known. Lynis writes no instance id; Tollgate's
SSM runner (pipeline/scanners/lynis.py) adds that line to the report it fetched from the instance.

Groups. The guideline the checks follow has four groups: accounts, files and permissions,
services, patches and logs. Each Lynis test id starts with its category (AUTH-9286, FILE-6310);
`PREFIXES` maps each category Lynis 3.0.8 ships to a group (GEN and LYNIS are about the auditor
itself, a profile with deprecated options or a newer Lynis release, and go with patches), and `TEST_GROUPS`
moves the few tests whose category misleads (KRNL-5830 "reboot needed after a kernel update" is patching). A test id
Lynis does not ship (custom CUST-* tests, plugins) is in the group `other`.

Severity. Lynis 3 gives none (its L/M/H levels were dropped in 3.0), only two kinds:
- a suggestion is a hardening opportunity, not a problem Lynis found: LOW, so it is counted and
  reported but stays under a `fail-on: high` or `medium` gate;
- a warning is a problem that needs action: MEDIUM, or HIGH for the categories whose warnings are
  a direct way in (PREFIXES): accounts without a password or a second UID 0 (AUTH), booting to a
  root shell without a password or writable startup scripts (BOOT), installed packages with known
  vulnerabilities (PKGS), databases open to anyone or without a root password (DBS), guessable
  SNMP communities (SNMP).

Identity. One test can report several things (FILE-6310 once each for /home, /tmp and /var), so
the location's anchor is the kind, message and details, with free-standing numbers (counts, days)
replaced by `#` so "Check 3 files in /tmp" and "Check 4 files in /tmp" stay one finding. Numbers
inside IP addresses, paths and versions are kept, so two silent nameservers are two findings.

KISA items. Tollgate's host scanner appends its own read-only checks to the report
(pipeline/scanners/host_checks.sh), one `tollgate_check[]=<check>|<pass|fail|manual|na>|<detail>|`
line each. normalizers/kisa.py says which KISA Unix item (2026 edition, U-01..U-67) a Lynis record
or a check speaks to. A Lynis finding that maps to an item cites it in its title (`[U-02] ...`)
and properties (`kisa.item`, `kisa.area`, `kisa.old`), and its group is the item's area. A failed
check is a finding of the tool "Tollgate host checks" whose rule id is the item (`U-13`), with the
item's importance as severity (high, medium, low); a check that needs a person (`manual`) is
INFO. Every item judged to pass on the host (normalizers.kisa.verdicts: a check of it passed or one
of its Lynis tests ran, and nothing cites it) is one more finding of "Tollgate host checks" with
`outcome=PASS` and INFO severity, naming what judged it, as compliance scanners report passed
controls; it never gates or counts as a problem (Finding.is_problem). Not-applicable and unchecked
items are only counted, in the verdict metrics.

Installed packages: the host scan also prints `tollgate_os=` and one `tollgate_package[]=` line per
installed OS package (normalizers/installed_packages.py); they become metrics, not findings.

Metrics (`Parser.metrics`): `lynis/<host>/hardening_index`, `.../version`, `.../tests_performed`,
keyed by the instance id when known, else the host name, so a combined scan of several hosts keeps
each host's index; `kisa/<host>/<U-xx>`, each item's verdict on that host (normalizers.kisa); and
`packages/<host>/count` with `packages/<host>/<type>/<name>` -> purl, the host's package inventory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from normalizers import kisa
from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.installed_packages import InstalledPackage, read_line, read_os
from normalizers.model import Category, Finding, HostLocation, Outcome, Remediation, Severity, Skipped, Tool
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

TOOL_NAME = "Lynis"
ACCOUNTS = "accounts"
FILES = "files-and-permissions"
SERVICES = "services"
PATCHES_AND_LOGS = "patches-and-logs"
OTHER = "other"
HIGH, MEDIUM = Severity.HIGH, Severity.MEDIUM
# Lynis category (test-id prefix) -> (guideline group, severity of its warnings).
PREFIXES: dict[str, tuple[str, Severity]] = {
    "AUTH": (ACCOUNTS, HIGH), "SHLL": (ACCOUNTS, MEDIUM),
    "FILE": (FILES, MEDIUM), "HOME": (FILES, MEDIUM), "FINT": (FILES, MEDIUM), "SINT": (FILES, MEDIUM),
    "CRYP": (FILES, MEDIUM), "HRDN": (FILES, MEDIUM), "MALW": (FILES, MEDIUM), "MACF": (FILES, MEDIUM),
    "RBAC": (FILES, MEDIUM), "CORE": (FILES, MEDIUM), "SCHD": (FILES, MEDIUM),  # SCHD: cron files' owners, modes
    "BOOT": (SERVICES, HIGH), "DBS": (SERVICES, HIGH), "SNMP": (SERVICES, HIGH), "SSH": (SERVICES, MEDIUM),
    "INSE": (SERVICES, MEDIUM), "NETW": (SERVICES, MEDIUM), "FIRE": (SERVICES, MEDIUM), "NAME": (SERVICES, MEDIUM),
    "DNS": (SERVICES, MEDIUM), "HTTP": (SERVICES, MEDIUM), "MAIL": (SERVICES, MEDIUM), "PHP": (SERVICES, MEDIUM),
    "SQD": (SERVICES, MEDIUM), "PRNT": (SERVICES, MEDIUM), "PROC": (SERVICES, MEDIUM), "CONT": (SERVICES, MEDIUM),
    "VIRT": (SERVICES, MEDIUM), "KRNL": (SERVICES, MEDIUM), "TIME": (SERVICES, MEDIUM), "STRG": (SERVICES, MEDIUM),
    "USB": (SERVICES, MEDIUM), "LDAP": (SERVICES, MEDIUM), "BANN": (SERVICES, MEDIUM), "TOOL": (SERVICES, MEDIUM),
    "PKGS": (PATCHES_AND_LOGS, HIGH), "LOGG": (PATCHES_AND_LOGS, MEDIUM), "ACCT": (PATCHES_AND_LOGS, MEDIUM),
    "DEB": (PATCHES_AND_LOGS, MEDIUM), "LYNIS": (PATCHES_AND_LOGS, MEDIUM), "GEN": (PATCHES_AND_LOGS, MEDIUM),
}  # fmt: skip
# Tests whose category misleads: a reboot after a kernel update, the Debian plugin's PAM tmpdir and fail2ban.
TEST_GROUPS = {"KRNL-5830": PATCHES_AND_LOGS, "DEB-0280": FILES, "DEB-0880": SERVICES}
FINDING_KINDS = ("warning", "suggestion")
CHECK_KEY = "tollgate_check"
PACKAGE_KEY = "tollgate_package"
OS_KEY = "tollgate_os"
CHECKS_TOOL = "Tollgate host checks"
IMPORTANCE_SEVERITY = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW}
CONTROL_URL = "https://cisofy.com/lynis/controls/{test_id}/"
_TEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*$")
_LOOSE_NUMBER = re.compile(r"(?<![\w.:/-])\d+(?![\w.:/-])")
_VERSION_LINE = re.compile(rb"(?m)^lynis_version=")
_REPORT_VERSION_LINE = re.compile(rb"(?m)^report_version_major=")
_HEADER = b"# Lynis Report"
_BOM = b"\xef\xbb\xbf"
_NONE = ("", "-")


def group_of(test_id: str) -> tuple[str, Severity]:
    """The guideline group of a test and the severity its warnings get."""
    group, severity = PREFIXES.get(test_id.split("-", 1)[0].upper(), (OTHER, MEDIUM))
    return TEST_GROUPS.get(test_id.upper(), group), severity


@dataclass(frozen=True)
class _Record:
    kind: str  # "warning" or "suggestion"
    index: int  # its position among records of its kind
    line: int
    value: str


@dataclass(frozen=True)
class _Check:
    """One of Tollgate's own host checks: `tollgate_check[]=<check>|<result>|<detail>|`."""

    name: str
    result: str  # pass | fail | manual | na (normalizers.kisa.RESULTS)
    detail: str
    line: int


@dataclass(frozen=True)
class _Dat:
    """A report read into its scalar keys, finding records and per-test details."""

    scalars: dict[str, str]
    records: tuple[_Record, ...]
    details: dict[str, tuple[str, ...]]  # test id -> rendered `details[]` entries
    stray_lines: tuple[int, ...]  # line numbers that are not `key=value`
    checks: tuple[_Check | Skipped, ...] = ()
    packages: tuple[InstalledPackage | Skipped, ...] = ()

    @property
    def host(self) -> str:
        return self.scalars["hostname"]

    @property
    def instance_id(self) -> str | None:
        return self.scalars.get("ec2_instance_id") or None


def _read(report: Report) -> _Dat:
    raw = report.raw
    if b"\x00" in raw:
        raise MalformedReportError(f"{report.source}: binary data, not a Lynis report")
    scalars: dict[str, str] = {}
    records: list[_Record] = []
    details: dict[str, list[str]] = {}
    stray: list[int] = []
    checks: list[_Check | Skipped] = []
    packages: list[InstalledPackage | Skipped] = []
    counts = dict.fromkeys(FINDING_KINDS, 0)
    for number, line in enumerate(raw.removeprefix(_BOM).decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        if not equals:
            stray.append(number)
        elif key.endswith("[]") and key[:-2] in counts:
            records.append(_Record(key[:-2], counts[key[:-2]], number, value))
            counts[key[:-2]] += 1
        elif key == f"{CHECK_KEY}[]":
            checks.append(_check(value, number))
        elif key == f"{PACKAGE_KEY}[]":
            packages.append(read_line(value) or Skipped(CHECKS_TOOL, "not a package line: TYPE|NAME|VERSION|ARCH|",
                                                        f"{PACKAGE_KEY}[] (line {number})"))
        elif key == "details[]":
            test_id, _, rest = value.partition("|")
            details.setdefault(test_id.strip(), []).append(_detail_text(rest))
        elif not key.endswith("[]"):
            scalars[key] = value.strip()
    return _checked(report, _Dat(scalars, tuple(records), {k: tuple(v) for k, v in details.items()}, tuple(stray),
                                 tuple(checks), tuple(packages)))


def _check(value: str, line: int) -> _Check | Skipped:
    fields = value.split("|")
    pointer = f"{CHECK_KEY}[] (line {line})"
    if len(fields) < 4 or fields[-1].strip():
        return Skipped(CHECKS_TOOL, "truncated check record: expected CHECK|RESULT|DETAIL|", pointer)
    name, result, detail = fields[0].strip(), fields[1].strip(), "|".join(fields[2:-1]).strip()
    if result not in kisa.RESULTS:
        return Skipped(CHECKS_TOOL, f"unknown check result {result[:20]!r}", pointer)
    if kisa.table().item_for_check(name) is None:
        return Skipped(CHECKS_TOOL, "a check of no KISA item", pointer)
    return _Check(name, result, detail, line)


def _checked(report: Report, dat: _Dat) -> _Dat:
    if not dat.scalars and not dat.records:
        raise MalformedReportError(f"{report.source}: no key=value lines; not a Lynis report")
    if dat.scalars.get("finish") != "true":
        raise MalformedReportError(
            f"{report.source}: truncated: no `finish=true` line (Lynis writes it last; did the audit finish?)"
        )
    if not dat.scalars.get("hostname"):
        raise MalformedReportError(f"{report.source}: no `hostname=` line; the audited host is unknown")
    return dat


def _detail_text(rest: str) -> str:
    """`sysctl|desc:…;field:kernel.kptr_restrict;prefval:2;value:0;|` -> `sysctl: desc …; field …`."""
    service, _, fields = rest.rstrip("|").partition("|")
    parts = [part.replace(":", ": ", 1) for part in fields.split(";") if part]
    return f"{service}: {'; '.join(parts)}" if parts else service


def _stable(text: str) -> str:
    return _LOOSE_NUMBER.sub("#", text)


def _meaningful(value: str) -> str | None:
    stripped = value.strip()
    return None if stripped in _NONE else stripped


def _control_url(test_id: str) -> str | None:
    """Lynis' page for the test; custom tests (CUST-*) have none."""
    return None if test_id.upper().startswith("CUST") else CONTROL_URL.format(test_id=test_id)


def _remediation(solution: str | None, test_id: str) -> Remediation:
    """`text:…` or `url:…` (Lynis' own prefixes; bare text is text), else the control's page."""
    if solution and solution.startswith("url:"):
        return Remediation(url=solution[4:].strip() or _control_url(test_id))
    return Remediation(text=solution.removeprefix("text:").strip() if solution else None, url=_control_url(test_id))


def _finding(dat: _Dat, record: _Record, tool: Tool) -> Finding | Skipped:
    pointer = f"{record.kind}[{record.index}] (line {record.line})"
    fields = record.value.split("|")
    if len(fields) < 5 or fields[-1].strip():
        return Skipped(TOOL_NAME, "truncated record: expected TEST-ID|message|details|solution|", pointer)
    test_id, message = fields[0].strip(), "|".join(fields[1:-3]).strip()  # a message may hold a `|`
    if not _TEST_ID.match(test_id) or not message:
        return Skipped(TOOL_NAME, "the record has no test id or no message", pointer)
    detail, solution = _meaningful(fields[-3]), _meaningful(fields[-2])
    group, warning_severity = group_of(test_id)
    item = _item_of(test_id, message, detail)
    group = item.area if item else group
    remediation = _remediation(solution, test_id)
    extra = "\n".join(f"- {line}" for line in dat.details.get(test_id, ()))
    title = f"{message.rstrip('.')}: {detail}" if detail else message
    return Finding(
        tool=tool,
        rule_id=test_id,
        title=f"[{item.id}] {title}" if item else title,
        severity=warning_severity if record.kind == "warning" else Severity.LOW,
        original_severity=record.kind,
        location=HostLocation(
            host=dat.host, instance_id=dat.instance_id, test_id=test_id, group=group,
            anchor=f"{record.kind}|{_stable(message)}|{_stable(detail or '')}",
        ),
        description="\n\n".join(
            part for part in (f"Lynis {record.kind} {test_id} ({group}): {message}",
                              f"Details: {detail}" if detail else "", extra) if part
        ),
        remediation=remediation,
        references=tuple(dict.fromkeys(url for url in (remediation.url, _control_url(test_id)) if url)),
        properties=(("lynis.kind", record.kind), *((("lynis.details", detail),) if detail else ()),
                    *_item_properties(item)),
    )


def _item_of(test_id: str, message: str, detail: str | None) -> kisa.Item | None:
    return kisa.table().item_for_lynis(test_id, f"{message} {detail or ''}")


def _item_properties(item: kisa.Item | None) -> tuple[tuple[str, str], ...]:
    if item is None:
        return ()
    return ((kisa.ITEM_PROPERTY, item.id), ("kisa.area", item.area), ("kisa.importance", item.importance),
            *((("kisa.old", " ".join(item.old)),) if item.old else ()))


def _check_finding(dat: _Dat, check: _Check) -> Finding | None:
    """A failed check, or one that needs a person; passed and not-applicable checks are no finding."""
    if check.result not in ("fail", "manual"):
        return None
    t = kisa.table()
    item = t.item_for_check(check.name)
    assert item is not None  # noqa: S101 - _check skipped checks of no item
    failed = check.result == "fail"
    return Finding(
        tool=Tool(name=CHECKS_TOOL, category=Category.HOST),
        rule_id=item.id,
        title=f"[{item.id}] {item.title}{'' if failed else ' (review)'}: {check.detail}",
        severity=IMPORTANCE_SEVERITY[item.importance] if failed else Severity.INFO,
        original_severity=check.result,
        location=HostLocation(host=dat.host, instance_id=dat.instance_id, test_id=check.name, group=item.area,
                              anchor=f"{check.name}|{_stable(check.detail)}"),
        description=f"KISA Unix {t.edition} {item.id} ({t.areas[item.area]}): {item.intent}. "
                    f"Check {check.name}: {check.detail}",
        remediation=Remediation(text=item.intent),
        properties=(("kisa.check", check.name), ("kisa.result", check.result), *_item_properties(item)),
    )


def _pass_finding(dat: _Dat, item: kisa.Item) -> Finding:
    """An item judged to pass on the host: what judged it (its passed checks, its Lynis tests that ran)."""
    t = kisa.table()
    passed = [f"check {c.name}: {c.detail}" for c in dat.checks if isinstance(c, _Check)
              and c.result == "pass" and c.name in item.native]
    executed = set(_executed(dat))
    ran = [f"Lynis {ref.test}" for ref in item.lynis if ref.test in executed]
    judged_by = "; ".join(dict.fromkeys((*passed, *ran)))
    return Finding(
        tool=Tool(name=CHECKS_TOOL, category=Category.HOST),
        rule_id=item.id,
        title=f"[{item.id}] {item.title}: passed",
        severity=Severity.INFO,
        original_severity="pass",
        location=HostLocation(host=dat.host, instance_id=dat.instance_id, test_id=item.id, group=item.area,
                              anchor=f"kisa-verdict|{item.id}"),
        description=f"KISA Unix {t.edition} {item.id} ({t.areas[item.area]}): {item.intent}. "
                    f"Passed; judged by {judged_by}",
        outcome=Outcome.PASS,
        properties=(("kisa.result", "pass"), *_item_properties(item)),
    )


def _executed(dat: _Dat) -> list[str]:
    return [test.upper() for test in dat.scalars.get("tests_executed", "").split("|") if test]


def _verdicts(dat: _Dat) -> dict[str, str]:
    """Each KISA item's verdict on the host: every Lynis record and check of the report counts."""
    checks = [(c.name, c.result) for c in dat.checks if isinstance(c, _Check)]
    cited = set()
    for record in dat.records:
        fields = record.value.split("|")
        if len(fields) >= 5:
            item = _item_of(fields[0].strip(), "|".join(fields[1:-3]), _meaningful(fields[-3]))
            if item is not None:
                cited.add(item.id)
    return kisa.verdicts(checks, cited, _executed(dat))


def _is_lynis(head: bytes) -> bool:
    """The header Lynis writes first, or (header stripped) its two version lines near the top."""
    head = head.removeprefix(_BOM)
    top = head[:4096]
    return head.startswith(_HEADER) or (
        top[:1].isalpha() and bool(_VERSION_LINE.search(top)) and bool(_REPORT_VERSION_LINE.search(top))
    )


class LynisParser(Parser):
    tool_id = ToolId.LYNIS

    def sniff(self, report: Report) -> bool:
        return _is_lynis(report.head)

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        if not _is_lynis(report.head):
            raise UnsupportedReportError(f"{report.source}: not a Lynis report (lynis-report.dat)")
        dat = _read(report)
        tool = Tool(name=TOOL_NAME, category=Category.HOST, version=dat.scalars.get("lynis_version") or None)
        for line in dat.stray_lines:
            yield Skipped(TOOL_NAME, "not a key=value line", f"line {line}")
        for record in dat.records:
            yield _finding(dat, record, tool)
        yield from (package for package in dat.packages if isinstance(package, Skipped))
        for check in dat.checks:
            if isinstance(check, Skipped):
                yield check
            elif (finding := _check_finding(dat, check)) is not None:
                yield finding
        table = kisa.table()
        for item_id, verdict in _verdicts(dat).items():
            if verdict == "pass":
                yield _pass_finding(dat, table.item(item_id))

    def metrics(self, report: Report) -> dict[str, str]:
        dat = _read(report)
        prefix = f"lynis/{dat.instance_id or dat.host}"
        found = {
            "hardening_index": dat.scalars.get("hardening_index"),
            "version": dat.scalars.get("lynis_version"),
            "tests_performed": dat.scalars.get("lynis_tests_done"),
        }
        metrics = {f"{prefix}/{name}": value for name, value in found.items() if value}
        host = dat.instance_id or dat.host
        metrics.update({f"kisa/{host}/{item}": verdict for item, verdict in _verdicts(dat).items()})
        metrics.update(_inventory(dat, host))
        return metrics


def _inventory(dat: _Dat, host: str) -> dict[str, str]:
    """`packages/<host>/count` and one `packages/<host>/<type>/<name>` -> purl per installed package."""
    installed = [p for p in dat.packages if isinstance(p, InstalledPackage)]
    if not installed:
        return {}
    os_id, os_version = read_os(dat.scalars.get(OS_KEY, ""))
    found = {f"packages/{host}/{p.kind}/{p.name}": p.purl(os_id, os_version) for p in installed}
    return {f"packages/{host}/count": str(len(installed)), **found}


PARSER = LynisParser()
