"""Identity v2 on real repositories, scanned by the real scanners through Tollgate's own runners.

The repositories (pygoat, terragoat, click, each with its license) are read from the optional material beside
the checkout (docs/development.md) when it exists and copied into a temporary folder before any edit; the
tests skip cleanly without them or without a scanner (naming its install command). Only the subfolders a
scanner needs are copied, to keep the run short.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from normalizers.model import CodeLocation, Finding, ParseResult, Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.results import Results
from normalizers.tool_id import ToolId
from pipeline.gate import baseline_from_results, compare
from pipeline.scanners.base import Options, ScanContext, ScannerName
from pipeline.scanners.catalog import scanner_for
from tests.conftest import REALWORLD, ROOT

pytestmark = pytest.mark.slow

CHECKOV_VENV = ROOT / ".venv-checkov" / "bin" / "checkov"

# repository -> (subfolders copied, scanners run on them)
REPOSITORIES: dict[str, tuple[tuple[str, ...], tuple[ScannerName, ...]]] = {
    "terragoat": (("terraform/aws", "LICENSE"),
                  ("trivy-config", "hadolint", "checkov")),
    "pygoat": (("introduction", "Dockerfile", "LICENSE.md"),
               ("trivy-config", "hadolint", "checkov", "semgrep",
                "bandit")),
    "click": (("src", "LICENSE.txt"), ("semgrep", "bandit")),
}
_COMMENT = {".py": "# {}", ".tf": "# {}", ".yml": "# {}", ".yaml": "# {}", ".sh": "# {}", ".toml": "# {}",
            ".js": "// {}", ".ts": "// {}", ".html": "<!-- {} -->", ".htm": "<!-- {} -->", ".xml": "<!-- {} -->"}


def _copy(repository: str, destination: Path) -> Path:
    source = REALWORLD / repository
    if not source.is_dir():
        pytest.skip(f"{source} is absent (the real-world repositories live beside the project)")
    root = destination / repository
    for part in REPOSITORIES[repository][0]:
        origin, target = source / part, root / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, target)
        elif origin.is_file():
            shutil.copy2(origin, target)
    return root


def _context(root: Path, work: Path) -> ScanContext:
    env = dict(os.environ)
    if "TOLLGATE_CHECKOV" not in env and CHECKOV_VENV.is_file():
        env["TOLLGATE_CHECKOV"] = str(CHECKOV_VENV)
    return ScanContext(source=root, work_dir=work, env=env)


def _ready(name: ScannerName, root: Path, work: Path) -> None:
    reason = scanner_for(name).readiness(_context(root, work), Options())
    if reason is not None:
        pytest.skip(f"{name}: {reason.message}")


@dataclass(frozen=True)
class Scan:
    parsed: tuple[ParseResult, ...]
    native_results: int  # counted in the tool's own report, not by the parser

    @property
    def findings(self) -> list[Finding]:
        return [f for p in self.parsed for f in p.findings]


def _scan(name: ScannerName, root: Path, work: Path) -> Scan:
    ctx = _context(root, work)
    output = scanner_for(name).run(ctx, Options(), time.monotonic() + 900)
    options = ParseOptions(source_root=str(root))
    parsed = tuple(parse_report(Report.from_path(str(r.path)), options, r.tool_id) for r in output.reports)
    native = sum(_native_count(r.path, r.tool_id) for r in output.reports)
    return Scan(parsed, native)


def _native_count(path: Path, tool_id: ToolId) -> int:
    document = orjson.loads(path.read_bytes())
    if tool_id is ToolId.SARIF:
        return sum(len(run.get("results") or ()) for run in document["runs"])
    sections = ("Vulnerabilities", "Misconfigurations", "Secrets", "Licenses")
    return sum(len(result.get(key) or ()) for result in document.get("Results") or () for key in sections)


def _mutate(root: Path, paths: set[str]) -> int:
    """Five blank lines on top of every file, and a comment line in its middle where the syntax has one."""
    changed = 0
    for relative in sorted(paths):
        path = root / relative
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        template = _COMMENT.get(path.suffix.lower(), "# {}" if path.name.lower().startswith("dockerfile") else None)
        if template and lines:
            at = _comment_position(lines, path.suffix.lower())
            lines.insert(at, template.format("added by the identity test") + "\n")
        path.write_text("\n" * 5 + "".join(lines), encoding="utf-8")
        changed += 1
    return changed


def _comment_position(lines: list[str], suffix: str) -> int:
    """The line nearest the middle that starts a top-level statement, so the comment never lands
    inside a string, a heredoc or a continued line; the end of the file when there is none."""
    starts = _STATEMENT.get(suffix, _TOP_LEVEL)
    middle = len(lines) // 2
    for offset in range(len(lines)):
        for index in (middle - offset, middle + offset):
            if 0 < index < len(lines) and starts.match(lines[index]) and not lines[index - 1].rstrip().endswith("\\"):
                return index
    return len(lines)


_TOP_LEVEL = re.compile(r"^[A-Za-z]")
_STATEMENT = {".tf": re.compile(r"^(resource|data|module|variable|locals|output|provider|terraform)\b"),
              ".py": re.compile(r"^(def|class|import|from|async def|@)\b")}


def _paths_with_findings(scan: Scan) -> set[str]:
    return {f.location.path for f in scan.findings if isinstance(f.location, CodeLocation) and f.location.path != "."}


CASES = [(repository, name) for repository, (_, names) in REPOSITORIES.items() for name in names]


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, ScannerName], tuple[Scan, Scan]]]:
    """(first scan, scan after the blank-line and comment edit) per repository and scanner, run once."""
    cache: dict[tuple[str, ScannerName], tuple[Scan, Scan]] = {}

    def get(repository: str, name: ScannerName) -> tuple[Scan, Scan]:
        if (repository, name) not in cache:
            base = tmp_path_factory.mktemp(f"{repository}-{name}")
            root = _copy(repository, base)
            _ready(name, root, base / "raw")
            first = _scan(name, root, base / "raw")
            _mutate(root, _paths_with_findings(first))
            cache[(repository, name)] = (first, _scan(name, root, base / "raw-2"))
        return cache[(repository, name)]

    yield get


@pytest.mark.parametrize(("repository", "name"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
def test_blank_lines_and_comments_change_no_identity(scans: Callable[[str, ScannerName], tuple[Scan, Scan]],
                                                     repository: str, name: ScannerName) -> None:
    first, second = scans(repository, name)
    before = sorted(f.fingerprint for f in first.findings)
    after = sorted(f.fingerprint for f in second.findings)
    assert len(before) == len(after)
    assert set(before) ^ set(after) == set()
    assert len(set(before)) == len(before)  # one finding per identity: merges happened at parse time


@pytest.mark.parametrize(("repository", "name"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
def test_every_raw_result_is_kept_merged_or_skipped_with_a_reason(
        scans: Callable[[str, ScannerName], tuple[Scan, Scan]], repository: str, name: ScannerName) -> None:
    for scan in scans(repository, name):
        reconciliations = [p.reconciliation for p in scan.parsed]
        assert all(r is not None for r in reconciliations)
        raw = sum(r.raw for r in reconciliations if r)
        assert raw == scan.native_results  # the tool's own count, read from its report
        for r in reconciliations:
            assert r is not None
            assert r.raw == r.kept + r.merged + r.skipped
            assert r.skipped == sum(count for _, count in r.skipped_reasons)
        assert sum(r.kept for r in reconciliations if r) == len(scan.findings)


def test_trivy_keeps_the_five_eks_logging_results_apart(scans: Callable[[str, ScannerName], tuple[Scan, Scan]]
                                                         ) -> None:
    first, _ = scans("terragoat", "trivy-config")
    logging = [f for f in first.findings if f.rule_id == "AWS-0038"]
    assert len(logging) == 5
    resources = {f.location.resource for f in logging if isinstance(f.location, CodeLocation)}
    assert resources == {"aws_eks_cluster.eks_cluster"}


def test_fixing_one_checkov_check_on_one_resource_is_one_fixed_and_nothing_new(tmp_path: Path) -> None:
    root = _copy("terragoat", tmp_path)
    _ready("checkov", root, tmp_path / "raw")
    first = _scan("checkov", root, tmp_path / "raw")
    on_web_host = [f for f in first.findings if getattr(f.location, "resource", None) == "aws_instance.web_host"]
    assert "CKV_AWS_126" in {f.rule_id for f in on_web_host}  # detailed monitoring is off
    assert len(on_web_host) > 1  # the other checks on the resource must stay unchanged

    ec2 = root / "terraform/aws/ec2.tf"
    text = ec2.read_text(encoding="utf-8")
    header = 'resource "aws_instance" "web_host" {\n'
    assert text.count(header) == 1
    ec2.write_text(text.replace(header, header + "  monitoring = true\n"), encoding="utf-8")
    second = _scan("checkov", root, tmp_path / "raw-2")

    results = Results(scope=Scope("bridgecrewio/terragoat"), findings=tuple(first.findings))
    baseline = baseline_from_results(results, "first run")
    new, unchanged, fixed = compare([f for f in second.findings if f.active], baseline)
    assert [f.rule_id for f in new] == []
    assert [e.rule_id for e in fixed] == ["CKV_AWS_126"]
    assert len(unchanged) == len([f for f in first.findings if f.active]) - 1

