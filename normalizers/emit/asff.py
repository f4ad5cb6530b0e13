"""ASFF for AWS Security Hub BatchImportFindings (docs/design.md).

Findings are plain dicts in the shape of botocore's `AwsSecurityFinding`; this module never
imports boto3 or botocore (the validator, `normalizers.asff_validator`, checks the output
against botocore's model in tests and in the importer Lambda).

Decisions the design leaves open:
- `CreatedAt` = `UpdatedAt` = the emission time. The publisher owns the lifecycle: it keeps
  the first sighting's `CreatedAt` and makes `UpdatedAt` strictly increase.
- A finding the tool itself reported as suppressed or resolved (`active=False`) is emitted
  with `RecordState: ARCHIVED` and its reason in `ProductFields`. `Workflow.Status` is left
  alone: it belongs to the people triaging in Security Hub (BatchUpdateFindings), and a
  provider that writes it overrides their decisions on every run.
- Code, package and secret findings live in the repository: one `CodeRepository` resource
  (botocore's model has `CodeRepositoryDetails`). URL findings are the deployed target: an
  `Other` resource named by the URL without its query. Images are `Container`, or
  `AwsEcrContainerImage` when the reference is an ECR registry. Hosts are `AwsEc2Instance`
  when an instance id is known, else `Other`. Every resource carries `Details.Other` with the
  repository, branch, commit and the location's own facts.
- Types come from a table by category (`TYPES_BY_CATEGORY`); a CVE adds
  `Software and Configuration Checks/Vulnerabilities/CVE`, a CWE on a code or web finding adds
  `.../Vulnerabilities/CWE`.
- A finding that cites a guideline item (normalizers.kisa) carries `Compliance`: `Status` FAILED, or
  PASSED for a passed check (severity INFORMATIONAL, like Security Hub's own passed controls), and the
  item in `RelatedRequirements`. The lifecycle never alerts on a PASSED finding.
- Character limits are cut with a marker; a finding whose UTF-8 serialization is still over
  240 KB has its optional text shortened step by step, with a warning naming it. The size is
  checked again after the last step: a finding still over it is left out, with a warning.
- What the model's `.*\\S.*` pattern refuses is never written: each field that a report's text can
  leave blank is checked where it is built (`_present`), and omitted with the list that would hold
  only it; CVSS entries whose score is not a finite number are omitted too. (A walk over every
  finished document did the same at a third of the emitter's time; the fuzzer holds the builders to it.)
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeGuard
from urllib.parse import urlsplit, urlunsplit

import orjson

from normalizers import kisa
from normalizers.caches import ADVISORIES_REMEMBERED
from normalizers.identity import identified, legacy_fingerprints, primary_vulnerability_id, scoped_id
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
from normalizers.numbers import positive_int
from normalizers.text import truncate, web_url, web_urls

SCHEMA_VERSION = "2018-10-08"
MAX_ID = 512
MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_RECOMMENDATION = 512
MAX_MAP_PAIRS = 50
MAX_MAP_KEY = 128
MAX_OTHER_VALUE = 1023  # Details.Other values must stay under 1024 characters
MAX_PRODUCT_FIELD_VALUE = 2048
MAX_REFERENCE_URLS = 20
MAX_FINDING_BYTES = 240 * 1024
MAX_LABEL = 64  # Severity.Original: a tool's label is a word or a number, never a paragraph
LAST_RESORT_TEXT = 256  # the final shrinking step cuts every remaining text and list to this
MAX_ADVISORIES = ADVISORIES_REMEMBERED  # advisories whose parts an emission keeps (`_advisory`)

# The partitions whose regions do not match the commercial `aws` patterns, as botocore's
# partitions.json declares them (tests/normalizers/emit/test_asff.py compares the two). A region that
# matches none of them is in `aws`.
PARTITION_REGION_PATTERNS = (
    ("aws-cn", re.compile(r"^cn\-\w+\-\d+$")),
    ("aws-eusc", re.compile(r"^eusc\-(de)\-\w+\-\d+$")),
    ("aws-iso", re.compile(r"^us\-iso\-\w+\-\d+$")),
    ("aws-iso-b", re.compile(r"^us\-isob\-\w+\-\d+$")),
    ("aws-iso-e", re.compile(r"^eu\-isoe\-\w+\-\d+$")),
    ("aws-iso-f", re.compile(r"^us\-isof\-\w+\-\d+$")),
    ("aws-us-gov", re.compile(r"^us\-gov\-\w+\-\d+$")),
)
# Resource.Partition is an enum in botocore's model that spells only these partitions the same way.
RESOURCE_PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov"})

COMPLIANCE_STATUS = {Outcome.FAIL: "FAILED", Outcome.PASS: "PASSED"}
SEVERITY_LABEL = {
    Severity.CRITICAL: "CRITICAL",
    Severity.HIGH: "HIGH",
    Severity.MEDIUM: "MEDIUM",
    Severity.LOW: "LOW",
    Severity.INFO: "INFORMATIONAL",
}

# The official taxonomy (securityhub-findings-format-type-taxonomy): namespace -> categories.
# Only the namespace is enforced by the API; Tollgate holds itself to the documented categories.
FINDING_TYPE_TAXONOMY: dict[str, frozenset[str]] = {
    "Software and Configuration Checks": frozenset(
        {"Vulnerabilities", "AWS Security Best Practices", "Industry and Regulatory Standards"}
    ),
    "TTPs": frozenset({
        "Initial Access", "Execution", "Persistence", "Privilege Escalation", "Defense Evasion",
        "Credential Access", "Discovery", "Lateral Movement", "Collection", "Command and Control",
    }),
    "Effects": frozenset(
        {"Data Exposure", "Data Exfiltration", "Data Destruction", "Denial of Service", "Resource Consumption"}
    ),
    "Unusual Behaviors": frozenset({
        "Application", "Network Flow", "IP address", "User", "VM", "Container", "Serverless", "Process",
        "Database", "Data",
    }),
    "Sensitive Data Identifications": frozenset({"PII", "Passwords", "Legal", "Financial", "Security", "Business"}),
}
VULNERABILITY_TYPE = "Software and Configuration Checks/Vulnerabilities"
CVE_TYPE = f"{VULNERABILITY_TYPE}/CVE"
CWE_TYPE = f"{VULNERABILITY_TYPE}/CWE"
STANDARDS_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards"
TYPES_BY_CATEGORY: dict[Category, tuple[str, ...]] = {
    Category.SCA: (VULNERABILITY_TYPE,),
    Category.IMAGE: (VULNERABILITY_TYPE,),
    Category.SAST: (VULNERABILITY_TYPE,),
    Category.DAST: (VULNERABILITY_TYPE,),
    Category.IAC: (STANDARDS_TYPE,),
    Category.HOST: (STANDARDS_TYPE,),
    Category.SECRETS: ("Sensitive Data Identifications/Passwords",),
    # Typosquats and dependency confusion are MITRE ATT&CK T1195, an Initial Access technique.
    Category.SUPPLY_CHAIN: ("TTPs/Initial Access/Supply Chain Compromise",),
}
_CWE_TYPED = frozenset({Category.SAST, Category.DAST})
_ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_VENDORS = (
    ("CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/{}"),
    ("GHSA-", "GitHub Advisory Database", "https://github.com/advisories/{}"),
)


@dataclass(frozen=True)
class AsffContext:
    account: str
    region: str
    scope: Scope
    product_name: str = "Tollgate"
    company_name: str = "Tollgate"
    now: str | None = None  # RFC 3339; fixed in tests, the wall clock otherwise


@dataclass(frozen=True)
class AsffEmission:
    findings: tuple[dict[str, Any], ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _AdvisoryVulnerability:
    """Vulnerabilities[]'s parts that a CVE or GHSA advisory fixes; its lists are shared by the documents."""

    primary: str
    related: list[str]
    cvss: list[dict[str, Any]]
    vendor: dict[str, str]
    references: list[str]


