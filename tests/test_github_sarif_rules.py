"""The GitHub ingestion checker flags the SARIF SDK's _Invalid inputs and passes its _Valid ones.

Each SDK input is built for one rule (GH1001's valid input has no region, so it breaks GH1003),
so each file is judged by its own rule only. GH1004's inputs are sized for the tiny limits the
SDK's own test sets, since GitHub's real limits are impractically large for a test file.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.conftest import ABSENT, SCHEMAS, SHARED_SCHEMAS
from tests.github_sarif_rules import Limits, check

TESTDATA = SCHEMAS / "gh-rules-testdata"
SDK_RULES = ("GH1001", "GH1002", "GH1003", "GH1004", "GH1005", "GH1006", "GH1007")
TINY = Limits(runs=1, rules_per_run=1, results_per_run=1, locations_per_result=1, code_flows_per_result=1,
              locations_per_thread_flow=1)


def sdk_input(rule: str, kind: str) -> tuple[dict[str, Any], Limits]:
    (path,) = TESTDATA.glob(f"{rule}.*_{kind}.sarif")
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    return document, TINY if rule == "GH1004" else Limits()


def rules_flagged(document: dict[str, Any], limits: Limits) -> set[str]:
    return {violation.rule for violation in check(document, limits)}


@pytest.mark.parametrize("rule", SDK_RULES)
def test_invalid_input_is_flagged_by_its_rule(rule: str) -> None:
    document, limits = sdk_input(rule, "Invalid")
    assert rule in rules_flagged(document, limits)


@pytest.mark.parametrize("rule", SDK_RULES)
def test_valid_input_passes_its_rule(rule: str) -> None:
    document, limits = sdk_input(rule, "Valid")
    assert rule not in rules_flagged(document, limits)


def test_every_sdk_input_is_used() -> None:
    names = sorted(path.name.split(".")[0] for path in TESTDATA.glob("*.sarif"))
    assert names == sorted(rule for rule in SDK_RULES for _ in ("Valid", "Invalid"))


def test_invalid_gh1001_input_flags_each_broken_location() -> None:
    document, limits = sdk_input("GH1001", "Invalid")
    pointers = [v.pointer for v in check(document, limits) if v.rule == "GH1001"]
    assert pointers == [
        "/runs/0/results/0", "/runs/0/results/1",
        "/runs/0/results/2/locations/0", "/runs/0/results/2/locations/1", "/runs/0/results/2/locations/2",
        "/runs/0/results/2/relatedLocations/0",
    ]


def minimal() -> dict[str, Any]:
    location = {"physicalLocation": {"artifactLocation": {"uri": "src/a.py"}, "region": {"startLine": 3}}}
    result = {"ruleId": "R1", "level": "error", "message": {"text": "m"}, "locations": [location]}
    rule = {"id": "R1", "properties": {"security-severity": "8.0", "tags": ["security"]}}
    run = {"tool": {"driver": {"name": "bandit", "rules": [rule]}},
           "automationDetails": {"id": "tollgate/sast/bandit/"}, "results": [result]}
    return {"version": "2.1.0", "runs": [run]}


def test_a_minimal_tollgate_document_passes() -> None:
    assert check(minimal()) == []


@pytest.mark.parametrize(("uri", "rule"), [
    ("https://example.com/a.py", "GH1005"),
    ("image:tag", "GH1005"),
    ("file:///home/runner/work/a.py", "GH1006"),
    ("/src/a.py", "TG1003"),
    ("src/my file.py", "TG1003"),
    ("src\\a.py", "TG1003"),
    ("../a.py", "TG1003"),
])
def test_non_relative_uris_are_flagged(uri: str, rule: str) -> None:
    document = minimal()
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = uri
    assert rule in rules_flagged(document, Limits())


def test_two_runs_with_the_same_tool_and_category_are_flagged() -> None:
    document = minimal()
    document["runs"].append(copy.deepcopy(document["runs"][0]))
    assert rules_flagged(document, Limits()) == {"TG1001"}
    document["runs"][1]["automationDetails"]["id"] = "tollgate/sast-extra/bandit/"
    assert check(document) == []


@pytest.mark.parametrize("severity", [None, 8.0, "high", "11"])
def test_rules_need_a_string_security_severity(severity: object) -> None:
    document = minimal()
    document["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] = severity
    assert rules_flagged(document, Limits()) == {"TG1002"}


def test_start_line_zero_and_missing_level_are_flagged() -> None:
    document = minimal()
    result = document["runs"][0]["results"][0]
    del result["level"]
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert rules_flagged(document, Limits()) == {"TG1004", "TG1005"}


def test_limits_on_tags_and_gzipped_size() -> None:
    document = minimal()
    document["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] = [f"t{i}" for i in range(21)]
    assert rules_flagged(document, Limits()) == {"GH1004"}
    assert "TG1006" in rules_flagged(minimal(), Limits(gzip_bytes=50))


def test_fixture_copies_match_the_shared_originals() -> None:
    shared = SHARED_SCHEMAS / "github" / "gh-rules-testdata"
    if not shared.is_dir():
        pytest.skip(f"{shared} {ABSENT}")
    for original in shared.glob("*.sarif"):
        assert (TESTDATA / original.name).read_bytes() == original.read_bytes()
