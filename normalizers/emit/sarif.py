"""SARIF 2.1.0 for GitHub code scanning (docs/design.md).

Documents are plain dicts that the caller serializes with orjson. sarif-om was the other
option and it loses on both counts that matter here: it builds one Python object per SARIF
node and serializes through jschema-to-python's reflection (several times slower than dicts
plus orjson on a 50,000-result run), and it drops every value equal to the schema default,
so `level: "warning"` vanishes while GitHub's severity display needs `level` written out.

Decisions the design leaves open:
- A run is one (category, tool) pair; its `automationDetails.id` is `tollgate/<category>/<tool>/`,
  so two tools, or one tool in two categories, never share a run or a GitHub category.
- Every result has exactly one physical location with a relative, percent-encoded URI and a
  `region.startLine` ≥ 1 (GitHub rejects `https://…` and `image:tag` URIs). Findings that have
  no source line are anchored to a repository file (see `SarifOptions`) and carry a
  `primaryLocationLineHash` derived from the identity, so fifty CVEs anchored to line 1 of one
  manifest stay fifty alerts instead of collapsing into one.
- A package finding without a manifest path goes to `SarifOptions.package_location`, by default
  `.tollgate.yml`: the policy file is the one file every repository that runs Tollgate has.
- A passed compliance check (`Finding.outcome` PASS) is a result of `kind: "pass"` and `level: "none"`.
- Over a GitHub limit nothing fails: runs spill into further documents, and a run over the
  result, rule or size limits keeps its most severe results. Each cut is reported as a warning.
"""

from __future__ import annotations

import math
import posixpath
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import orjson

from normalizers import cvss as cvss_scores
from normalizers.emit.markdown import escape_markdown, markdown_link
from normalizers.identity import FINGERPRINT_KEY, fingerprint
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Cvss,
    Evidence,
    Finding,
    HostLocation,
    ImageLocation,
    Location,
    PackageLocation,
    Severity,
    Tool,
    UrlLocation,
)
from normalizers.numbers import positive_int
from normalizers.text import truncate, web_url

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOLLGATE_URI = "https://github.com/tollgate-dev/tollgate"
KEV_TAG = "known-exploited"  # on the result and its rule when a CVE is in CISA KEV
MAX_RULE_NAME = 255
_GZIP_FRAME_BYTES = 18  # gzip's header and trailer around the deflate stream (RFC 1952, no file name)
MAX_DESCRIPTION = 1024

SECURITY_SEVERITY = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 2.0,
    Severity.INFO: 0.0,
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# A scanner that states no confidence gets the neutral middle, not a claim of certainty.
PRECISION = {
    Confidence.HIGH: "high",
    Confidence.MEDIUM: "medium",
    Confidence.LOW: "low",
    Confidence.UNKNOWN: "medium",
}
_CONFIDENCE_ORDER = (Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, Confidence.UNKNOWN)
TOOL_HOMEPAGES = {
    "bandit": "https://bandit.readthedocs.io/",
    "checkov": "https://www.checkov.io/",
    "dependency-check": "https://owasp.org/www-project-dependency-check/",
    "detect-secrets": "https://github.com/Yelp/detect-secrets",
    "hadolint": "https://github.com/hadolint/hadolint",
    "lynis": "https://cisofy.com/lynis/",
    "semgrep": "https://semgrep.dev/",
    "sonarqube": "https://www.sonarsource.com/products/sonarqube/",
    "trivy": "https://trivy.dev/",
    "wapiti": "https://wapiti-scanner.github.io/",
    "zap": "https://www.zaproxy.org/",
}
_SLUG_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_WORDS = re.compile(r"[A-Za-z0-9]+")
_DOCKERFILE_FROM = re.compile(r"^\s*FROM\s", re.IGNORECASE)
_URI_SAFE = "/-._~!$&'()*+,;=@"  # ':' is encoded so a first segment never reads as a scheme


