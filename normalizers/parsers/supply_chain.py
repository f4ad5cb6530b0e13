"""Tollgate's supply-chain report (`"format": "tollgate-supply-chain/1"`), written by the firewall scanner.

The format is documented in pipeline/firewall/findings_document.py; it is detected by its `format` value.
Each finding becomes a Finding on a `PackageLocation` with the manifest path and line, so SARIF
puts it on the line that declares the package, and a purl (`pkg:pypi/reqeusts`,
`pkg:npm/%40types/node@20.1.0`) built by packageurl-python (PyPI names PEP 503-normalized).
A manifest entry the firewall could not check (a path, a VCS URL, an unreadable line) becomes a
counted `Skipped` with its reason.

Rules, severities (set by the firewall and kept as written) and CWEs:

| rule | severity | CWE |
|---|---|---|
| TG-SC-BLOCKLIST | CRITICAL, or the blocklist entry's own | 1357 Reliance on Insufficiently Trustworthy Component |
| TG-SC-QUARANTINE | HIGH, or the quarantine entry's own | 1395 Dependency on Vulnerable Third-Party Component |
| TG-SC-TYPOSQUAT | HIGH for a known typo pattern, MEDIUM for fuzzy similarity or a scope copy | 1357 |
| TG-SC-CONFUSION | HIGH when an internal name is public too, MEDIUM when unpinned | 427 Uncontrolled Search Path |
| TG-SC-REPUTATION | HIGH for Red, LOW for Yellow | 1357 |
| TG-SC-RELEASE-AGE | HIGH: a version younger than the configured minimum age | 1357 |

Look-alike targets, the score and its reasons are kept in `properties` (`supply_chain.*`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from packageurl import PackageURL

from normalizers.errors import MalformedReportError, UnsupportedReportError
from normalizers.model import Category, Confidence, Finding, PackageLocation, Remediation, Severity, Skipped, Tool
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.paths import repo_relative
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

FORMAT_PREFIX = "tollgate-supply-chain/"
SUPPORTED_FORMAT = "tollgate-supply-chain/1"
TOOL_NAME = "tollgate-firewall"
ECOSYSTEMS = ("pypi", "npm")
_CWE = {
    "TG-SC-BLOCKLIST": (1357,),
    "TG-SC-QUARANTINE": (1395,),
    "TG-SC-TYPOSQUAT": (1357,),
    "TG-SC-CONFUSION": (427,),
    "TG-SC-REPUTATION": (1357,),
    "TG-SC-RELEASE-AGE": (1357,),
}
_REMEDIATION = {
    "TG-SC-BLOCKLIST": "Remove the package, or replace it with the vetted alternative your blocklist entry names.",
    "TG-SC-QUARANTINE": "Pin a version outside the quarantined range, or wait until the quarantine is lifted.",
    "TG-SC-TYPOSQUAT": "Check the spelling against the look-alike it names. If the name is intended, add it to "
                       "firewall.allowlist in .tollgate.yml with the reason.",
    "TG-SC-CONFUSION": "Pin the exact version, claim the name on the public registry, and install internal "
                       "packages only from the internal index (pip --index-url, an npm scope mapping), never with "
                       "--extra-index-url.",
    "TG-SC-REPUTATION": "Review the package before installing it: who publishes it, its source, its install scripts. "
                        "If it is trusted, add it to firewall.allowlist in .tollgate.yml with the reason.",
    "TG-SC-RELEASE-AGE": "Pin an older release, or wait until this one is older than the minimum age. If it is "
                         "needed now and has been reviewed, add it to firewall.release-age.allow with the reason.",
}
_SEVERITIES = {s.value: s for s in Severity}
_CONFIDENCES = {c.value: c for c in Confidence}


def _is_supply_chain(document: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(document, dict) and str(document.get("format", "")).startswith(FORMAT_PREFIX)


def purl_for(name: str, ecosystem: str, version: str | None) -> str | None:
    """The package's purl; None for a name packageurl-python cannot spell (`/` is TypeError there)."""
    scoped = ecosystem == "npm" and name.startswith("@") and "/" in name
    namespace, bare = name.split("/", 1) if scoped else (None, name)
    try:
        return PackageURL(type=ecosystem, namespace=namespace, name=bare, version=version).to_string()
    except (ValueError, TypeError):
        return None


