"""OWASP dependency-check facts shared by its JSON, XML and SARIF readers.

The JSON and XML parsers reduce their format to the neutral records below and call
`findings_for`; the generic SARIF reader calls `package_location` and `sarif_severity`.
So one scan read from any of the three formats gets the same fingerprints.

Decisions, in one place:
- Severity: the preferred CVSS (v4, then v3, then v2; docs/design.md), else dependency-check's
  own severity string. Never the CPE confidence. A string Tollgate does not know (dependency-check
  writes "Unknown" for NVD entries still awaiting analysis) is MEDIUM: a published
  vulnerability in a dependency is not informational just because nobody scored it yet.
- Vulnerability ids come from the vulnerability's name only (CVE-…, GHSA-…, sonatype-…).
  References are not scraped: dependency-check's SARIF carries none, and both formats must
  pick the same primary id for the same finding.
- The package is the dependency's first package identifier (the one dependency-check's SARIF
  names as the logical location); without one, the CPE product and version; else the file name.
- `relatedDependencies` are the same library found at other paths: each gets the same
  vulnerabilities at its own manifest path, with its own identifiers or else the primary's.
- Suppressed vulnerabilities stay, inactive, with the suppression's notes as the reason.
- Fixed versions are the `versionEndExcluding` bounds of the vulnerable-software ranges that
  name this dependency (the matched entry, else the same CPE product) and hold its version.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL

from normalizers.cvss import from_vector, severity_from_cvss
from normalizers.model import (
    Category,
    Confidence,
    Cvss,
    Finding,
    PackageLocation,
    Remediation,
    Severity,
    Tool,
)
from normalizers.numbers import finite_float, small_int
from normalizers.parsers.base import ParseOptions
from normalizers.parsers.paths import repo_relative
from normalizers.text import html_to_text, truncate

TOOL_NAME = "dependency-check"
DEFAULT_SUPPRESSION_REASON = "suppressed by a dependency-check suppression rule"

VULNERABILITY_ID = re.compile(
    r"\b(?:CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3}|PYSEC-\d{4}-\d+|RUSTSEC-\d{4}-\d{4}|GO-\d{4}-\d{4,}"
    r"|sonatype-\d{4}-\d+|BDSA-\d{4}-\d+)\b",
    re.IGNORECASE,
)
_CWE = re.compile(r"\bCWE-(\d+)", re.IGNORECASE)
_VERSION_TOKEN = re.compile(r"\d+|[a-z]+")
_SEVERITY_PREFIX = re.compile(r"^\s*(\w+) severity - ")  # dependency-check SARIF rule shortDescription

_LABEL_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "none": Severity.INFO,
}
_CONFIDENCE = {
    "HIGHEST": Confidence.HIGH,
    "HIGH": Confidence.HIGH,
    "MEDIUM": Confidence.MEDIUM,
    "LOW": Confidence.LOW,
}
# CVSS metric abbreviations and the dependency-check field names that hold them; the value's
# first letter is the vector's (NETWORK -> N, ADJACENT_NETWORK -> A, PARTIAL -> P, ...).
_V2_METRICS = (
    ("AV", ("accessVector",)),
    ("AC", ("accessComplexity",)),
    ("Au", ("authenticationr", "authentication")),
    ("C", ("confidentialityImpact", "confidentialImpact")),
    ("I", ("integrityImpact",)),
    ("A", ("availabilityImpact",)),
)
_V3_METRICS = (
    ("AV", ("attackVector",)),
    ("AC", ("attackComplexity",)),
    ("PR", ("privilegesRequired",)),
    ("UI", ("userInteraction",)),
    ("S", ("scope",)),
    ("C", ("confidentialityImpact",)),
    ("I", ("integrityImpact",)),
    ("A", ("availabilityImpact",)),
)


class RecordError(ValueError):
    """One record of a report cannot be read; the parser yields it as Skipped."""


@dataclass(frozen=True)
class Software:
    """One `vulnerableSoftware` entry: a CPE and the version range it covers."""

    cpe: str
    matched: bool = False
    start_including: str | None = None
    start_excluding: str | None = None
    end_including: str | None = None
    end_excluding: str | None = None
    vulnerable: bool = True  # False for a configuration's platform ("running on"), not the flawed software


@dataclass(frozen=True)
class Vulnerability:
    name: str
    source: str | None = None
    severity: str | None = None  # dependency-check's own string, e.g. "MEDIUM", "low", "Unknown"
    cvss: tuple[Cvss, ...] = ()
    cwes: tuple[int, ...] = ()
    description: str = ""
    notes: str = ""
    references: tuple[str, ...] = ()
    software: tuple[Software, ...] = ()
    suppressed: bool = False
    known_exploited: bool = False


@dataclass(frozen=True)
class Identity:
    """What a dependency (or a related dependency) is and where it was found."""

    file_path: str
    file_name: str = ""
    purls: tuple[str, ...] = ()
    cpes: tuple[str, ...] = ()
    confidence: str | None = None


@dataclass(frozen=True)
class Dependency:
    identity: Identity
    vulnerabilities: tuple[Vulnerability, ...]
    related: tuple[Identity, ...] = ()


def tool(version: str | None) -> Tool:
    return Tool(TOOL_NAME, Category.SCA, version or None)


# --- paths ---------------------------------------------------------------------------------


def manifest_path(file_path: str, source_root: str | None) -> str:
    """`/x/package-lock.json?lodash` (a virtual dependency) -> `x/package-lock.json`."""
    return repo_relative(file_path.split("?", 1)[0], source_root)


# --- values ----------------------------------------------------------------------------------


def number(value: Any) -> float | None:
    return finite_float(value)


def cwe_ids(values: Iterable[str]) -> tuple[int, ...]:
    """`CWE-79`, `CWE-400: Uncontrolled …` -> ints; `NVD-CWE-Other` and CWE-0 carry no weakness."""
    found: dict[int, None] = {}
    for value in values:
        for digits in _CWE.findall(value or ""):
            if (number_ := small_int(digits)) is not None and number_ > 0:
                found[number_] = None
    return tuple(found)


def vulnerability_ids(text: str) -> tuple[str, ...]:
    ids = (match.upper() if match[:4].upper() == "CVE-" else match for match in VULNERABILITY_ID.findall(text))
    return tuple(dict.fromkeys(ids))


def confidence(value: str | None) -> Confidence:
    return _CONFIDENCE.get((value or "").strip().upper(), Confidence.UNKNOWN)


# --- CVSS ------------------------------------------------------------------------------------


def _vector(fields: Mapping[str, Any], metrics: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    parts = []
    for abbreviation, names in metrics:
        value = next((str(fields[n]).strip() for n in names if fields.get(n) not in (None, "")), "")
        if not value:
            return None
        parts.append(f"{abbreviation}:{value[0].upper()}")
    return "/".join(parts)


def _checked(version: str, score: float, vector: str | None, source: str | None) -> Cvss:
    """The Cvss of a vector the `cvss` library accepts; else the tool's score without a vector."""
    parsed = from_vector(vector, score, source) if vector else None
    if parsed is not None and parsed.version != "unknown":
        return parsed
    return Cvss(version, score, None, source)