@lru_cache(maxsize=4096)
def relative_uri(path: str) -> str:
    """A repo-relative URI reference: forward slashes, no leading `/` or `./`, no `..`, percent-encoded."""
    cleaned = path.strip().replace("\\", "/")
    if not cleaned:
        return ""
    normalized = posixpath.normpath(cleaned.lstrip("/"))
    segments = [segment for segment in normalized.split("/") if segment not in ("", ".", "..")]
    return quote("/".join(segments), safe=_URI_SAFE)


@dataclass(frozen=True)
class SarifOptions:
    """Where findings without a source line are anchored, and GitHub's upload limits.

    The limits default to GitHub's documented ones; a result always has exactly one location,
    so the 1,000-locations-per-result limit cannot be reached and has no knob.
    """

    dast_location: str = ".tollgate.yml"
    image_location: str = "Dockerfile"
    host_location: str = "inventory/hosts.yml"
    package_location: str = ".tollgate.yml"
    image_from_line: int | None = None
    max_runs_per_document: int = 20
    max_results_per_run: int = 25_000
    max_rules_per_run: int = 25_000
    max_tags_per_rule: int = 20
    max_gzip_bytes: int = 10_000_000

    def __post_init__(self) -> None:
        for name in ("dast_location", "image_location", "host_location", "package_location"):
            if not relative_uri(getattr(self, name)):
                raise ValueError(f"SarifOptions.{name} must name a file in the repository, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class SarifEmission:
    documents: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Anchor:
    uri: str
    region: dict[str, Any]
    on_source_line: bool  # the region is the problem's own line, not a stand-in


def emit_sarif(
    findings: Iterable[Finding], options: SarifOptions = SarifOptions(), tools: Iterable[Tool] = ()
) -> SarifEmission:
    """SARIF documents for one upload each; `tools` adds empty runs for tools that found nothing.

    An empty run matters: uploading it for a category closes the alerts that run had before.
    """
    warnings: list[str] = []
    groups = _group_runs(findings, tools)
    runs = [_build_run(*groups[key], options, warnings) for key in sorted(groups)]
    documents = _pack_documents(runs, options, warnings)
    return SarifEmission(tuple(documents), tuple(warnings))


def dockerfile_from_line(dockerfile_text: str) -> int | None:
    """The 1-based line of the last `FROM`: the final stage is the image that ships."""
    found = None
    for number, line in enumerate(dockerfile_text.splitlines(), start=1):
        if _DOCKERFILE_FROM.match(line):
            found = number
    return found


def automation_id(tool: Tool) -> str:
    return f"tollgate/{tool.category.value}/{tool_slug(tool.name)}/"


def tool_slug(name: str) -> str:
    return _SLUG_UNSAFE.sub("-", name.lower()).strip("-") or "tool"


_RunKey = tuple[str, str]  # (category, tool slug): one run, one automationDetails.id


def _run_key(tool: Tool) -> _RunKey:
    return tool.category.value, tool_slug(tool.name)


def _group_runs(findings: Iterable[Finding], tools: Iterable[Tool]) -> dict[_RunKey, tuple[Tool, list[Finding]]]:
    named = {_run_key(tool): tool for tool in tools}
    members: dict[_RunKey, list[Finding]] = {key: [] for key in named}
    for finding in findings:
        members.setdefault(_run_key(finding.tool), []).append(finding)
    return {key: (named.get(key) or _reported_tool(group), group) for key, group in members.items()}


def _reported_tool(group: list[Finding]) -> Tool:
    """The tool as its findings name it, preferring one that states its version."""
    return next((finding.tool for finding in group if finding.tool.version), group[0].tool)


def _build_run(tool: Tool, findings: list[Finding], options: SarifOptions, warnings: list[str]) -> dict[str, Any]:
    run_id = automation_id(tool)
    kept = _most_severe(findings, options, warnings, run_id)
    by_rule: dict[str, list[Finding]] = {}
    for finding in kept:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    rules = [_rule(rule_id, members, options) for rule_id, members in by_rule.items()]
    over_tags = sum(1 for members in by_rule.values() if len(_tags(members)) > options.max_tags_per_rule)
    if over_tags:
        warnings.append(f"SARIF run {run_id}: {over_tags} rules had more than {options.max_tags_per_rule} tags; "
                        "the extra CWE tags were left out")
    index = {rule_id: position for position, rule_id in enumerate(by_rule)}
    driver: dict[str, Any] = {"name": tool.name}
    if tool.version:
        driver["version"] = tool.version
    driver["informationUri"] = TOOL_HOMEPAGES.get(tool_slug(tool.name), TOLLGATE_URI)
    driver["rules"] = rules
    return {
        "tool": {"driver": driver},
        "automationDetails": {"id": run_id},
        "columnKind": "utf16CodeUnits",
        "results": [_result(finding, index[finding.rule_id], options) for finding in kept],
        "properties": {"category": tool.category.value},
    }


def _most_severe(findings: list[Finding], options: SarifOptions, warnings: list[str], run_id: str) -> list[Finding]:
    """All findings when they fit; else the most severe within the result and rule limits, in input order."""
    rules = {finding.rule_id for finding in findings}
    if len(findings) <= options.max_results_per_run and len(rules) <= options.max_rules_per_run:
        return findings
    ranked = sorted(range(len(findings)), key=lambda i: -findings[i].severity.rank)
    chosen: list[int] = []
    kept_rules: set[str] = set()
    for i in ranked:
        if len(chosen) == options.max_results_per_run:
            break
        rule_id = findings[i].rule_id
        if rule_id not in kept_rules and len(kept_rules) == options.max_rules_per_run:
            continue
        kept_rules.add(rule_id)
        chosen.append(i)
    chosen.sort()
    warnings.append(
        f"SARIF run {run_id}: kept the {len(chosen)} most severe of {len(findings)} results "
        f"(GitHub accepts {options.max_results_per_run} results and {options.max_rules_per_run} rules per run)"
    )
    return [findings[i] for i in chosen]


def _rule(rule_id: str, members: list[Finding], options: SarifOptions) -> dict[str, Any]:
    lead = min(members, key=lambda f: -f.severity.rank)  # the first of the most severe
    title = lead.title.strip() or rule_id
    description = lead.description.strip() or title
    rule: dict[str, Any] = {"id": rule_id}
    name = _pascal_case(title)[:MAX_RULE_NAME]
    if name and name != rule_id:  # SARIF1001: a name equal to the id must be left out
        rule["name"] = name
    rule["shortDescription"] = {"text": truncate(title, MAX_DESCRIPTION)}
    rule["fullDescription"] = {"text": truncate(description, MAX_DESCRIPTION)}
    rule["defaultConfiguration"] = {"level": LEVEL[lead.severity]}
    help_url = _help_url(lead)
    if help_url:
        rule["helpUri"] = help_url
    rule["help"] = {"text": _help_text(lead, title, description), "markdown": _help_markdown(lead, title, description)}
    rule["properties"] = {
        "tags": _tags(members)[: options.max_tags_per_rule],
        "security-severity": f"{max(security_severity(f) for f in members):.1f}",
        "precision": PRECISION[min((f.confidence for f in members), key=_CONFIDENCE_ORDER.index)],
    }
    return rule


def security_severity(finding: Finding) -> float:
    """The preferred CVSS base score where there is one, else the severity's stand-in score."""
    chosen = cvss_scores.best(finding.cvss)
    if chosen is None or not math.isfinite(chosen.score):
        return SECURITY_SEVERITY[finding.severity]
    return min(max(chosen.score, 0.0), 10.0)


def _tags(members: list[Finding]) -> list[str]:
    cwes = sorted({cwe for finding in members for cwe in finding.cwe})
    kev = [KEV_TAG] if any(finding.kev for finding in members) else []
    return ["security", members[0].category.value, *kev, *(f"CWE-{cwe}" for cwe in cwes)]


def _pascal_case(text: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in _WORDS.findall(text))


def _help_url(finding: Finding) -> str | None:
    candidates = [finding.remediation.url] if finding.remediation and finding.remediation.url else []
    candidates += finding.references
    return next((url for url in map(web_url, candidates) if url), None)


def _help_text(finding: Finding, title: str, description: str) -> str:
    parts = [title, description] if description != title else [title]
    if finding.remediation and finding.remediation.text:
        parts.append(f"Remediation: {finding.remediation.text}")
    if finding.references:
        parts.append("References:\n" + "\n".join(f"- {url}" for url in finding.references))
    return "\n\n".join(parts)


def _help_markdown(finding: Finding, title: str, description: str) -> str:
    parts = [f"**{escape_markdown(title)}**"]
    if description != title:
        parts.append(escape_markdown(description))
    if finding.remediation and finding.remediation.text:
        parts.append(f"**Remediation:** {escape_markdown(finding.remediation.text)}")
    if finding.references:
        parts.append("**References**\n\n" + "\n".join(f"- {markdown_link(url)}" for url in finding.references))
    return "\n\n".join(parts)


def _result(finding: Finding, rule_index: int, options: SarifOptions) -> dict[str, Any]:
    anchor = _anchor(finding, options)
    identity = finding.fingerprint or fingerprint(finding)
    fingerprints = {FINGERPRINT_KEY: identity}
    if not anchor.on_source_line:
        fingerprints["primaryLocationLineHash"] = f"{identity[:16]}:1"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity] if finding.is_problem else "none",
        "message": {"text": _escape_message(_message(finding))},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": anchor.uri}, "region": anchor.region}}],
        "partialFingerprints": fingerprints,
        "properties": _result_properties(finding),
    }
    if not finding.is_problem:
        result["kind"] = finding.outcome.value  # "pass", SARIF's own word; its level is "none" (§3.27.9)
    related = _related_locations(finding)
    if related:
        result["relatedLocations"] = related
    if not finding.active:
        reason = finding.suppression_reason or f"suppressed or resolved in {finding.tool.name}"
        result["suppressions"] = [{"kind": "external", "justification": reason}]
    return result


