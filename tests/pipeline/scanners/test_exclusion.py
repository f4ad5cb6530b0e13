"""One exclusion rule, rendered per scanner: each rendering excludes exactly what the rule says."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from pipeline.config import load_scan_config
from pipeline.scanners import catalog
from pipeline.scanners.base import ScanContext
from pipeline.scanners.exclusion import Exclusions

RULES = Exclusions.of((".git", "docs/api", "node_modules", "test_*.py"))
CASES = [
    (".git/config", True), ("src/.git/HEAD", True), (".github/workflows/ci.yml", False),
    ("docs/api/index.md", True), ("docs/guide.md", False), ("src/docs/api/x.md", False),
    ("web/node_modules/left-pad/index.js", True), ("pkg/test_app.py", True), ("pkg/app_test_helpers.py", False),
]


@pytest.mark.parametrize(("path", "excluded"), CASES)
def test_the_regex_checkov_and_detect_secrets_get_excludes_exactly_the_rule(path: str, excluded: bool) -> None:
    assert any(re.search(regex, f"./{path}") for regex in RULES.regexes()) is excluded
    assert (re.search(RULES.regex() or "(?!)", path) is not None) is excluded
    assert RULES.excludes(path) is excluded


@pytest.mark.parametrize(("path", "excluded"), CASES)
def test_bandits_fragments_exclude_exactly_the_rule(path: str, excluded: bool) -> None:
    """Bandit drops `./path` when it contains a fragment or fnmatches it."""
    candidate = f"./{path}"
    hit = any(fragment in candidate or fnmatch.fnmatch(candidate, fragment) for fragment in RULES.path_fragments())
    assert hit is excluded


def test_checkov_gets_anchored_regexes_never_a_bare_escape(tmp_path: Path) -> None:
    """`--skip-path '\\.git'` also matched `.github/`, so Checkov silently skipped every workflow."""
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", exclude=(".git",))
    argv = catalog.scanner_for("checkov").invocations(ctx, load_scan_config(None).settings("checkov").options,
                                                      "checkov")[0].argv
    regex = argv[argv.index("--skip-path") + 1]
    assert re.search(regex, "./.git/config") and not re.search(regex, "./.github/workflows/ci.yml")


def test_source_excludes_reach_sast_and_secrets_scanners_only(tmp_path: Path) -> None:
    config = load_scan_config(None)
    ctx = ScanContext(source=tmp_path, work_dir=tmp_path / "work", exclude=config.exclude,
                      source_exclude=config.source_exclude)
    assert ctx.exclusions(catalog.scanner_for("bandit").spec).excludes("tests/test_app.py")
    assert ctx.exclusions(catalog.scanner_for("detect-secrets").spec).excludes("docs/setup.md")
    assert not ctx.exclusions(catalog.scanner_for("checkov").spec).excludes("tests/main.tf")
    semgrep = catalog.scanner_for("semgrep").invocations(ctx, config.settings("semgrep").options, "semgrep")[0]
    assert "tests" in semgrep.argv and "examples" in semgrep.argv