def _v3_version(value: Any) -> str:
    """`3.1`, `_3_1` (dependency-check SARIF) or nothing -> `3.1`/`3.0`."""
    text = str(value or "").strip("_ ").replace("_", ".")
    return text if text in ("3.0", "3.1") else "3.1"


def cvss_v2(fields: Mapping[str, Any], source: str | None) -> Cvss | None:
    score = number(fields.get("score"))
    return None if score is None else _checked("2.0", score, _vector(fields, _V2_METRICS), source)


def cvss_v3(fields: Mapping[str, Any], source: str | None) -> Cvss | None:
    score = number(fields.get("baseScore"))
    if score is None:
        return None
    version = _v3_version(fields.get("version"))
    vector = _vector(fields, _V3_METRICS)
    return _checked(version, score, f"CVSS:{version}/{vector}" if vector else None, source)


def cvss_v4(fields: Mapping[str, Any], source: str | None) -> Cvss | None:
    score = number(fields.get("baseScore"))
    vector = str(fields.get("vectorString") or "").strip() or None
    if score is None:
        parsed = from_vector(vector, None, source) if vector else None
        return parsed if parsed is not None and parsed.version == "4.0" else None
    return _checked("4.0", score, vector, source)


def cvss_all(
    v2: Mapping[str, Any] | None, v3: Mapping[str, Any] | None, v4: Mapping[str, Any] | None, source: str | None
) -> tuple[Cvss, ...]:
    found = (
        cvss_v2(v2, source) if v2 else None,
        cvss_v3(v3, source) if v3 else None,
        cvss_v4(v4, source) if v4 else None,
    )
    return tuple(c for c in found if c is not None)