def _related_locations(finding: Finding) -> list[dict[str, Any]]:
    """Where each other tool of a merged finding reported the problem (SARIF §3.27.22)."""
    related = []
    for index, evidence in enumerate(finding.evidence, start=1):
        uri, start, end = relative_uri(evidence.path or ""), positive_int(evidence.start_line), positive_int(
            evidence.end_line)
        if not uri or start is None:
            continue
        region: dict[str, Any] = {"startLine": start}
        if end and end > start:
            region["endLine"] = end
        related.append({
            "id": index,
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": region},
            "message": {"text": _escape_message(f"{evidence.tool} {evidence.rule_id}: {evidence.title}")},
        })
    return related


def _anchor(finding: Finding, options: SarifOptions) -> _Anchor:
    location = finding.location
    if isinstance(location, CodeLocation):
        # A secret's snippet is the secret: it never goes into an upload that every reader of the repo sees.
        return _code_anchor(location, options, with_snippet=finding.category is not Category.SECRETS)
    if isinstance(location, PackageLocation):
        manifest = relative_uri(location.manifest_path or "")
        line = positive_int(location.manifest_line)
        return _Anchor(manifest or relative_uri(options.package_location), {"startLine": line or 1},
                       bool(manifest and line))
    if isinstance(location, ImageLocation):
        return _Anchor(relative_uri(options.image_location), {"startLine": max(options.image_from_line or 1, 1)},
                       False)
    if isinstance(location, UrlLocation):
        return _Anchor(relative_uri(options.dast_location), {"startLine": 1}, False)
    if isinstance(location, HostLocation):
        return _Anchor(relative_uri(options.host_location), {"startLine": 1}, False)
    raise TypeError(f"unknown location type {type(location).__name__}")