@dataclass(frozen=True)
class _Advisory:
    """What a finding's tool, rule, texts and advisory alone decide (the key `_advisory` remembers it by)."""

    generator_id: str
    types: tuple[str, ...]
    severity_label: str
    severity_original: str
    title: str
    description: str
    lead_fields: dict[str, str]  # ProductFields from Tool to Commit
    id_fields: dict[str, str]  # ProductFields Cwe and VulnerabilityIds
    first_reference: str | None  # the remediation's link when the tool gives none
    vulnerability: _AdvisoryVulnerability | None


@dataclass(frozen=True)
class _Frame:
    """What every finding of one emission shares, computed once."""

    context: AsffContext
    partition: str
    product_arn: str
    timestamp: str
    # The scope's pairs of ProductFields and of Details.Other, blank ones left out and long ones cut
    scope_fields: dict[str, str]
    scope_other: dict[str, str]
    # A report repeats an advisory in every package it affects; its parts are built once per emission.
    advisories: dict[tuple[object, ...], _Advisory] = field(default_factory=dict)


def _frame(context: AsffContext) -> _Frame:
    scope = context.scope
    pairs = (("Repository", scope.repository), ("Environment", scope.environment), ("Branch", scope.branch),
             ("Commit", scope.commit))
    fields: dict[str, str] = {}
    _string_map(fields, ((f"tollgate/{key}", value) for key, value in pairs), MAX_PRODUCT_FIELD_VALUE)
    other: dict[str, str] = {}
    _string_map(other, pairs, MAX_OTHER_VALUE)
    return _Frame(context, partition_for_region(context.region), product_arn(context.account, context.region),
                  rfc3339(context.now), fields, other)


