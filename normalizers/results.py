"""Tollgate's own results file: a lossless JSON form of Findings, read by gate, publish, report.

Serialization is hand-written per type (not `dataclasses.asdict`, which deep-copies) because
it sits on the hot path of normalizing 50,000-finding reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from normalizers import __version__
from normalizers.errors import MalformedReportError
from normalizers.identity import FINGERPRINT_VERSION, LEGACY_FINGERPRINT_VERSION
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Cvss,
    Evidence,
    ExploitPrediction,
    Finding,
    HostLocation,
    ImageLocation,
    KnownExploited,
    Location,
    Outcome,
    PackageLocation,
    Reconciliation,
    Remediation,
    Scope,
    Severity,
    Skipped,
    Tool,
    UrlLocation,
)
from normalizers.typed import check_types

RESULTS_SCHEMA = "tollgate-results/1"


@dataclass(frozen=True)
class Results:
    scope: Scope
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()
    sources: tuple[str, ...] = ()
    metrics: tuple[tuple[str, str], ...] = ()
    missing: tuple[str, ...] = ()  # scanners that were asked for and did not run ("name: why")
    reconciliation: tuple[Reconciliation, ...] = ()  # one per parsed report
    # The identity scheme of the fingerprints; a file written before v2 says nothing and is v1.
    fingerprint_version: str = FINGERPRINT_VERSION


def _package_to_dict(p: PackageLocation) -> dict[str, Any]:
    return {
        "kind": "package",
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
        "ecosystem": p.ecosystem,
        "manifest_path": p.manifest_path,
        "manifest_line": p.manifest_line,
        "fixed_versions": list(p.fixed_versions),
    }


def location_to_dict(location: Location) -> dict[str, Any]:
    if isinstance(location, PackageLocation):
        return _package_to_dict(location)
    if isinstance(location, ImageLocation):
        return {
            "kind": "image",
            "reference": location.reference,
            "digest": location.digest,
            "layer": location.layer,
            "package": _package_to_dict(location.package) if location.package else None,
        }
    # Code, URL and host locations hold only scalars; `kind` is a class-level default.
    return {"kind": location.kind, **location.__dict__}


def finding_to_dict(f: Finding) -> dict[str, Any]:
    return {
        "fingerprint": f.fingerprint,
        "tool": {"name": f.tool.name, "version": f.tool.version, "category": f.tool.category.value},
        "rule_id": f.rule_id,
        "title": f.title,
        "description": f.description,
        "severity": f.severity.value,
        "original_severity": f.original_severity,
        "confidence": f.confidence.value,
        "cwe": list(f.cwe),
        "cvss": [c.__dict__ for c in f.cvss],
        "vulnerability_ids": list(f.vulnerability_ids),
        "location": location_to_dict(f.location),
        "remediation": f.remediation.__dict__ if f.remediation else None,
        "references": list(f.references),
        "active": f.active,
        "suppression_reason": f.suppression_reason,
        "confirmed_by": list(f.confirmed_by),
        "properties": dict(f.properties),
        "message": f.message,
        "evidence": [{**e.__dict__, "severity": e.severity.value} for e in f.evidence],
        **({"kev": f.kev.__dict__} if f.kev else {}),
        **({"epss": f.epss.__dict__} if f.epss else {}),
        "outcome": f.outcome.value,
    }


def reconciliation_to_dict(r: Reconciliation) -> dict[str, Any]:
    return {**r.__dict__, "skipped_reasons": dict(r.skipped_reasons)}


def _reconciliation_from_dict(d: dict[str, Any]) -> Reconciliation:
    return Reconciliation(**{**d, "skipped_reasons": tuple((d.get("skipped_reasons") or {}).items())})


def results_to_dict(results: Results) -> dict[str, Any]:
    return {
        "schema": RESULTS_SCHEMA,
        "tollgate_version": __version__,
        "fingerprint_version": results.fingerprint_version,
        "scope": results.scope.__dict__,
        "sources": list(results.sources),
        "metrics": dict(results.metrics),
        "missing": list(results.missing),
        "findings": [finding_to_dict(f) for f in results.findings],
        "skipped": [s.__dict__ for s in results.skipped],
        "reconciliation": [reconciliation_to_dict(r) for r in results.reconciliation],
    }


def _package_from_dict(d: dict[str, Any]) -> PackageLocation:
    return PackageLocation(
        name=d["name"],
        version=d.get("version"),
        purl=d.get("purl"),
        ecosystem=d.get("ecosystem"),
        manifest_path=d.get("manifest_path"),
        manifest_line=d.get("manifest_line"),
        fixed_versions=tuple(d.get("fixed_versions") or ()),
    )


def _scalars(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "kind"}


def location_from_dict(d: dict[str, Any]) -> Location:
    kind = d.get("kind")
    if kind == "package":
        return _package_from_dict(d)
    if kind == "image":
        package = d.get("package")
        return ImageLocation(
            reference=d["reference"],
            digest=d.get("digest"),
            layer=d.get("layer"),
            package=_package_from_dict(package) if package else None,
        )
    if kind == "code":
        return CodeLocation(**_scalars(d))
    if kind == "url":
        return UrlLocation(**_scalars(d))
    if kind == "host":
        return HostLocation(**_scalars(d))
    raise ValueError(f"unknown location kind {kind!r}")


def finding_from_dict(d: dict[str, Any]) -> Finding:
    tool = d["tool"]
    remediation = d.get("remediation")
    return Finding(
        tool=Tool(name=tool["name"], category=Category(tool["category"]), version=tool.get("version")),
        rule_id=d["rule_id"],
        title=d["title"],
        severity=Severity(d["severity"]),
        location=location_from_dict(d["location"]),
        description=d.get("description") or "",
        original_severity=d.get("original_severity"),
        confidence=Confidence(d.get("confidence") or "UNKNOWN"),
        cwe=_array(d, "cwe"),
        cvss=tuple(Cvss(**c) for c in _array(d, "cvss")),
        vulnerability_ids=_array(d, "vulnerability_ids"),
        remediation=Remediation(**remediation) if remediation else None,
        references=_array(d, "references"),
        active=bool(d.get("active", True)),
        suppression_reason=d.get("suppression_reason"),
        confirmed_by=_array(d, "confirmed_by"),
        properties=tuple((d.get("properties") or {}).items()),
        message=d.get("message"),
        evidence=tuple(Evidence(**{**e, "severity": Severity(e["severity"])}) for e in _array(d, "evidence")),
        kev=KnownExploited(**d["kev"]) if d.get("kev") else None,
        epss=ExploitPrediction(**d["epss"]) if d.get("epss") else None,
        outcome=Outcome(d.get("outcome") or "fail"),
        fingerprint=d.get("fingerprint") or "",
    )


def _array(record: dict[str, Any], key: str) -> tuple[Any, ...]:
    """A JSON array as a tuple; `tuple("text")` would quietly split a string into characters."""
    value = record.get(key)
    if value is not None and not isinstance(value, list):
        raise TypeError(f"{key} must be a list, not {type(value).__name__}")
    return tuple(value or ())


def is_results_document(document: Any) -> bool:
    return isinstance(document, dict) and document.get("schema") == RESULTS_SCHEMA


def results_from_dict(document: Any, source: str = "<results>") -> Results:
    if not is_results_document(document):
        raise MalformedReportError(f"{source}: not a Tollgate results file (schema {RESULTS_SCHEMA})")
    try:
        results = Results(
            scope=Scope(**document["scope"]),
            findings=tuple(finding_from_dict(f) for f in document["findings"]),
            skipped=tuple(Skipped(**s) for s in document.get("skipped") or ()),
            sources=tuple(document.get("sources") or ()),
            metrics=_metrics_from(document.get("metrics") or {}),
            missing=tuple(str(line) for line in document.get("missing") or ()),
            reconciliation=tuple(_reconciliation_from_dict(r) for r in document.get("reconciliation") or ()),
            fingerprint_version=document.get("fingerprint_version") or LEGACY_FINGERPRINT_VERSION,
        )
        check_types(results)  # `Finding(**record)` takes any value: a list where a string belongs fails here
        return results
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedReportError(f"{source}: a Tollgate results file with a bad record ({exc!r})") from None


def _metrics_from(value: Any) -> tuple[tuple[str, str], ...]:
    """An object of strings; a number written by another producer is read as its text."""
    if not isinstance(value, dict):
        raise TypeError(f"metrics must be an object, not {type(value).__name__}")
    return tuple((str(key), str(item)) for key, item in value.items())


def merge_scopes(scopes: Iterable[Scope]) -> Scope:
    """Results files combined by gate or publish must agree on the repository."""
    unique = set(scopes)
    if len(unique) != 1:
        raise MalformedReportError(f"results files disagree on scope: {sorted(map(str, unique))}")
    return unique.pop()