def _code_anchor(location: CodeLocation, options: SarifOptions, with_snippet: bool) -> _Anchor:
    uri = relative_uri(location.path) or relative_uri(options.package_location)
    # Lines and columns through positive_int: a bool or a 0 from a report is no position.
    start_line, end_line_given = positive_int(location.start_line), positive_int(location.end_line)
    start_column, end_column = positive_int(location.start_column), positive_int(location.end_column)
    has_line = start_line is not None
    start = start_line or 1
    region: dict[str, Any] = {"startLine": start}
    if start_column:
        region["startColumn"] = start_column
    end_line = end_line_given if end_line_given and end_line_given >= start else start
    if end_line != start:
        region["endLine"] = end_line
    if end_column and (end_line != start or end_column >= (start_column or 1)):
        region["endColumn"] = end_column
    if with_snippet and location.snippet and location.snippet.strip():
        region["snippet"] = {"text": location.snippet}
    return _Anchor(uri, region, has_line)


def _message(finding: Finding) -> str:
    base = finding.title.strip() or finding.rule_id
    text = base + _location_phrase(finding.location)
    if finding.confirmed_by:
        text += f". Also reported by {', '.join(finding.confirmed_by)}"
    return text


def _location_phrase(location: Location) -> str:
    if isinstance(location, PackageLocation):
        return f" in {_package_phrase(location)}"
    if isinstance(location, ImageLocation):
        package = f", package {_package_phrase(location.package)}" if location.package else ""
        return f" in image {location.reference}{package}"
    if isinstance(location, UrlLocation):
        parameter = f", parameter '{location.parameter}'" if location.parameter else ""
        return f" at {(location.method or 'GET').upper()} {location.url}{parameter}"
    if isinstance(location, HostLocation):
        instance = f" (instance {location.instance_id})" if location.instance_id else ""
        return f" on host {location.host}{instance}"
    return ""