def cvss_from_flat(properties: Mapping[str, Any], source: str | None) -> tuple[Cvss, ...]:
    """dependency-check SARIF properties (`cvssv3_baseScore`, `cvssv2_accessVector`, …)."""
    groups: dict[str, dict[str, Any]] = {"cvssv2_": {}, "cvssv3_": {}, "cvssv4_": {}}
    for key, value in properties.items():
        prefix = key[:7]
        if prefix in groups:
            groups[prefix][key[7:]] = value
    return cvss_all(groups["cvssv2_"], groups["cvssv3_"], groups["cvssv4_"], source)


def severity_of(cvss: tuple[Cvss, ...], label: str | None) -> Severity:
    from_score = severity_from_cvss(cvss)
    if from_score is not None:
        return from_score
    return _LABEL_SEVERITY.get((label or "").strip().lower(), Severity.MEDIUM)


def sarif_severity(
    rule: Mapping[str, Any], properties: Mapping[str, Any]
) -> tuple[Severity, str | None, tuple[Cvss, ...]]:
    """Severity of a dependency-check SARIF result, the same as its JSON report would give.

    Its CVSS sits in rule properties (12.x) or result properties (6.x); unscored
    vulnerabilities carry the string in `properties.severity` (6.x) or as the
    `<severity> severity - ` prefix of the rule's shortDescription (12.x). Its `level` is a
    constant and is ignored.
    """
    source = properties.get("source")
    cvss = cvss_from_flat(properties, str(source).lower() if source else None)
    label = properties.get("severity")
    if not isinstance(label, str):
        short = rule.get("shortDescription")
        text = short.get("text") if isinstance(short, dict) else None
        match = _SEVERITY_PREFIX.match(text) if isinstance(text, str) else None
        label = match.group(1) if match else None
    return severity_of(cvss, label), label, cvss


# --- packages --------------------------------------------------------------------------------


def _purl_name(purl: PackageURL) -> str:
    if not purl.namespace:
        return str(purl.name)
    separator = ":" if purl.type == "maven" else "/"
    return f"{purl.namespace}{separator}{purl.name}"


def maven_purl(coordinates: str) -> str | None:
    """`(org.owasp:library:6.7.8)` (schema 1.x maven identifier) -> `pkg:maven/org.owasp/library@6.7.8`."""
    parts = coordinates.strip().strip("()").split(":")
    if len(parts) != 3 or not all(parts):
        return None
    try:
        return PackageURL("maven", parts[0], parts[1], parts[2]).to_string()
    except (ValueError, TypeError):  # packageurl-python's TypeError for a part that is only `/`
        return None


def _cpe_parts(cpe: str) -> tuple[str, str, str]:
    """(vendor, product, version) of a CPE 2.3 (`cpe:2.3:a:v:p:1.0:…`) or 2.2 (`cpe:/a:v:p:1.0`) name."""
    fields = cpe.strip().split(":")
    offset = 3 if cpe.strip().startswith("cpe:2.3:") else 2
    padded = [*fields[offset : offset + 3], "", "", ""]
    return padded[0].lower(), padded[1].lower(), padded[2]


