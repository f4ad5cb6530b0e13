"""OCSF 1.6.0 finding events for Security Lake, SIEMs and the new Security Hub (docs/ocsf.md).

Events are plain dicts, one per Finding, serialized by the caller as a JSON array. The class
follows what the finding is about (`ocsf_class`):

- Vulnerability Finding (2002): anything naming an advisory (CVE, GHSA, an SCA tool's own
  advisory), and package findings with a weakness (a typosquat or quarantined dependency);
- Data Security Finding (2006): secrets; OCSF names "Secrets Management" among that class's
  producers and classifies credentials as data category 6, "Security";
- Application Security Posture Finding (2007): SAST and DAST findings in code or on a URL;
- Compliance Finding (2003): the rest, a check that failed on IaC, a Dockerfile, an image's
  configuration, a host, or a licence policy; a passed check of a host audit (compliance status Pass,
  with the guideline item in `compliance.requirements`).

The identity is the Finding's (`finding_info.uid` is the fingerprint), severities map one to
one onto `severity_id`, and the place is kept twice: in the class's own object where OCSF has one
(`affected_code`, `affected_packages`, `file`) and always as `resources[]` with the scope.
Text arrives redacted (normalizers.redact runs before every emitter); snippets, attack strings
and evidence are never written, so no secret value can reach an event.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from normalizers import __version__, kisa
from normalizers.identity import identified, primary_vulnerability_id
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Cvss,
    Finding,
    HostLocation,
    ImageLocation,
    Outcome,
    PackageLocation,
    Scope,
    Severity,
    UrlLocation,
)

OCSF_VERSION = "1.6.0"
FINDINGS_CATEGORY = 2
CREATE_ACTIVITY = 1


class OcsfClass(enum.IntEnum):
    VULNERABILITY_FINDING = 2002
    COMPLIANCE_FINDING = 2003
    DATA_SECURITY_FINDING = 2006
    APPLICATION_SECURITY_POSTURE_FINDING = 2007

    @property
    def caption(self) -> str:
        return self.name.replace("_", " ").title()


SEVERITY_ID = {Severity.INFO: 1, Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4, Severity.CRITICAL: 5}
SEVERITY_CAPTION = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
CONFIDENCE_ID = {Confidence.UNKNOWN: 0, Confidence.LOW: 1, Confidence.MEDIUM: 2, Confidence.HIGH: 3}
STATUS_NEW, STATUS_SUPPRESSED = 1, 3
COMPLIANCE_STATUS_ID = {Outcome.PASS: 1, Outcome.FAIL: 3}  # compliance.status_id; a passed check is still class 2003
COMPLIANCE_STATUS_CAPTION = {1: "Pass", 3: "Fail"}
ANALYTIC_RULE = 1
REGULAR_FILE = 1
DATA_CATEGORY_SECURITY = 6  # "passwords, API keys, credentials and similar secrets"
DATA_AT_REST = 1
DEVELOPER_SECURITY = 11  # data_security.detection_system_id: code and repository scanners
_ADVISORY_PREFIXES = ("CVE-", "GHSA-")
_APPSEC = frozenset({Category.SAST, Category.DAST})


@dataclass(frozen=True)
class OcsfContext:
    scope: Scope
    product_name: str = "Tollgate"
    now: str | None = None  # RFC 3339; fixed in tests, the wall clock otherwise


def emit_ocsf(findings: Iterable[Finding], context: OcsfContext) -> list[dict[str, Any]]:
    """One OCSF event per Finding, in the order given."""
    time = _epoch_millis(context.now)
    return [_event(finding, context, time) for finding in findings]


def ocsf_class(finding: Finding) -> OcsfClass:
    """The one place that decides a finding's class (docs/ocsf.md explains each choice)."""
    if finding.category is Category.SECRETS:
        return OcsfClass.DATA_SECURITY_FINDING
    if _advisory_id(finding) or finding.category is Category.SCA or (finding.package and finding.cwe):
        return OcsfClass.VULNERABILITY_FINDING
    if finding.category in _APPSEC:
        return OcsfClass.APPLICATION_SECURITY_POSTURE_FINDING
    return OcsfClass.COMPLIANCE_FINDING


def _epoch_millis(value: str | None) -> int:
    if value is None:
        return int(datetime.now(timezone.utc).timestamp() * 1000)
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return int(parsed.timestamp() * 1000)


