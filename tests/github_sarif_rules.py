"""GitHub code scanning's ingestion rules as a checker, so SARIF tests can fail for GitHub's reasons.

GH1001-GH1007 follow the SARIF SDK's GitHub policy (tests/fixtures/schemas/sarif-sdk_ValidationRules.md)
and are proven against its own `_Valid`/`_Invalid` inputs. TG rules add what an upload to GitHub
needs beyond them: relative URIs, `startLine` ≥ 1, one run per tool and category, an explicit
`level`, `security-severity` on every rule, the tag limit and the gzipped size limit.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Limits:
    """GitHub's documented limits; the SARIF SDK's tests shrink them to exercise GH1004."""

    runs: int = 20
    rules_per_run: int = 25_000
    results_per_run: int = 25_000
    locations_per_result: int = 1_000
    code_flows_per_result: int = 1_000
    locations_per_thread_flow: int = 10_000
    tags_per_rule: int = 20
    gzip_bytes: int = 10_000_000


@dataclass(frozen=True)
class Violation:
    rule: str
    pointer: str
    message: str


def check(document: dict[str, Any], limits: Limits = Limits()) -> list[Violation]:
    return [*_check_log(document, limits), *(v for i, run in enumerate(document.get("runs") or [])
                                              for v in _check_run(run, f"/runs/{i}", limits))]


def _check_log(document: dict[str, Any], limits: Limits) -> Iterator[Violation]:
    runs = document.get("runs") or []
    if len(runs) > limits.runs:
        yield Violation("GH1004", "/runs", f"{len(runs)} runs, limit {limits.runs}")
    size = len(gzip.compress(json.dumps(document, separators=(",", ":")).encode("utf-8")))
    if size > limits.gzip_bytes:
        yield Violation("TG1006", "", f"{size} bytes gzipped, limit {limits.gzip_bytes}")
    seen: dict[tuple[str, str], int] = {}
    for index, run in enumerate(runs):
        key = (run.get("tool", {}).get("driver", {}).get("name", ""), _category(run))
        if key in seen:
            yield Violation("TG1001", f"/runs/{index}", f"tool and category {key} already used by run {seen[key]}")
        seen.setdefault(key, index)


def _category(run: dict[str, Any]) -> str:
    automation_id = (run.get("automationDetails") or {}).get("id", "")
    return automation_id.rsplit("/", 1)[0] if "/" in automation_id else automation_id


def _check_run(run: dict[str, Any], pointer: str, limits: Limits) -> Iterator[Violation]:
    rules = run.get("tool", {}).get("driver", {}).get("rules") or []
    results = run.get("results") or []
    yield from _over(len(rules), limits.rules_per_run, f"{pointer}/tool/driver/rules")
    yield from _over(len(results), limits.results_per_run, f"{pointer}/results")
    for index, rule in enumerate(rules):
        yield from _check_rule(rule, f"{pointer}/tool/driver/rules/{index}", limits)
    working_directories = [
        invocation["workingDirectory"]["uri"]
        for invocation in run.get("invocations") or []
        if (invocation.get("workingDirectory") or {}).get("uri")
    ]
    for index, result in enumerate(results):
        yield from _check_result(result, f"{pointer}/results/{index}", working_directories, limits)


def _over(count: int, limit: int, pointer: str) -> Iterator[Violation]:
    if count > limit:
        yield Violation("GH1004", pointer, f"{count} elements, limit {limit}")


def _check_rule(rule: dict[str, Any], pointer: str, limits: Limits) -> Iterator[Violation]:
    properties = rule.get("properties") or {}
    severity = properties.get("security-severity")
    if not isinstance(severity, str) or not _is_score(severity):
        yield Violation("TG1002", pointer, f"security-severity {severity!r} is not a string score 0.0-10.0")
    tags = properties.get("tags") or []
    if len(tags) > limits.tags_per_rule:
        yield Violation("GH1004", f"{pointer}/properties/tags", f"{len(tags)} tags, limit {limits.tags_per_rule}")


def _is_score(text: str) -> bool:
    try:
        return 0.0 <= float(text) <= 10.0
    except ValueError:
        return False


def _check_result(result: dict[str, Any], pointer: str, roots: list[str], limits: Limits) -> Iterator[Violation]:
    message = result.get("message") or {}
    if not isinstance(message.get("text"), str):
        yield Violation("GH1007", f"{pointer}/message", "message has no fully formatted 'text'")
    if "level" not in result:
        yield Violation("TG1005", pointer, "'level' is not written out")
    locations = result.get("locations")
    if locations is None or locations == []:
        yield Violation("GH1001", pointer, "'locations' is absent or empty")
    locations = locations or []
    yield from _over(len(locations), limits.locations_per_result, f"{pointer}/locations")
    code_flows = result.get("codeFlows") or []
    yield from _over(len(code_flows), limits.code_flows_per_result, f"{pointer}/codeFlows")
    yield from _check_code_flows(code_flows, f"{pointer}/codeFlows", limits)
    for kind in ("locations", "relatedLocations"):
        for index, location in enumerate(result.get(kind) or []):
            yield from _check_location(location, f"{pointer}/{kind}/{index}", roots, primary=kind == "locations")


def _check_code_flows(code_flows: list[dict[str, Any]], pointer: str, limits: Limits) -> Iterator[Violation]:
    for flow_index, flow in enumerate(code_flows):
        for thread_index, thread in enumerate(flow.get("threadFlows") or []):
            thread_pointer = f"{pointer}/{flow_index}/threadFlows/{thread_index}/locations"
            steps = thread.get("locations") or []
            yield from _over(len(steps), limits.locations_per_thread_flow, thread_pointer)
            for step_index, step in enumerate(steps):
                if "index" in step:
                    yield Violation("GH1002", f"{thread_pointer}/{step_index}",
                                    "threadFlowLocation refers to run.threadFlowLocations by index")


def _check_location(location: dict[str, Any], pointer: str, roots: list[str], primary: bool) -> Iterator[Violation]:
    physical = location.get("physicalLocation")
    uri = ((physical or {}).get("artifactLocation") or {}).get("uri")
    if uri is None:
        yield Violation("GH1001", pointer, "'physicalLocation.artifactLocation.uri' is absent")
        return
    yield from _check_uri(uri, pointer, roots)
    if not primary:
        return
    region = (physical or {}).get("region")
    if region is None or "startLine" not in region:
        yield Violation("GH1003", pointer, "'region.startLine' is absent")
    elif not isinstance(region["startLine"], int) or region["startLine"] < 1:
        yield Violation("TG1004", pointer, f"startLine {region['startLine']!r} is not an integer ≥ 1")


def _check_uri(uri: str, pointer: str, roots: list[str]) -> Iterator[Violation]:
    scheme = urlsplit(uri).scheme.lower() if _SCHEME.match(uri) else ""
    under_root = any(uri.lower().startswith(root.lower().rstrip("/") + "/") for root in roots)
    if scheme and scheme != "file" and not under_root:
        yield Violation("GH1005", pointer, f"{uri!r} is not a file path")
    if scheme == "file" and not under_root:
        yield Violation("GH1006", pointer, f"{uri!r} is an absolute file URI outside every checkout path")
    if scheme or uri.startswith("/"):
        yield Violation("TG1003", pointer, f"{uri!r} is not a repository-relative reference")
    elif re.search(r"[\s\\]|%(?![0-9A-Fa-f]{2})", uri) or "/../" in f"/{uri}":
        yield Violation("TG1003", pointer, f"{uri!r} is not a clean percent-encoded relative path")