def package_location(identity: Identity, options: ParseOptions) -> PackageLocation:
    path = manifest_path(identity.file_path, options.source_root) if identity.file_path else None
    for purl_text in identity.purls:
        try:
            purl = PackageURL.from_string(purl_text.strip())
        except (ValueError, TypeError):
            continue
        return PackageLocation(_purl_name(purl), purl.version, purl_text.strip(), purl.type, path)
    for cpe in identity.cpes:
        _vendor, product, version = _cpe_parts(cpe)
        if product:
            return PackageLocation(product, version if version not in ("", "*", "-") else None, None, None, path)
    return PackageLocation(identity.file_name or (path or "unknown").rsplit("/", 1)[-1], None, None, None, path)


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, n) if (n := small_int(t)) is not None else (1, t) for t in _VERSION_TOKEN.findall(version.lower()))


def _holds(software: Software, version: str | None) -> bool:
    if not version:
        return True
    key = _version_key(version)
    if software.start_including and key < _version_key(software.start_including):
        return False
    if software.start_excluding and key <= _version_key(software.start_excluding):
        return False
    return not (software.end_excluding and key >= _version_key(software.end_excluding))


def fixed_versions(vulnerability: Vulnerability, package: PackageLocation, cpes: tuple[str, ...]) -> tuple[str, ...]:
    """Upper bounds of the ranges about this package's own versions.

    A CPE of the dependency counts only when it carries the package's version: a jar that
    bundles log4j has log4j's CPE, and log4j's fixed version is no version of that jar.
    """
    flawed = [s for s in vulnerability.software if s.vulnerable]
    matched = [s for s in flawed if s.matched]
    if not matched:
        products = {package.name.lower(), package.name.rsplit(":", 1)[-1].lower()}
        products |= {product for _, product, version in map(_cpe_parts, cpes) if version == package.version}
        matched = [s for s in flawed if _cpe_parts(s.cpe)[1] in products]
    bounds = {s.end_excluding for s in matched if s.end_excluding and _holds(s, package.version)}
    return tuple(sorted(bounds, key=_version_key))


# --- findings --------------------------------------------------------------------------------


def _title(vulnerability: Vulnerability, package: PackageLocation) -> str:
    version = f"@{package.version}" if package.version else ""
    return truncate(f"{vulnerability.name} in {package.name}{version}", 256)


def _finding(vulnerability: Vulnerability, package: PackageLocation, identity: Identity, tool_: Tool) -> Finding:
    fixed = fixed_versions(vulnerability, package, identity.cpes)
    properties = [("source", vulnerability.source)] if vulnerability.source else []
    if vulnerability.known_exploited:
        properties.append(("known_exploited", "true"))
    return Finding(
        tool=tool_,
        rule_id=vulnerability.name,
        title=_title(vulnerability, package),
        severity=severity_of(vulnerability.cvss, vulnerability.severity),
        location=dataclasses.replace(package, fixed_versions=fixed) if fixed else package,
        description=html_to_text(vulnerability.description),
        original_severity=vulnerability.severity,
        confidence=confidence(identity.confidence),
        cwe=vulnerability.cwes,
        cvss=vulnerability.cvss,
        vulnerability_ids=vulnerability_ids(vulnerability.name),
        remediation=Remediation(f"Upgrade {package.name} to {' or '.join(fixed)} or later.") if fixed else None,
        references=tuple(dict.fromkeys(vulnerability.references)),
        active=not vulnerability.suppressed,
        suppression_reason=(html_to_text(vulnerability.notes) or DEFAULT_SUPPRESSION_REASON)
        if vulnerability.suppressed
        else None,
        properties=tuple(properties),
    )


def _borrowing(related: Identity, primary: Identity) -> Identity:
    """A related dependency without identifiers is the primary's library at another path."""
    if related.purls or related.cpes:
        return related
    return dataclasses.replace(related, purls=primary.purls, cpes=primary.cpes, confidence=primary.confidence)


def findings_for(dependency: Dependency, tool_: Tool, options: ParseOptions) -> Iterator[Finding]:
    """One Finding per vulnerability per place the library was found (the dependency and its related ones)."""
    identities = [dependency.identity, *(_borrowing(r, dependency.identity) for r in dependency.related)]
    places = [(identity, package_location(identity, options)) for identity in identities]
    for vulnerability in dependency.vulnerabilities:
        for identity, package in places:
            yield _finding(vulnerability, package, identity, tool_)
