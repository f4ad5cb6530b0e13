"""AWS Security Finding Format (ASFF) to Findings, so that others' findings can be gated and re-published.

Accepted wrappers: a bare list, `{"Findings": [...]}` (GetFindings, Trivy's `asff.tpl`) and `{"findings": [...]}`.
An empty list is an empty batch: zero findings, whichever tool wrote it.

Mapping decisions:
- Severity is `Severity.Label` (INFORMATIONAL -> INFO), else the deprecated `Normalized` score by AWS's own bands
  (0 INFO, 1-39 LOW, 40-69 MEDIUM, 70-89 HIGH, 90-100 CRITICAL), else `FindingProviderFields.Severity.Label`.
  The top-level value wins because it carries a customer's triage (BatchUpdateFindings).
- The category comes from the first `Types` entry with a known namespace:
  `Software and Configuration Checks/Vulnerabilities/...` is decided by the resource: `image` for
  `AwsEcrContainerImage`/`Container`, `sca` for a package in a file, `host` for an AWS resource (an Inspector CVE
  on an EC2 instance is a host vulnerability); `Sensitive Data Identifications` is `secrets`; any other
  `Software and Configuration Checks/...` (Security Hub standards, AWS Config, Trivy misconfigurations) is `iac`;
  GuardDuty's `TTPs`, `Effects` and `Unusual Behaviors` are runtime detections on a resource: `host`. A finding with
  no known namespace (Prowler's `IAM`, `Logging and Monitoring`, ...) is a posture check: `iac`.
- The location is `Resources[0]` (the others are listed in `properties`): container images become `ImageLocation`;
  `Other`/`CodeRepository` resources with a file name (Trivy's `Details.Other.Filename`) become `CodeLocation`, or
  `PackageLocation` when a vulnerable package is named; every other resource becomes `HostLocation` whose host is
  the resource Id (ARN), qualified by the resource region when the Id is not an ARN (Prowler reports the account Id
  once per region).
- The rule is the first vulnerability Id; else the GeneratorId without a `<product>/` prefix (Trivy's
  `Trivy/CVE-...`); else, when the GeneratorId names no rule (GuardDuty's detector ARN, Trivy's bare `Trivy` for
  secrets), the finding type (the last `Types` segment) or the Title.
- `RecordState: ARCHIVED`, `Workflow.Status` RESOLVED or SUPPRESSED, and `Compliance.Status: PASSED` make a finding
  inactive, with the reason. It is kept, not dropped: re-publishing must carry the state.
- A finding without `AwsAccountId` (or `ProductArn`, `CreatedAt`, ...) is still a finding: re-publishing replaces
  the account, product and timestamps with the caller's. Without a Title, a resource or any severity it cannot be
  gated or located, and is Skipped with the reason.
- The source's `Id`, `ProductArn`, `GeneratorId` and account are kept in `properties`; the identity is Tollgate's
  own (category, rule, location), because producers' Ids collide (Trivy's `target/CVE` for two packages).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from normalizers.cvss import from_vector
from normalizers.errors import UnsupportedReportError
from normalizers.model import (
    Category,
    CodeLocation,
    Confidence,
    Cvss,
    Finding,
    HostLocation,
    ImageLocation,
    Location,
    PackageLocation,
    Remediation,
    Severity,
    Skipped,
    Tool,
)
from normalizers.numbers import finite_float, small_int
from normalizers.parsers.base import ParseOptions, Parser
from normalizers.parsers.trivy import (
    json_list,
    json_object,
    line_number,
    number,
    repo_relative,
    required_text,
    strip_os_suffix,
    text,
    texts,
)
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId

TOOL_NAME = "asff"
_WRAPPER_KEYS = frozenset({"Findings", "findings", "NextToken", "ResponseMetadata"})
_LABELS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFORMATIONAL": Severity.INFO,
}
_NORMALIZED_BANDS = ((90, Severity.CRITICAL), (70, Severity.HIGH), (40, Severity.MEDIUM), (1, Severity.LOW))
VULNERABILITY_TYPES = "Software and Configuration Checks/Vulnerabilities"
# First matching prefix wins; None means "decided by the location" (a vulnerability).
_TYPE_CATEGORIES: tuple[tuple[str, Category | None], ...] = (
    (VULNERABILITY_TYPES, None),
    ("Sensitive Data Identifications", Category.SECRETS),
    ("Software and Configuration Checks", Category.IAC),
    ("TTPs", Category.HOST),
    ("Effects", Category.HOST),
    ("Unusual Behaviors", Category.HOST),
)
_VULNERABILITY_CATEGORY = {"image": Category.IMAGE, "host": Category.HOST, "package": Category.SCA,
                           "code": Category.SAST, "url": Category.DAST}
_IMAGE_RESOURCES = frozenset({"AwsEcrContainerImage", "Container"})
_FILE_RESOURCES = frozenset({"Other", "CodeRepository"})
_PATH_KEYS = ("Filename", "FilePath", "Path", "path", "filename")
_INACTIVE_WORKFLOWS = frozenset({"RESOLVED", "SUPPRESSED"})

Record = dict[str, Any]


def _findings_list(document: Any) -> list[Any] | None:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and document.keys() <= _WRAPPER_KEYS:
        for key in ("Findings", "findings"):
            if isinstance(document.get(key), list):
                return list(document[key])
    return None


def _is_asff_record(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and "GeneratorId" in record
        and ("ProductArn" in record or record.get("SchemaVersion") == "2018-10-08")
    )


def _looks_like_asff(document: Any) -> bool:
    findings = _findings_list(document)
    return findings is not None and (not findings or _is_asff_record(findings[0]))


def _severity(record: Record) -> tuple[Severity, str] | None:
    provider = json_object(record.get("FindingProviderFields")).get("Severity")
    for severity in (json_object(record.get("Severity")), json_object(provider)):
        label = (text(severity, "Label") or "").upper()
        if label in _LABELS:
            return _LABELS[label], label
        normalized = number(severity.get("Normalized"))
        if normalized is not None:
            band = next((s for floor, s in _NORMALIZED_BANDS if normalized >= floor), Severity.INFO)
            return band, f"Normalized {severity['Normalized']}"
    return None


def _confidence(value: Any) -> Confidence:
    score = number(value)
    if score is None:
        return Confidence.UNKNOWN
    return Confidence.HIGH if score >= 70 else Confidence.MEDIUM if score >= 40 else Confidence.LOW


def _product(record: Record) -> str:
    fields = json_object(record.get("ProductFields"))
    name = (
        text(record, "ProductName")
        or text(fields, "aws/securityhub/ProductName")
        or text(fields, "ProviderName")
        or text(fields, "Product Name")
        or (text(record, "ProductArn") or "").rsplit("/", 1)[-1]
    )
    return name.strip().lower().replace(" ", "-") or TOOL_NAME


def _full_version(package: Record) -> str | None:
    """Inspector splits RPM versions: Epoch 0, Version 4.14.301, Release 224.amzn2 -> 4.14.301-224.amzn2."""
    version = text(package, "Version")
    if not version:
        return None
    release, epoch = text(package, "Release"), text(package, "Epoch")
    version = f"{version}-{release}" if release else version
    return f"{epoch}:{version}" if epoch and epoch != "0" else version


def _package(
    vulnerabilities: list[Record], other: Record, path: str | None, root: str | None
) -> PackageLocation | None:
    for vulnerability in vulnerabilities:
        for package in map(json_object, json_list(vulnerability.get("VulnerablePackages"))):
            fixed, file_path = text(package, "FixedInVersion"), text(package, "FilePath")
            return PackageLocation(
                name=required_text(package, "Name"),
                version=_full_version(package),
                ecosystem=text(package, "PackageManager"),
                manifest_path=repo_relative(file_path, root) if file_path else path,
                fixed_versions=(fixed,) if fixed else (),
            )
    name = text(other, "PkgName")  # Trivy's asff.tpl puts the package in Details.Other
    if name is None:
        return None
    patched = text(other, "Patched Package")
    version = text(other, "Installed Package")
    return PackageLocation(name, version, manifest_path=path, fixed_versions=(patched,) if patched else ())


def _image(resource: Record, package: PackageLocation | None) -> ImageLocation:
    details = json_object(resource.get("Details"))
    ecr = json_object(details.get("AwsEcrContainerImage"))
    repository = text(ecr, "RepositoryName")
    if repository:
        tags = texts(ecr.get("ImageTags"))
        return ImageLocation(f"{repository}:{tags[0]}" if tags else repository, text(ecr, "ImageDigest"), None, package)
    container = json_object(details.get("Container"))
    image_id = text(container, "ImageId") or ""
    reference = strip_os_suffix(text(container, "ImageName") or text(resource, "Id") or "image")
    return ImageLocation(reference, image_id if image_id.startswith("sha256:") else None, None, package)


def _line(value: Any) -> int | None:
    """Trivy's asff.tpl writes lines as strings ("1"); 0 means none."""
    return line_number(small_int(value))