def _event(finding: Finding, context: OcsfContext, time: int) -> dict[str, Any]:
    finding = identified(finding)
    klass = ocsf_class(finding)
    severity_id = SEVERITY_ID[finding.severity]
    event: dict[str, Any] = {
        "category_uid": FINDINGS_CATEGORY,
        "category_name": "Findings",
        "class_uid": int(klass),
        "class_name": klass.caption,
        "activity_id": CREATE_ACTIVITY,
        "activity_name": "Create",
        "type_uid": int(klass) * 100 + CREATE_ACTIVITY,
        "type_name": f"{klass.caption}: Create",
        "time": time,
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTION[severity_id],
        "confidence_id": CONFIDENCE_ID[finding.confidence],
        "status_id": STATUS_NEW if finding.active else STATUS_SUPPRESSED,
        "status": "New" if finding.active else "Suppressed",
        "metadata": _metadata(context),
        "finding_info": _finding_info(finding),
        "resources": _resources(finding, context.scope),
    }
    if not finding.active:
        event["status_detail"] = finding.suppression_reason or "reported inactive by the tool"
    if finding.message:
        event["message"] = finding.message
    unmapped = _unmapped(finding)
    if unmapped:
        event["unmapped"] = unmapped
    event.update(_CLASS_BODY[klass](finding, context.scope))
    return event


def _metadata(context: OcsfContext) -> dict[str, Any]:
    product = {"name": context.product_name, "vendor_name": context.product_name, "version": __version__}
    return {"version": OCSF_VERSION, "product": product}


def _finding_info(finding: Finding) -> dict[str, Any]:
    info: dict[str, Any] = {
        "uid": finding.fingerprint,
        "title": _title(finding),
        "types": [finding.category.value],
        "analytic": {"type_id": ANALYTIC_RULE, "type": "Rule", "uid": finding.rule_id, "name": _title(finding)},
        "product": _compact({"name": finding.tool.name, "version": finding.tool.version}),
        "data_sources": list(dict.fromkeys((finding.tool.name, *finding.confirmed_by))),
    }
    if finding.description.strip():
        info["desc"] = finding.description.strip()
    if finding.evidence:
        info["related_analytics"] = [
            {"type_id": ANALYTIC_RULE, "type": "Rule", "uid": e.rule_id, "name": e.title or e.rule_id}
            for e in finding.evidence
        ]
    return info


def _unmapped(finding: Finding) -> dict[str, Any]:
    """Tollgate's own facts that no OCSF attribute holds."""
    fields = {
        "tollgate_category": finding.category.value,
        "original_severity": finding.original_severity,
        "properties": dict(finding.properties) or None,
        "kev": {"cve": finding.kev.cve, "date_added": finding.kev.date_added, "due_date": finding.kev.due_date,
                "known_ransomware_campaign_use": finding.kev.ransomware} if finding.kev else None,
    }
    return _compact(fields)


# --- where the finding is ---------------------------------------------------------------------

def _resources(finding: Finding, scope: Scope) -> list[dict[str, Any]]:
    location = finding.location
    if isinstance(location, UrlLocation):
        return [_compact({"type": "URL", "uid": _url_without_query(location.url), "name": urlsplit(location.url).netloc,
                          "data": _compact({"method": (location.method or "GET").upper(),
                                            "parameter": location.parameter}) or None})]
    if isinstance(location, HostLocation):
        return [_compact({"type": location.group or "Host", "uid": location.instance_id or location.host,
                          "name": location.host, "data": _compact({"test_id": location.test_id}) or None})]
    if isinstance(location, ImageLocation):
        image = _compact({"type": "Container Image", "uid": location.digest or location.reference,
                          "name": location.reference, "data": _compact({"layer": location.layer}) or None})
        return [image, *([_package_resource(location.package)] if location.package else [])]
    repository = _compact({"type": "Code Repository", "uid": scope.repository, "name": scope.repository,
                           "data": _compact({"environment": scope.environment, "branch": scope.branch,
                                             "commit": scope.commit}) or None})
    if isinstance(location, PackageLocation):
        return [repository, _package_resource(location)]
    return [repository, _file_resource(location)]


