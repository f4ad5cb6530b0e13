"""A CycloneDX 1.6 SBOM of the packages Tollgate saw, and the vulnerabilities that affect them.

Built with cyclonedx-python-lib (the OWASP CycloneDX project's own model and serializer), so
the document follows the specification's shape by construction; the tests validate it with the
library's strict JSON validator. Components are the packages named by findings: SCA and image
packages, the supply-chain firewall's manifests' packages, and licence findings' packages (which
give the component its licence). One component per purl (or name and version when a tool gave no
purl), its `bom-ref` the purl, so a vulnerability's `affects` points straight at it. Each advisory
(CVE, GHSA, an SCA tool's own id) is one vulnerability affecting every component it was found in,
with Tollgate's calibrated severity as a rating and the tool's CVSS scores beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityRating,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from normalizers import __version__
from normalizers.identity import primary_vulnerability_id
from normalizers.model import Category, Cvss, Finding, PackageLocation, Scope, Severity

_SEVERITY = {Severity.CRITICAL: VulnerabilitySeverity.CRITICAL, Severity.HIGH: VulnerabilitySeverity.HIGH,
             Severity.MEDIUM: VulnerabilitySeverity.MEDIUM, Severity.LOW: VulnerabilitySeverity.LOW,
             Severity.INFO: VulnerabilitySeverity.INFO}
_CVSS_METHOD = {"2.0": VulnerabilityScoreSource.CVSS_V2, "3.0": VulnerabilityScoreSource.CVSS_V3,
                "3.1": VulnerabilityScoreSource.CVSS_V3_1, "4.0": VulnerabilityScoreSource.CVSS_V4}
_SOURCES = (("CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/{}"),
            ("GHSA-", "GitHub Advisory Database", "https://github.com/advisories/{}"))


@dataclass(frozen=True)
class SbomContext:
    scope: Scope


def component_ref(package: PackageLocation) -> str:
    """The component's bom-ref: its purl, else a Tollgate-local name@version."""
    return package.purl or f"tollgate:{package.ecosystem or 'unknown'}/{package.name}@{package.version or ''}"


def emit_cyclonedx(findings: Iterable[Finding], context: SbomContext) -> str:
    """The SBOM as CycloneDX 1.6 JSON text."""
    listed = list(findings)
    components: dict[str, Component] = {}
    for finding in listed:
        package = finding.package
        if package is None:
            continue
        component = components.get(component_ref(package)) or _component(package)
        components.setdefault(component_ref(package), component)
        if _is_licence(finding):
            component.licenses.add(LicenseFactory().make_from_string(finding.rule_id))
    # The scope is a property, not metadata.component: a root component would claim each package as its
    # direct dependency, and Tollgate does not know which are direct.
    scope = (("repository", context.scope.repository), ("environment", context.scope.environment),
             ("branch", context.scope.branch), ("commit", context.scope.commit))
    metadata = BomMetaData(properties=[Property(name=f"tollgate:{key}", value=value) for key, value in scope if value])
    metadata.tools.components.add(Component(name="tollgate", version=__version__, type=ComponentType.APPLICATION))
    bom = Bom(components=components.values(), metadata=metadata, vulnerabilities=_vulnerabilities(listed))
    return JsonV1Dot6(bom).output_as_string()


def _component(package: PackageLocation) -> Component:
    purl = _purl(package.purl)
    properties = [Property(name="tollgate:manifest_path", value=package.manifest_path)] if package.manifest_path else []
    return Component(name=package.name, version=package.version, purl=purl, bom_ref=component_ref(package),
                     type=ComponentType.LIBRARY, properties=properties)


def _purl(text: str | None) -> PackageURL | None:
    if not text:
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _is_licence(finding: Finding) -> bool:
    return finding.category is Category.SUPPLY_CHAIN and any(key == "license_category" for key, _ in finding.properties)


def _vulnerabilities(findings: list[Finding]) -> list[Vulnerability]:
    by_id: dict[str, Vulnerability] = {}
    for finding in findings:
        package = finding.package
        if package is None or not finding.vulnerability_ids:
            continue
        advisory = primary_vulnerability_id(finding)
        vulnerability = by_id.get(advisory)
        if vulnerability is None:
            vulnerability = by_id[advisory] = _vulnerability(finding, advisory)
        vulnerability.affects.add(BomTarget(ref=component_ref(package)))
    return list(by_id.values())


def _vulnerability(finding: Finding, advisory: str) -> Vulnerability:
    source = next((VulnerabilitySource(name=name, url=XsUri(url.format(advisory)))
                   for prefix, name, url in _SOURCES if advisory.startswith(prefix)), None)
    ratings = [VulnerabilityRating(severity=_SEVERITY[finding.severity], method=VulnerabilityScoreSource.OTHER,
                                   source=VulnerabilitySource(name="Tollgate calibrated severity"))]
    ratings += [_rating(score) for score in finding.cvss if score.version in _CVSS_METHOD]
    properties = ([Property(name="tollgate:kev:date_added", value=finding.kev.date_added),
                   Property(name="tollgate:kev:due_date", value=finding.kev.due_date)] if finding.kev else [])
    return Vulnerability(bom_ref=f"tollgate:vulnerability/{advisory}", id=advisory, source=source, ratings=ratings,
                         cwes=finding.cwe, description=finding.description.strip() or finding.title,
                         recommendation=finding.remediation.text if finding.remediation else None,
                         properties=properties)


def _rating(score: Cvss) -> VulnerabilityRating:
    return VulnerabilityRating(score=Decimal(str(score.score)), method=_CVSS_METHOD[score.version],
                               vector=score.vector, source=VulnerabilitySource(name=score.source)
                               if score.source else None)