def _location(resource: Record, vulnerabilities: list[Record], options: ParseOptions) -> Location:
    resource_type = text(resource, "Type") or "Other"
    resource_id = text(resource, "Id") or ""
    other = json_object(json_object(resource.get("Details")).get("Other"))
    paths = [text(other, key) for key in _PATH_KEYS] if resource_type in _FILE_RESOURCES else []
    raw_path = next(filter(None, paths), None)
    path = repo_relative(raw_path, options.source_root) if raw_path else None
    package = _package(vulnerabilities, other, path, options.source_root)
    if resource_type in _IMAGE_RESOURCES:
        return _image(resource, package)
    if path:
        return package or CodeLocation(path, _line(other.get("StartLine")), _line(other.get("EndLine")))
    region = text(resource, "Region")
    qualified = resource_id if resource_id.startswith("arn:") or not region else f"{region}/{resource_id}"
    return HostLocation(host=resource_id, instance_id=qualified, group=resource_type)


def _category(types: list[str], location: Location, has_vulnerabilities: bool) -> Category:
    for finding_type in types:
        for prefix, category in _TYPE_CATEGORIES:
            if finding_type.startswith(prefix):
                return category or _VULNERABILITY_CATEGORY[location.kind]
    return _VULNERABILITY_CATEGORY[location.kind] if has_vulnerabilities else Category.IAC