def _file_resource(location: CodeLocation) -> dict[str, Any]:
    data = _compact({"path": location.path, "start_line": location.start_line, "end_line": location.end_line,
                     "start_column": location.start_column, "end_column": location.end_column,
                     "resource": location.resource})
    return {"type": "File", "uid": location.path, "name": location.resource or location.path, "data": data}


def _package_resource(package: PackageLocation) -> dict[str, Any]:
    data = _compact({"purl": package.purl, "ecosystem": package.ecosystem, "manifest_path": package.manifest_path,
                     "manifest_line": package.manifest_line})
    return _compact({"type": "Package", "uid": package.purl or package.name, "name": package.name,
                     "version": package.version, "data": data or None})


def _url_without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", "")) if parts.netloc else url


def _file(path: str) -> dict[str, Any]:
    return {"name": path.rstrip("/").rsplit("/", 1)[-1] or path, "path": path, "type_id": REGULAR_FILE,
            "type": "Regular File"}


# --- the class-specific body ------------------------------------------------------------------

def _vulnerability_body(finding: Finding, scope: Scope) -> dict[str, Any]:
    return {"vulnerabilities": [_vulnerability(finding)]}


def _appsec_body(finding: Finding, scope: Scope) -> dict[str, Any]:
    location = finding.location
    if isinstance(location, UrlLocation):
        parts = urlsplit(location.url)
        site = urlunsplit((parts.scheme, parts.netloc, "/", "", "")) if parts.netloc else location.url
        application = {"name": parts.netloc or location.url, "uid": site, "url": {"url_string": location.url}}
    else:
        application = {"name": scope.repository, "uid": scope.repository}
    body: dict[str, Any] = {"application": application}
    if _advisory_id(finding) or finding.cwe:
        body["vulnerabilities"] = [_vulnerability(finding)]
    remediation = _remediation(finding)
    if remediation:
        body["remediation"] = remediation
    return body


def _compliance_body(finding: Finding, scope: Scope) -> dict[str, Any]:
    status_id = COMPLIANCE_STATUS_ID[finding.outcome]
    status = {"status_id": status_id, "status": COMPLIANCE_STATUS_CAPTION[status_id]}
    check = {"uid": finding.rule_id, "name": _title(finding), "severity_id": SEVERITY_ID[finding.severity], **status}
    compliance: dict[str, Any] = {"control": finding.rule_id, **status, "checks": [check]}
    requirement = kisa.requirement(finding.properties)
    if requirement:
        compliance["requirements"] = [requirement]
    body: dict[str, Any] = {"compliance": compliance}
    remediation = _remediation(finding)
    if remediation:
        body["remediation"] = remediation
    return body


def _data_security_body(finding: Finding, scope: Scope) -> dict[str, Any]:
    data_security = {
        "category_id": DATA_CATEGORY_SECURITY,
        "category": "Security",
        "data_lifecycle_state_id": DATA_AT_REST,
        "data_lifecycle_state": "Data at-Rest",
        "detection_system_id": DEVELOPER_SECURITY,
        "detection_system": "Developer Security",
        "detection_pattern": finding.rule_id,
    }
    body: dict[str, Any] = {"data_security": data_security}
    if isinstance(finding.location, CodeLocation) and finding.location.path:
        body["file"] = _file(finding.location.path)
    return body


_CLASS_BODY = {
    OcsfClass.VULNERABILITY_FINDING: _vulnerability_body,
    OcsfClass.COMPLIANCE_FINDING: _compliance_body,
    OcsfClass.DATA_SECURITY_FINDING: _data_security_body,
    OcsfClass.APPLICATION_SECURITY_POSTURE_FINDING: _appsec_body,
}


def _advisory_id(finding: Finding) -> str | None:
    """The advisory a finding names, in its own spelling; None when it names none."""
    if not finding.vulnerability_ids:
        return None
    upper = primary_vulnerability_id(finding)
    if not upper.startswith(_ADVISORY_PREFIXES):
        return finding.vulnerability_ids[0]
    return next((v for v in finding.vulnerability_ids if v.upper() == upper), upper)