def partition_for_region(region: str) -> str:
    """`cn-north-1` -> `aws-cn`, `us-gov-west-1` -> `aws-us-gov`, `eusc-de-east-1` -> `aws-eusc`, …"""
    for partition, pattern in PARTITION_REGION_PATTERNS:
        if pattern.match(region):
            return partition
    return "aws"


def product_arn(account: str, region: str) -> str:
    """The account's own custom-integration product, the only one BatchImportFindings lets it write."""
    return f"arn:{partition_for_region(region)}:securityhub:{region}:{account}:product/{account}/default"


def rfc3339(value: str | None = None) -> str:
    """UTC with millisecond precision and a `Z`, from an RFC 3339 string or the current time."""
    moment = datetime.now(timezone.utc) if value is None else _parse_rfc3339(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_rfc3339(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return parsed.astimezone(timezone.utc)


def emit_asff(findings: Iterable[Finding], context: AsffContext) -> AsffEmission:
    """One ASFF finding per Finding; Ids are scoped by the repository (and environment). Findings of one
    advisory share its lists (Cvss, ReferenceUrls, ...): the documents are to be read, not changed in place."""
    warnings: list[str] = []
    documents = tuple(document for document, _ in _documents(findings, context, warnings))
    return AsffEmission(documents, tuple(warnings))


def asff_parts(findings: Iterable[Finding], context: AsffContext, warnings: list[str]) -> Iterator[bytes]:
    """`{"Findings": [...]}` as parts that concatenate to the serialization of emit_asff's findings, made one
    finding at a time: holding every finding at once costs more than the file (a 240 MB file for 50,000)."""
    yield b'{"Findings":['
    for index, (_, raw) in enumerate(_documents(findings, context, warnings)):
        yield b"," + raw if index else raw
    yield b"]}"


def _documents(findings: Iterable[Finding], context: AsffContext,
               warnings: list[str]) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Each finding's document and its serialization, in order, one per Id."""
    frame = _frame(context)
    listed = [identified(f) for f in findings]
    legacy = legacy_fingerprints(listed)
    for finding_id, index in _one_per_id(listed, context.scope, warnings).items():
        previous_id = scoped_id(context.scope, listed[index], legacy[index])
        fitted = _fit_size(_finding(listed[index], finding_id, frame, warnings, previous_id), warnings)
        if fitted is not None:
            yield fitted


def _one_per_id(findings: list[Finding], scope: Scope, warnings: list[str]) -> dict[str, int]:
    """Id -> the finding it keeps, the most severe (the first of equals), in the order the Ids first appear."""
    kept: dict[str, int] = {}
    for index, finding in enumerate(findings):
        finding_id = scoped_id(scope, finding)
        earlier = kept.setdefault(finding_id, index)
        if earlier != index:
            warnings.append(f"ASFF finding {finding_id}: two findings share this Id; kept the more severe")
            if findings[earlier].severity.rank < finding.severity.rank:
                kept[finding_id] = index  # a dict keeps the key's first place
    return kept


def _finding(finding: Finding, finding_id: str, frame: _Frame, warnings: list[str],
             previous_id: str) -> dict[str, Any]:
    context = frame.context
    advisory = _advisory(finding, frame)
    severity = {"Label": advisory.severity_label, "Original": advisory.severity_original}
    document: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id,
        "ProductArn": frame.product_arn,
        "ProductName": context.product_name,
        "CompanyName": context.company_name,
        "GeneratorId": advisory.generator_id,
        "AwsAccountId": context.account,
        "Types": list(advisory.types),
        "CreatedAt": frame.timestamp,
        "UpdatedAt": frame.timestamp,
        "Severity": severity,
        "Title": advisory.title,
        "Description": advisory.description,
        "Resources": [_resource(finding, frame)],
        "FindingProviderFields": {"Severity": dict(severity), "Types": list(advisory.types)},
        "ProductFields": _product_fields(finding, advisory, warnings, previous_id),
        "RecordState": "ACTIVE" if finding.active else "ARCHIVED",
    }
    compliance = _compliance(finding)
    if compliance:
        document["Compliance"] = compliance
    remediation = _remediation(finding, advisory)
    if remediation:
        document["Remediation"] = {"Recommendation": remediation}
    vulnerability = _vulnerability(finding, advisory)
    if vulnerability:
        document["Vulnerabilities"] = [vulnerability]
    return document


def _advisory(finding: Finding, frame: _Frame) -> _Advisory:
    """The finding's advisory parts, built once per distinct key (of the last MAX_ADVISORIES seen) in an emission."""
    tool = finding.tool
    key = (tool.name, tool.version, tool.category, finding.rule_id, finding.title, finding.description,
           finding.vulnerability_ids, finding.cwe, finding.severity, finding.original_severity,
           finding.cvss, finding.references)
    advisories = frame.advisories
    advisory = advisories.get(key)
    if advisory is None:
        if len(advisories) == MAX_ADVISORIES:
            del advisories[next(iter(advisories))]  # the oldest: a report lists one advisory's packages close together
        advisory = advisories[key] = _new_advisory(finding, frame)
    return advisory


def _new_advisory(finding: Finding, frame: _Frame) -> _Advisory:
    title = _title(finding)
    lead_fields: dict[str, str] = {}
    _string_map(lead_fields, (("tollgate/Tool", finding.tool.name), ("tollgate/ToolVersion", finding.tool.version),
                              ("tollgate/Category", finding.category.value), ("tollgate/RuleId", finding.rule_id)),
                MAX_PRODUCT_FIELD_VALUE)
    lead_fields.update(frame.scope_fields)
    id_fields: dict[str, str] = {}
    _string_map(id_fields, (("tollgate/Cwe", ", ".join(f"CWE-{cwe}" for cwe in finding.cwe)),
                            ("tollgate/VulnerabilityIds", ", ".join(finding.vulnerability_ids))),
                MAX_PRODUCT_FIELD_VALUE)
    return _Advisory(
        generator_id=bounded(f"tollgate/{_slug(finding.tool.name)}/{finding.rule_id}", MAX_ID),
        types=tuple(finding_types(finding)),
        severity_label=SEVERITY_LABEL[finding.severity],
        severity_original=_original_severity(finding),
        title=truncate(title, MAX_TITLE),
        description=truncate(finding.description.strip() or title, MAX_DESCRIPTION),
        lead_fields=lead_fields,
        id_fields=id_fields,
        first_reference=next(iter(web_urls(finding.references)), None),
        vulnerability=_advisory_parts(finding),
    )


def _compliance(finding: Finding) -> dict[str, Any] | None:
    """FAILED or PASSED with the cited item; a passed check cites one by construction."""
    requirement = kisa.requirement(finding.properties)
    if requirement is None and finding.is_problem:
        return None
    status = {"Status": COMPLIANCE_STATUS[finding.outcome]}
    return {**status, "RelatedRequirements": [requirement]} if requirement else status


def finding_types(finding: Finding) -> list[str]:
    """`namespace/category[/classifier]` strings from the official taxonomy."""
    types = list(TYPES_BY_CATEGORY[finding.category])
    if primary_vulnerability_id(finding).upper().startswith("CVE-"):
        types = [CVE_TYPE, *(t for t in types if t != VULNERABILITY_TYPE)]
    elif finding.cwe and finding.category in _CWE_TYPED:
        types = [CWE_TYPE, *(t for t in types if t != VULNERABILITY_TYPE)]
    return types


def bounded(text: str, limit: int) -> str:
    """At most `limit` characters; a cut keeps the head readable and a hash keeps it unique."""
    if len(text) <= limit:
        return text
    tail = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{text[: limit - len(tail) - 1]}/{tail}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "tool"


def _title(finding: Finding) -> str:
    return finding.title.strip() or finding.rule_id.strip() or f"{finding.tool.name} finding"


def _original_severity(finding: Finding) -> str:
    original = (finding.original_severity or "").strip()
    return truncate(original, MAX_LABEL) if original else finding.severity.value


def _string_map(fields: dict[str, str], pairs: Iterable[tuple[str, object]], value_limit: int) -> int:
    """Into a FieldMap: non-blank values, keys ≤128, values ≤ `value_limit`, ≤50 pairs, the first of a key kept;
    returns the pairs dropped."""
    dropped = 0
    for key, value in pairs:
        if value is None:
            continue
        text = value if isinstance(value, str) else str(value)
        if not _present(text):
            continue
        if len(fields) == MAX_MAP_PAIRS:
            dropped += 1
            continue
        fields.setdefault(key if len(key) <= MAX_MAP_KEY else truncate(key, MAX_MAP_KEY),
                          text if len(text) <= value_limit else truncate(text, value_limit))
    return dropped


def _product_fields(finding: Finding, advisory: _Advisory, warnings: list[str], previous_id: str) -> dict[str, str]:
    fields = advisory.lead_fields.copy()
    # The Id this finding had under identity v1 (PreviousId): the publisher carries that finding's history over
    # (docs/identity.md, "Migration").
    own: list[tuple[str, object]] = [("tollgate/Fingerprint", finding.fingerprint),
                                     ("tollgate/PreviousId", previous_id)]
    if finding.confidence is not Confidence.UNKNOWN:
        own.append(("tollgate/Confidence", finding.confidence.value))
    if finding.confirmed_by:
        own.append(("tollgate/ConfirmedBy", ", ".join(finding.confirmed_by)))
    if finding.evidence:
        own.append(("tollgate/ConfirmedByRules", ", ".join(f"{e.tool} {e.rule_id}" for e in finding.evidence)))
    _string_map(fields, own, MAX_PRODUCT_FIELD_VALUE)
    fields.update(advisory.id_fields)
    tail: list[tuple[str, object]] = []
    if not finding.active:
        tail.append(("tollgate/SuppressionReason", finding.suppression_reason or "reported inactive"))
    if finding.kev is not None:
        tail += [("tollgate/Kev", "true"), ("tollgate/KevDateAdded", finding.kev.date_added),
                 ("tollgate/KevDueDate", finding.kev.due_date)]
    if finding.epss is not None:  # the probability itself is Vulnerabilities[].EpssScore
        tail += [("tollgate/EpssPercentile", f"{finding.epss.percentile:g}"),
                 ("tollgate/EpssDate", finding.epss.score_date)]
    _string_map(fields, tail, MAX_PRODUCT_FIELD_VALUE)
    if finding.properties:
        extras = ((f"tollgate/property/{key}", value) for key, value in finding.properties)
        dropped = _string_map(fields, extras, MAX_PRODUCT_FIELD_VALUE)
        if dropped:
            warnings.append(f"ASFF finding for {finding.rule_id} ({finding.fingerprint}): {dropped} tool properties "
                            f"left out of ProductFields (Security Hub keeps at most {MAX_MAP_PAIRS} pairs)")
    return fields


def _resource(finding: Finding, frame: _Frame) -> dict[str, Any]:
    location = finding.location
    resource: dict[str, Any]
    if isinstance(location, ImageLocation):
        resource = _image_resource(location)
    elif isinstance(location, HostLocation):
        resource = _host_resource(location, frame)
    elif isinstance(location, UrlLocation):
        resource = {"Type": "Other", "Id": _resource_id(_url_without_query(location.url), "url"), "Details": {}}
    else:
        repository = frame.context.scope.repository
        details = {"CodeRepository": {"ProviderType": "GITHUB", "ProjectName": repository}}
        resource = {"Type": "CodeRepository", "Id": bounded(repository, MAX_ID), "Details": details}
    resource.setdefault("Region", frame.context.region)
    if frame.partition in RESOURCE_PARTITIONS:
        resource.setdefault("Partition", frame.partition)
    other = dict(frame.scope_other)
    _string_map(other, _location_pairs(finding), MAX_OTHER_VALUE)
    resource["Details"]["Other"] = other
    return resource


def _resource_id(name: str, kind: str) -> str:
    """Resources[].Id is required and never blank: a report's blank name becomes `unknown <kind>`."""
    return bounded(name.strip() or f"unknown {kind}", MAX_ID)


@functools.lru_cache(maxsize=256)  # a report names few images, each in many findings
def _ecr_image(reference: str) -> re.Match[str] | None:
    return _ECR_IMAGE.match(reference)


def _image_resource(location: ImageLocation) -> dict[str, Any]:
    ecr = _ecr_image(location.reference)
    if ecr is None:
        image_id = _resource_id(location.reference, "image")
        container: dict[str, Any] = {"ImageName": image_id}
        if _present(location.digest):
            container["ImageId"] = location.digest
        return {"Type": "Container", "Id": image_id, "Details": {"Container": container}}
    region = ecr["region"]
    partition = partition_for_region(region)
    digest = location.digest or ecr["digest"]
    image: dict[str, Any] = {"RegistryId": ecr["registry"], "RepositoryName": ecr["repository"]}
    if digest:
        image["ImageDigest"] = digest
    if ecr["tag"]:
        image["ImageTags"] = [ecr["tag"]]
    arn_tail = f"{ecr['repository']}/{digest}" if digest else ecr["repository"]
    resource = {
        "Type": "AwsEcrContainerImage",
        "Id": bounded(f"arn:{partition}:ecr:{region}:{ecr['registry']}:repository/{arn_tail}", MAX_ID),
        "Region": region,
        "Details": {"AwsEcrContainerImage": image},
    }
    if partition in RESOURCE_PARTITIONS:
        resource["Partition"] = partition
    return resource


def _host_resource(location: HostLocation, frame: _Frame) -> dict[str, Any]:
    if not location.instance_id:
        return {"Type": "Other", "Id": _resource_id(location.host, "host"), "Details": {}}
    context = frame.context
    arn = f"arn:{frame.partition}:ec2:{context.region}:{context.account}:instance/{location.instance_id}"
    return {"Type": "AwsEc2Instance", "Id": arn, "Details": {}}


def _url_without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", "")) if parts.netloc else url


def _location_pairs(finding: Finding) -> list[tuple[str, object]]:
    location = finding.location
    if isinstance(location, CodeLocation):
        return [("Path", location.path), ("StartLine", positive_int(location.start_line)),
                ("EndLine", positive_int(location.end_line))]
    if isinstance(location, PackageLocation):
        return _package_pairs(location)
    if isinstance(location, UrlLocation):
        return [("Url", location.url), ("Method", (location.method or "GET").upper()),
                ("Parameter", location.parameter), ("Attack", location.attack), ("Evidence", location.evidence)]
    if isinstance(location, ImageLocation):
        pairs: list[tuple[str, object]] = [("Image", location.reference), ("Digest", location.digest),
                                           ("Layer", location.layer)]
        return pairs + (_package_pairs(location.package) if location.package else [])
    return [("Host", location.host), ("InstanceId", location.instance_id), ("TestId", location.test_id),
            ("Group", location.group)]


def _package_pairs(package: PackageLocation) -> list[tuple[str, object]]:
    return [
        ("Package", package.name),
        ("PackageVersion", package.version),
        ("Purl", package.purl),
        ("Ecosystem", package.ecosystem),
        ("ManifestPath", package.manifest_path),
        ("FixedVersions", ", ".join(package.fixed_versions)),
    ]


def _remediation(finding: Finding, advisory: _Advisory) -> dict[str, str] | None:
    package = finding.package
    text = finding.remediation.text.strip() if finding.remediation and finding.remediation.text else ""
    if not text and package and package.fixed_versions:
        text = f"Upgrade {package.name} to {', '.join(package.fixed_versions)}."
    url = web_url(finding.remediation.url) if finding.remediation else None
    url = url or advisory.first_reference
    if not text and not url:
        return None
    recommendation = {"Text": truncate(text or "See the linked advisory.", MAX_RECOMMENDATION)}
    if url:
        recommendation["Url"] = url
    return recommendation


def _vulnerability(finding: Finding, advisory: _Advisory) -> dict[str, Any] | None:
    """Vulnerabilities[] for CVE/GHSA findings; CodeVulnerabilities for SAST findings in code."""
    if advisory.vulnerability is not None:
        return _advisory_vulnerability(finding, advisory.vulnerability)
    if finding.category is Category.SAST and isinstance(finding.location, CodeLocation) and _present(
            finding.location.path.rstrip("/")):
        # Id is required: a blank rule id (a report's `"rule": " "`) falls back to the title, never blank
        return {"Id": bounded(finding.rule_id.strip() or _title(finding), MAX_ID),
                "CodeVulnerabilities": [_code_vulnerability(finding, finding.location)]}
    return None


def _advisory_parts(finding: Finding) -> _AdvisoryVulnerability | None:
    """A CVE's or GHSA's parts of Vulnerabilities[], the same in every finding of that advisory; None for others."""
    # identity upper-cases ids to compare them; advisories keep their own spelling (GHSA-xxxx is lower case)
    upper = primary_vulnerability_id(finding)
    vendor = next(((name, url) for prefix, name, url in _VENDORS if upper.startswith(prefix)), None)
    if vendor is None:
        return None
    primary = next((v for v in finding.vulnerability_ids if v.upper() == upper), upper)
    return _AdvisoryVulnerability(
        primary=primary,
        related=[v for v in finding.vulnerability_ids if v != primary and _present(v)],
        cvss=[_cvss(score) for score in finding.cvss if score.version != "unknown" and math.isfinite(score.score)],
        vendor={"Name": vendor[0], "Url": vendor[1].format(primary), "VendorSeverity": _original_severity(finding)},
        references=list(web_urls(finding.references)[:MAX_REFERENCE_URLS]),
    )


def _advisory_vulnerability(finding: Finding, advisory: _AdvisoryVulnerability) -> dict[str, Any]:
    vulnerability: dict[str, Any] = {"Id": advisory.primary}
    if advisory.related:
        vulnerability["RelatedVulnerabilities"] = advisory.related
    package = finding.package
    if package:
        vulnerability["VulnerablePackages"] = [_software_package(package)]
        vulnerability["FixAvailable"] = "YES" if package.fixed_versions else "NO"
    if advisory.cvss:
        vulnerability["Cvss"] = advisory.cvss
    vulnerability["Vendor"] = advisory.vendor
    if finding.kev:  # CISA KEV: exploited in the wild (dates in ProductFields tollgate/Kev*)
        vulnerability["ExploitAvailable"] = "YES"
    if finding.epss:  # FIRST EPSS of the finding's CVE (percentile in ProductFields tollgate/Epss*)
        vulnerability["EpssScore"] = finding.epss.probability
    if advisory.references:
        vulnerability["ReferenceUrls"] = advisory.references
    return vulnerability


def _software_package(package: PackageLocation) -> dict[str, str]:
    fields = {
        "Name": package.name,
        "Version": package.version,
        "FixedInVersion": ", ".join(package.fixed_versions),
        "PackageManager": package.ecosystem,
        "FilePath": package.manifest_path,
    }
    return {key: value for key, value in fields.items() if _present(value)}


def _cvss(score: Cvss) -> dict[str, Any]:
    entry: dict[str, Any] = {"Version": score.version} if _present(score.version) else {}
    entry["BaseScore"] = score.score
    for key, value in (("BaseVector", score.vector), ("Source", score.source)):
        if _present(value):
            entry[key] = value
    return entry


def _present(text: str | None) -> TypeGuard[str]:
    """Text the model's `.*\\S.*` pattern accepts."""
    return bool(text and not text.isspace())


def _code_vulnerability(finding: Finding, location: CodeLocation) -> dict[str, Any]:
    # A folder (`src/`) has no file name of its own: the folder's name stands in for it.
    name = location.path.rstrip("/").rsplit("/", 1)[-1]
    file_path: dict[str, Any] = {"FilePath": location.path, "FileName": name if _present(name) else location.path}
    start, end = positive_int(location.start_line), positive_int(location.end_line)
    if start:
        file_path["StartLine"] = start
        file_path["EndLine"] = max(end or start, start)
    entry: dict[str, Any] = {"FilePath": file_path}
    if finding.cwe:
        entry["Cwes"] = [f"CWE-{cwe}" for cwe in finding.cwe]
    return entry


def _fit_size(document: dict[str, Any], warnings: list[str]) -> tuple[dict[str, Any], bytes] | None:
    """Under 240 KB of UTF-8: character limits alone do not bound bytes (a CJK character is 3).
    Checked after every step, the last one included: a finding still over the limit is left out.
    Returns the document with its serialization."""
    raw = orjson.dumps(document)
    size = len(raw)
    if size <= MAX_FINDING_BYTES:
        return document, raw
    applied: list[str] = []
    for name, shrink in _SHRINK_STEPS:
        shrink(document)
        applied.append(name)
        raw = orjson.dumps(document)
        if len(raw) <= MAX_FINDING_BYTES:
            warnings.append(f"ASFF finding {document['Id']}: {size} bytes serialized is over the "
                            f"{MAX_FINDING_BYTES}-byte limit; shortened {', '.join(applied)}")
            return document, raw
    warnings.append(f"ASFF finding {document['Id']}: {size} bytes serialized is over the {MAX_FINDING_BYTES}-byte "
                    f"limit even after shortening {', '.join(applied)}; left out of the ASFF output")
    return None


def _drop_tool_properties(document: dict[str, Any]) -> None:
    fields = document["ProductFields"]
    document["ProductFields"] = {k: v for k, v in fields.items() if not k.startswith("tollgate/property/")}


def _shorten_details(document: dict[str, Any]) -> None:
    for resource in document["Resources"]:
        other = resource["Details"].get("Other", {})
        resource["Details"]["Other"] = {key: truncate(value, 128) for key, value in other.items()}


def _shorten_texts(document: dict[str, Any]) -> None:
    document["Description"] = truncate(document["Description"], 256)
    document["Title"] = truncate(document["Title"], 128)
    if "Remediation" in document:
        recommendation = document["Remediation"]["Recommendation"]
        recommendation["Text"] = truncate(recommendation["Text"], 128)
    for vulnerability in document.get("Vulnerabilities", []):
        vulnerability.pop("ReferenceUrls", None)


def _shorten_product_fields(document: dict[str, Any]) -> None:
    document["ProductFields"] = {key: truncate(value, 128) for key, value in document["ProductFields"].items()}


def _shorten_everything(document: dict[str, Any]) -> None:
    """The last resort: every text and every list of the finding cut short, the Id excepted."""
    for key, value in document.items():
        if key != "Id":
            document[key] = _shortened(value)


def _shortened(value: Any) -> Any:
    if isinstance(value, str):
        return truncate(value, LAST_RESORT_TEXT)
    if isinstance(value, list):
        return [_shortened(item) for item in value[:MAX_REFERENCE_URLS]]
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    return value


_SHRINK_STEPS: tuple[tuple[str, Callable[[dict[str, Any]], None]], ...] = (
    ("ProductFields (tool properties dropped)", _drop_tool_properties),
    ("Resources[].Details.Other", _shorten_details),
    ("Title, Description, Remediation, ReferenceUrls", _shorten_texts),
    ("ProductFields values", _shorten_product_fields),
    (f"every text to {LAST_RESORT_TEXT} characters and list to {MAX_REFERENCE_URLS} items", _shorten_everything),
)
