"""The `.tollgate.yml` policy: JSON Schema validation with messages that name the key and its path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from normalizers.model import Category, Severity
from pipeline.cli import main
from pipeline.config_file import format_path
from pipeline.errors import ConfigError, ExitCode
from pipeline.policy import DEFAULT_FAIL_ON, Policy, load_policy, parse_policy

FINGERPRINT = "a" * 64

VALID = f"""\
version: 1
fail-on: medium
categories:
  dast:
    fail-on: high
  secrets:
    fail-on: low
  host:
    fail-on: none
suppressions:
  - rule: CVE-2024-29041
    reason: not reachable, express is only used in the dev server
    expires: 2026-12-31
  - fingerprint: {FINGERPRINT}
    reason: false positive, reviewed in #412
    expires: 2027-01-15
  - path: "tests/**"
    rule: python.lang.security.audit.eval
    reason: test code
    expires: 2026-06-30
  - package: pkg:npm/lodash@4.17.20
    reason: vendored, patched in place
    expires: 2026-03-01
  - rule: 40018
    reason: ZAP plugin ids are numbers
    expires: 2026-03-01
baseline: baselines/main.json
scan:
  dast-targets: [http://127.0.0.1:8080]
"""


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, source=".tollgate.yml")
    return str(caught.value)


def test_a_full_policy_parses_into_thresholds_and_suppressions() -> None:
    policy = parse_policy(VALID)
    assert policy.fail_on is Severity.MEDIUM
    assert policy.threshold(Category.DAST) is Severity.HIGH
    assert policy.threshold(Category.SECRETS) is Severity.LOW
    assert policy.threshold(Category.HOST) is None
    assert policy.threshold(Category.SCA) is Severity.MEDIUM
    first, second, third, fourth, fifth = policy.suppressions
    assert (first.rule, first.expires, first.index) == ("CVE-2024-29041", date(2026, 12, 31), 0)
    assert second.fingerprint == FINGERPRINT
    assert (third.path, third.rule) == ("tests/**", "python.lang.security.audit.eval")
    assert fourth.package == "pkg:npm/lodash@4.17.20"
    assert fifth.rule == "40018"
    assert third.label == "suppressions[2] (rule python.lang.security.audit.eval, path tests/**)"
    assert policy.baseline == "baselines/main.json"
    assert policy.describe_thresholds() == "fail-on medium; dast: high; secrets: low; host: none"


def test_the_baseline_is_relative_to_the_policy_file(tmp_path: Path) -> None:
    (tmp_path / ".tollgate.yml").write_text(VALID, encoding="utf-8")
    policy = load_policy(tmp_path / ".tollgate.yml")
    assert policy.baseline == str(tmp_path / "baselines" / "main.json")
    assert policy.source == str(tmp_path / ".tollgate.yml")


def test_an_empty_file_is_the_default_policy() -> None:
    assert parse_policy("") == Policy(source=".tollgate.yml")
    assert parse_policy("# only a comment\n").fail_on is DEFAULT_FAIL_ON is Severity.HIGH


def test_a_missing_reason_names_the_entry() -> None:
    text = VALID.replace("    reason: test code\n", "")
    assert problems(text) == ".tollgate.yml: suppressions[2]: 'reason' is a required property"


def test_an_unknown_key_is_named_with_a_suggestion() -> None:
    message = problems("fail_on: high\n")
    assert message == (".tollgate.yml: unknown key 'fail_on' (did you mean 'fail-on'? "
                       "allowed: version, fail-on, fail-on-kev, fail-on-epss, categories, suppressions, vex, epss, "
                       "baseline, scan, firewall)")


def test_an_unknown_key_inside_a_suppression_is_named_with_its_path() -> None:
    text = "suppressions:\n  - rule: X\n    reson: typo\n    reason: ok\n    expires: 2026-01-01\n"
    message = problems(text)
    assert message.startswith(".tollgate.yml: suppressions[0]: unknown key 'reson' (did you mean 'reason'?")


def test_an_unknown_category_is_named() -> None:
    message = problems("categories:\n  webapp:\n    fail-on: high\n")
    assert message.startswith(".tollgate.yml: categories: unknown key 'webapp' (allowed: sca, sast, dast,")


def test_a_bad_severity_lists_the_allowed_ones() -> None:
    assert problems("fail-on: severe\n") == (
        ".tollgate.yml: fail-on: 'severe' is not one of ['critical', 'high', 'medium', 'low', 'info', 'none']")
    assert problems("categories:\n  sca: {}\n") == ".tollgate.yml: categories.sca: 'fail-on' is a required property"


@pytest.mark.parametrize(("entry", "expected"), [
    ("rule: X\n    reason: ok\n    expires: 2026-02-30",
     "suppressions[0].expires: must be a real date written YYYY-MM-DD"),
    ("rule: X\n    reason: ok\n    expires: 31.12.2026",
     "suppressions[0].expires: must be a real date written YYYY-MM-DD"),
    ("rule: X\n    reason: ok", "suppressions[0]: 'expires' is a required property"),
    ("rule: X\n    reason: '   '\n    expires: 2026-01-01", "suppressions[0].reason: must not be blank"),
    ("reason: ok\n    expires: 2026-01-01",
     "suppressions[0]: needs at least one of 'rule', 'fingerprint', 'path' or 'package' to say what it suppresses"),
    ("fingerprint: abc\n    reason: ok\n    expires: 2026-01-01",
     "suppressions[0].fingerprint: must be a Tollgate fingerprint: 64 lowercase hex characters"),
    ("package: 'pkg:npm'\n    reason: ok\n    expires: 2026-01-01",
     "suppressions[0].package: 'pkg:npm' is not a valid purl"),
])
def test_suppression_errors_are_precise(entry: str, expected: str) -> None:
    assert problems(f"suppressions:\n  - {entry}\n").startswith(f".tollgate.yml: {expected}")


def test_every_error_is_listed_at_once_in_path_order() -> None:
    text = "fail-on: severe\nsuppressions:\n  - rule: X\n  - path: a\n    reason: ok\n    expires: never\n"
    assert problems(text).splitlines() == [
        ".tollgate.yml: fail-on: 'severe' is not one of ['critical', 'high', 'medium', 'low', 'info', 'none']",
        ".tollgate.yml: suppressions[0]: 'expires' is a required property",
        ".tollgate.yml: suppressions[0]: 'reason' is a required property",
        ".tollgate.yml: suppressions[1].expires: must be a real date written YYYY-MM-DD",
    ]


def test_yaml_syntax_errors_are_one_line_with_line_and_column() -> None:
    message = problems("fail-on: high\nsuppressions:\n  - rule: [unclosed\n")
    assert "\n" not in message
    assert message.startswith(".tollgate.yml:4:1: ")
    assert problems("fail-on: high\n  oops: 1\n") == ".tollgate.yml:2:7: mapping values are not allowed here"


def test_a_key_written_twice_is_an_error_not_a_silent_override() -> None:
    assert problems("fail-on: critical\nfail-on: none\n") == ".tollgate.yml:2:1: duplicate key 'fail-on'"


def test_a_non_mapping_document_is_refused() -> None:
    assert problems("- fail-on\n") == ".tollgate.yml: ['fail-on'] is not of type 'object'"


def test_a_policy_error_leaves_the_cli_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / ".tollgate.yml"
    policy.write_text("suppressions:\n  - rule: X\n    expires: 2026-01-01\n", encoding="utf-8")
    results = tmp_path / "results.json"
    results.write_text('{"schema": "tollgate-results/1", "scope": {"repository": "a/b"}, "findings": []}',
                       encoding="utf-8")
    assert main(["gate", str(results), "--policy", str(policy)]) == ExitCode.USAGE
    assert f"{policy}: suppressions[0]: 'reason' is a required property" in capsys.readouterr().err


def test_fail_on_override_and_path_format() -> None:
    policy = parse_policy(VALID).with_fail_on("critical")
    assert policy.fail_on is Severity.CRITICAL and policy.threshold(Category.DAST) is Severity.HIGH
    assert parse_policy(VALID).with_fail_on("none").fail_on is None
    assert format_path(["suppressions", 2, "reason"]) == "suppressions[2].reason"
    assert format_path([]) == ""