def _vulnerability(finding: Finding) -> dict[str, Any]:
    """Exactly one of `cve`, `advisory` or `cwe` (the schema's just_one), with the place it affects."""
    primary = _advisory_id(finding)
    severity = SEVERITY_CAPTION[SEVERITY_ID[finding.severity]]
    vulnerability: dict[str, Any] = {"title": _title(finding), "severity": severity, "vendor_name": finding.tool.name}
    if finding.description.strip():
        vulnerability["desc"] = finding.description.strip()
    if primary and primary.upper().startswith("CVE-"):
        vulnerability["cve"] = _cve(finding, primary.upper())
    elif primary or not finding.cwe:
        # An SCA tool's own id (GHSA, PYSEC, OSV, a retire.js rule) is the advisory it reports.
        vulnerability["advisory"] = _compact({"uid": primary or finding.rule_id, "title": _title(finding)})
    else:
        vulnerability["cwe"] = _cwe(finding.cwe[0])
    related = [v for v in finding.vulnerability_ids if v != primary]
    if related:
        vulnerability["related_vulnerabilities"] = related
    package = finding.package
    if package and package.version:
        vulnerability["affected_packages"] = [_affected_package(package)]
    if package:
        vulnerability["is_fix_available"] = bool(package.fixed_versions)
    if finding.kev:  # CISA KEV: exploited in the wild; the dates are in `unmapped.kev`
        vulnerability["is_exploit_available"] = True
    if isinstance(finding.location, CodeLocation) and finding.location.path:
        vulnerability["affected_code"] = [_affected_code(finding, finding.location)]
    references = _urls(finding.references)
    if references:
        vulnerability["references"] = references
    remediation = _remediation(finding)
    if remediation:
        vulnerability["remediation"] = remediation
    return vulnerability


def _cve(finding: Finding, uid: str) -> dict[str, Any]:
    cve: dict[str, Any] = {"uid": uid}
    scores = [_cvss(score) for score in finding.cvss if score.version != "unknown"]
    if scores:
        cve["cvss"] = scores
    if finding.cwe:
        cve["related_cwes"] = [_cwe(cwe) for cwe in finding.cwe]
    if finding.epss and finding.epss.cve == uid:  # OCSF's epss belongs to this CVE, not to a related one
        cve["epss"] = {"score": f"{finding.epss.probability:g}", "percentile": finding.epss.percentile,
                       "version": finding.epss.model_version}
    return cve


def _cwe(number: int) -> dict[str, str]:
    return {"uid": f"CWE-{number}", "src_url": f"https://cwe.mitre.org/data/definitions/{number}.html"}


def _cvss(score: Cvss) -> dict[str, Any]:
    return _compact({"version": score.version, "base_score": float(score.score), "vector_string": score.vector,
                     "vendor_name": score.source})


def _affected_package(package: PackageLocation) -> dict[str, Any]:
    return _compact({
        "name": package.name,
        "version": package.version,
        "purl": package.purl,
        "package_manager": package.ecosystem,
        "fixed_in_version": ", ".join(package.fixed_versions) or None,
        "path": package.manifest_path,
    })


def _affected_code(finding: Finding, location: CodeLocation) -> dict[str, Any]:
    code: dict[str, Any] = {"file": _file(location.path), "rule": {"uid": finding.rule_id, "name": _title(finding)}}
    if location.start_line:
        code["start_line"] = location.start_line
        code["end_line"] = max(location.end_line or location.start_line, location.start_line)
    if location.start_column:
        code["start_column"] = location.start_column
    if location.end_column:
        code["end_column"] = location.end_column
    return code


def _remediation(finding: Finding) -> dict[str, Any] | None:
    package = finding.package
    text = finding.remediation.text.strip() if finding.remediation and finding.remediation.text else ""
    if not text and package and package.fixed_versions:
        text = f"Upgrade {package.name} to {', '.join(package.fixed_versions)}."
    url = finding.remediation.url if finding.remediation and finding.remediation.url else None
    if not text and not url:
        return None
    remediation: dict[str, Any] = {"desc": text or "See the linked guidance."}
    if url:
        remediation["references"] = [url]
    return remediation


def _urls(values: Iterable[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v.lower().startswith(("https://", "http://"))]


def _title(finding: Finding) -> str:
    return finding.title.strip() or finding.rule_id.strip() or f"{finding.tool.name} finding"


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop absent values: OCSF has no nulls, an attribute is there or it is not."""
    return {key: value for key, value in fields.items() if value is not None and value != ""}