def _rule_id(record: Record, vulnerability_ids: tuple[str, ...], product: str, types: list[str]) -> str:
    if vulnerability_ids:
        return vulnerability_ids[0]
    generator = text(record, "GeneratorId") or ""
    head, _, rule = generator.partition("/")
    if rule and head.lower() == product:
        return rule  # Trivy's `Trivy/AWS-0086`
    if ":detector/" in generator and types:
        return types[0].rsplit("/", 1)[-1]  # GuardDuty: the finding type, e.g. `Recon:EC2-Portscan`
    if generator and ":detector/" not in generator and generator.lower() != product:
        return generator
    return required_text(record, "Title")  # the generator names only the product (Trivy's secrets: `Trivy`)


def _cvss(vulnerabilities: list[Record], other: Record) -> tuple[Cvss, ...]:
    entries = [json_object(entry) for v in vulnerabilities for entry in json_list(v.get("Cvss"))]
    found = [_one_cvss(e.get("Version"), e.get("BaseScore"), text(e, "BaseVector"), text(e, "Source")) for e in entries]
    for v in ("V3", "V2"):  # Trivy's asff.tpl: NvdCvssScoreV3, NvdCvssVectorV3, ...
        found.append(_one_cvss(None, other.get(f"NvdCvssScore{v}"), text(other, f"NvdCvssVector{v}"), "nvd"))
    return tuple(dict.fromkeys(cvss for cvss in found if cvss))  # Inspector repeats an entry with Adjustments


def _one_cvss(version: Any, score: Any, vector: str | None, source: str | None) -> Cvss | None:
    """ASFF gives scores as numbers or strings ("7.5") and versions as strings or numbers."""
    value = finite_float(score)
    if isinstance(version, (str, int, float)) and version != "" and value is not None:
        return Cvss(str(version), value, vector, source)
    return from_vector(vector, value, source) if vector else None


def _inactive_reason(record: Record) -> str | None:
    if text(record, "RecordState") == "ARCHIVED":
        return "archived in Security Hub (RecordState ARCHIVED)"
    workflow = text(json_object(record.get("Workflow")), "Status") or text(record, "WorkflowState")
    if workflow in _INACTIVE_WORKFLOWS:
        return f"workflow status {workflow} in Security Hub"
    if text(json_object(record.get("Compliance")), "Status") == "PASSED":
        return "compliance check PASSED"
    return None