def _location(package: Any, options: ParseOptions) -> PackageLocation | str:
    if not isinstance(package, dict) or not isinstance(package.get("name"), str) or not package["name"]:
        return "the finding has no package name"
    ecosystem, version, line = package.get("ecosystem"), package.get("version"), package.get("line")
    if ecosystem not in ECOSYSTEMS:
        return f"unknown ecosystem {ecosystem!r}"
    manifest = package.get("manifest")
    return PackageLocation(
        name=package["name"],
        version=version if isinstance(version, str) and version else None,
        purl=purl_for(package["name"], ecosystem, version if isinstance(version, str) and version else None),
        ecosystem=ecosystem,
        manifest_path=repo_relative(manifest, options.source_root) if isinstance(manifest, str) and manifest else None,
        manifest_line=line if isinstance(line, int) and not isinstance(line, bool) and line >= 1 else None,
    )


def _properties(record: dict[str, Any], package: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    score: dict[str, Any] = record["score"] if isinstance(record.get("score"), dict) else {}
    reasons: list[Any] = score["reasons"] if isinstance(score.get("reasons"), list) else []
    similar = record.get("similar_packages")
    pairs = (
        ("supply_chain.similar_packages", ", ".join(map(str, similar)) if isinstance(similar, list) else ""),
        ("supply_chain.declared", str(package.get("spec") or "")),
        ("supply_chain.score", str(score["points"]) if "points" in score else ""),
        ("supply_chain.risk_level", str(score.get("risk_level") or "")),
        ("supply_chain.reasons", "; ".join(f"{r.get('detail')}: +{r.get('points')}" for r in reasons
                                           if isinstance(r, dict))),
    )
    return tuple((key, value) for key, value in pairs if value)


def _finding(tool: Tool, record: Any, options: ParseOptions) -> Finding | str:
    if not isinstance(record, dict):
        return "the finding is not an object"
    rule, severity = record.get("rule_id"), _SEVERITIES.get(str(record.get("severity")))
    if not isinstance(rule, str) or rule not in _CWE or severity is None:
        return f"unknown rule {rule!r} or severity {record.get('severity')!r}"
    location = _location(record.get("package"), options)
    if isinstance(location, str):
        return location
    reference = record.get("reference") if isinstance(record.get("reference"), str) else None
    return Finding(
        tool=tool,
        rule_id=rule,
        title=str(record.get("title") or rule),
        severity=severity,
        original_severity=severity.value,
        confidence=_CONFIDENCES.get(str(record.get("confidence")), Confidence.UNKNOWN),
        location=location,
        description=str(record.get("detail") or ""),
        cwe=_CWE[rule],
        remediation=Remediation(text=_REMEDIATION[rule], url=reference),
        references=(reference,) if reference else (),
        properties=_properties(record, record["package"]),
    )


class SupplyChainParser(Parser):
    tool_id = ToolId.SUPPLY_CHAIN

    def sniff(self, report: Report) -> bool:
        return report.looks_like_json and b'"tollgate-supply-chain/' in report.head and _is_supply_chain(
            report.json_or_none())

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        document = report.json if report.looks_like_json else None  # truncated JSON: MalformedReportError
        if not _is_supply_chain(document):
            raise UnsupportedReportError(f"{report.source}: not a Tollgate supply-chain report")
        if document["format"] != SUPPORTED_FORMAT:
            raise UnsupportedReportError(f"{report.source}: supply-chain format {document['format']!r} is newer than "
                                         f"this Tollgate reads ({SUPPORTED_FORMAT})")
        findings, not_checked = document.get("findings"), document.get("not_checked") or []
        if not isinstance(findings, list) or not isinstance(not_checked, list):
            raise MalformedReportError(f"{report.source}: `findings` and `not_checked` must be lists")
        tool_info: dict[str, Any] = document["tool"] if isinstance(document.get("tool"), dict) else {}
        tool = Tool(name=TOOL_NAME, category=Category.SUPPLY_CHAIN, version=str(tool_info.get("version") or "") or None)
        for index, record in enumerate(findings):
            result = _finding(tool, record, options)
            yield Skipped(TOOL_NAME, result, f"findings[{index}]") if isinstance(result, str) else result
        for entry in not_checked:
            where = f"{entry.get('manifest')}:{entry.get('line') or '?'}" if isinstance(entry, dict) else "?"
            reason = str(entry.get("reason")) if isinstance(entry, dict) else "an unreadable entry"
            yield Skipped(TOOL_NAME, f"not checked: {reason}", where)


PARSER = SupplyChainParser()