def _package_phrase(package: PackageLocation) -> str:
    version = f" {package.version}" if package.version else ""
    fixed = f" (fixed in {', '.join(package.fixed_versions)})" if package.fixed_versions else ""
    return f"{package.name}{version}{fixed}"


def _escape_message(text: str) -> str:
    """SARIF §3.11.6: literal `[`/`]` in plain text are escaped so no viewer reads an embedded link."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _result_properties(finding: Finding) -> dict[str, Any]:
    properties: dict[str, Any] = {"category": finding.category.value, "severity": finding.severity.value}
    optional: dict[str, Any] = {
        "originalSeverity": finding.original_severity,
        "confidence": finding.confidence.value if finding.confidence is not Confidence.UNKNOWN else None,
        "confirmedBy": list(finding.confirmed_by),
        "evidence": [_evidence_dict(e) for e in finding.evidence],
        "cwe": list(finding.cwe),
        "cvss": [_cvss_dict(c) for c in finding.cvss],
        "vulnerabilityIds": list(finding.vulnerability_ids),
        **_location_properties(finding.location),
    }
    properties.update({key: value for key, value in optional.items() if value})
    if finding.kev:
        properties["tags"] = [KEV_TAG]
        properties["kev"] = {"cve": finding.kev.cve, "dateAdded": finding.kev.date_added,
                             "dueDate": finding.kev.due_date, "knownRansomwareCampaignUse": finding.kev.ransomware}
    if finding.epss:
        properties["epss"] = {"cve": finding.epss.cve, "probability": finding.epss.probability,
                              "percentile": finding.epss.percentile, "scoreDate": finding.epss.score_date,
                              "modelVersion": finding.epss.model_version}
    return properties


def _evidence_dict(evidence: Evidence) -> dict[str, Any]:
    entry = {"tool": evidence.tool, "ruleId": evidence.rule_id, "title": evidence.title,
             "severity": evidence.severity.value, "description": evidence.description}
    return {k: v for k, v in entry.items() if v}


def _cvss_dict(score: Cvss) -> dict[str, Any]:
    entry: dict[str, Any] = {"version": score.version}
    if math.isfinite(score.score):  # orjson would write NaN as null
        entry["score"] = score.score
    if score.vector and score.vector.strip():
        entry["vector"] = score.vector
    if score.source:
        entry["source"] = score.source
    return entry


def _location_properties(location: Location) -> dict[str, Any]:
    if isinstance(location, UrlLocation):
        return {"url": location.url, "method": (location.method or "GET").upper(), "parameter": location.parameter}
    if isinstance(location, PackageLocation):
        return {"package": _package_dict(location)}
    if isinstance(location, ImageLocation):
        image = {"reference": location.reference, "digest": location.digest, "layer": location.layer}
        package = _package_dict(location.package) if location.package else None
        return {"image": {k: v for k, v in image.items() if v}, "package": package}
    if isinstance(location, HostLocation):
        host = {"host": location.host, "instanceId": location.instance_id, "testId": location.test_id,
                "group": location.group}
        return {"host": {k: v for k, v in host.items() if v}}
    return {}


def _package_dict(package: PackageLocation) -> dict[str, Any]:
    entry = {"name": package.name, "version": package.version, "purl": package.purl,
             "ecosystem": package.ecosystem, "fixedVersions": list(package.fixed_versions)}
    return {k: v for k, v in entry.items() if v}


def _document(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": runs}


def _pack_documents(runs: list[dict[str, Any]], options: SarifOptions, warnings: list[str]) -> list[dict[str, Any]]:
    """At most `max_runs_per_document` runs per document, each document under the gzip limit."""
    if not runs:
        return [_document([])]
    step = options.max_runs_per_document
    chunks = [runs[i : i + step] for i in range(0, len(runs), step)]
    if len(chunks) > 1:
        warnings.append(f"SARIF: {len(runs)} runs exceed GitHub's {step} runs per file; "
                        f"wrote {len(chunks)} documents, upload each one")
    documents: list[dict[str, Any]] = []
    for chunk in chunks:
        documents += _split_by_size(chunk, options, warnings)
    return documents


def _split_by_size(runs: list[dict[str, Any]], options: SarifOptions, warnings: list[str]) -> list[dict[str, Any]]:
    document = _document(runs)
    if _fits(document, options):
        return [document]
    if len(runs) > 1:
        middle = len(runs) // 2
        warnings.append(f"SARIF: a document over {options.max_gzip_bytes} bytes gzipped was split in two")
        return _split_by_size(runs[:middle], options, warnings) + _split_by_size(runs[middle:], options, warnings)
    return [_document([_shrink_run(runs[0], options, warnings)])]


def _fits(document: dict[str, Any], options: SarifOptions) -> bool:
    raw = orjson.dumps(document)
    if len(raw) <= options.max_gzip_bytes:  # gzip never grows JSON text past its raw size
        return True
    # Level 1 compresses worse than the uploader's default level, so this estimate errs on the safe side. The size
    # is gzip's (a 10-byte header and an 8-byte trailer around raw deflate) without computing its checksum.
    deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, as gzip wraps it
    return len(deflate.compress(raw)) + len(deflate.flush()) + _GZIP_FRAME_BYTES <= options.max_gzip_bytes


def _shrink_run(run: dict[str, Any], options: SarifOptions, warnings: list[str]) -> dict[str, Any]:
    """Halve the results, keeping the most severe, until the run alone fits the size limit."""
    results = run["results"]
    order = sorted(range(len(results)), key=lambda i: -Severity(results[i]["properties"]["severity"]).rank)
    keep = len(results)
    trimmed = run
    while keep > 0:
        keep //= 2
        trimmed = _with_results(run, sorted(order[:keep]))
        if _fits(_document([trimmed]), options):
            break
    warnings.append(f"SARIF run {run['automationDetails']['id']}: kept the {keep} most severe of "
                    f"{len(results)} results to stay under {options.max_gzip_bytes} bytes gzipped")
    return trimmed


def _with_results(run: dict[str, Any], chosen: list[int]) -> dict[str, Any]:
    """The run with only the chosen results and the rules they use, re-indexed."""
    results = [run["results"][i] for i in chosen]
    rules = run["tool"]["driver"]["rules"]
    used = sorted({result["ruleIndex"] for result in results})
    new_index = {old: new for new, old in enumerate(used)}
    driver = {**run["tool"]["driver"], "rules": [rules[i] for i in used]}
    return {
        **run,
        "tool": {**run["tool"], "driver": driver},
        "results": [{**result, "ruleIndex": new_index[result["ruleIndex"]]} for result in results],
    }