def _references(record: Record, vulnerabilities: list[Record]) -> tuple[str, ...]:
    urls: list[str | None] = [url for v in vulnerabilities for url in texts(v.get("ReferenceUrls"))]
    urls += [text(json_object(v.get("Vendor")), "Url") for v in vulnerabilities]
    urls.append(text(record, "SourceUrl"))
    return tuple(dict.fromkeys(url for url in urls if url))


def _properties(record: Record, resources: Sequence[Any], vulnerabilities: list[Record]) -> tuple[tuple[str, str], ...]:
    packages = [json_object(p) for v in vulnerabilities for p in json_list(v.get("VulnerablePackages"))]
    pairs = (
        ("asff_id", text(record, "Id")),
        ("product_arn", text(record, "ProductArn")),
        ("generator_id", text(record, "GeneratorId")),
        ("aws_account_id", text(record, "AwsAccountId")),
        ("types", "; ".join(texts(record.get("Types")))),
        ("resource_type", text(resources[0], "Type")),
        ("other_resources", ", ".join(text(json_object(r), "Id") or "?" for r in resources[1:])),
        ("vulnerable_packages", ", ".join(f"{text(p, 'Name')} {text(p, 'Version')}" for p in packages[1:])),
        ("compliance_status", text(json_object(record.get("Compliance")), "Status")),
    )
    return tuple((key, value) for key, value in pairs if value)


def _finding(record: Record, options: ParseOptions, tools: dict[tuple[str, Category, str | None], Tool]) -> Finding:
    """One ASFF finding; KeyError names the first missing required field."""
    title = required_text(record, "Title")
    resources = json_list(record.get("Resources"))
    if not resources or not isinstance(resources[0], dict):
        raise KeyError("Resources")
    severity = _severity(record)
    if severity is None:
        raise KeyError("Severity")
    vulnerabilities = [v for v in json_list(record.get("Vulnerabilities")) if isinstance(v, dict)]
    other = json_object(json_object(resources[0].get("Details")).get("Other"))
    types = texts(record.get("Types"))
    location = _location(resources[0], vulnerabilities, options)
    ids = [*(text(v, "Id") for v in vulnerabilities), text(other, "CVE ID")]  # the latter: Trivy's asff.tpl
    vulnerability_ids = tuple(dict.fromkeys(i for i in ids if i))
    category = _category(types, location, bool(vulnerability_ids))
    product = _product(record)
    version = text(json_object(record.get("ProductFields")), "ProviderVersion")
    tool = tools.setdefault((product, category, version), Tool(product, category, version))
    recommendation = json_object(json_object(record.get("Remediation")).get("Recommendation"))
    advice, url = text(recommendation, "Text"), text(recommendation, "Url")
    reason = _inactive_reason(record)
    return Finding(
        tool=tool,
        rule_id=_rule_id(record, vulnerability_ids, product, types),
        title=title,
        severity=severity[0],
        location=location,
        description=(text(record, "Description") or "").strip(),
        original_severity=severity[1],
        confidence=_confidence(record.get("Confidence")),
        cvss=_cvss(vulnerabilities, other),
        vulnerability_ids=vulnerability_ids,
        remediation=Remediation(advice, url) if advice or url else None,
        references=_references(record, vulnerabilities),
        active=reason is None,
        suppression_reason=reason,
        properties=_properties(record, resources, vulnerabilities),
    )


class AsffParser(Parser):
    tool_id = ToolId.ASFF

    def sniff(self, report: Report) -> bool:
        return _looks_like_asff(report.json_or_none())

    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        findings = _findings_list(report.json)
        if findings is None or (findings and not _is_asff_record(findings[0])):
            raise UnsupportedReportError(f"{report.source}: not ASFF (a list of AWS Security Finding Format findings)")
        tools: dict[tuple[str, Category, str | None], Tool] = {}
        for index, record in enumerate(findings):
            pointer = f"Findings[{index}]"
            if not isinstance(record, dict):
                yield Skipped(TOOL_NAME, "not a JSON object", pointer)
                continue
            try:
                yield _finding(record, options, tools)
            except KeyError as exc:
                yield Skipped(TOOL_NAME, f"missing or empty required field {exc}", pointer)
            except (TypeError, ValueError) as exc:
                yield Skipped(TOOL_NAME, f"unreadable finding ({exc})", pointer)


PARSER = AsffParser()
