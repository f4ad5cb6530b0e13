"""Validate ASFF findings before BatchImportFindings sees them.

botocore's ParamValidator checks the `BatchImportFindings` input shape: member names, types,
required members and minimum lengths. It does not check enums, maximum lengths, patterns,
or the rules Security Hub only states in prose, and Security Hub itself answers HTTP 200 with
`FailedFindings` (or silently keeps garbage: moto accepts all of it). So this module adds:
the enums and `.*\\S.*` patterns of the model, walked generically; the documented limits (Id,
GeneratorId, Title, Description, Resources, ProductFields, Details.Other, 240 KB per finding,
100 findings and 6 MB per batch); the Types taxonomy; RFC 3339 timestamps with
UpdatedAt ≥ CreatedAt; the ProductArn shape and partition; a 12-digit account; unique Ids.

botocore (not boto3) is imported here only: the importer Lambda ships it, the emitters do not.
Every message names the finding Id and the field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

import orjson
from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape
from botocore.validate import ParamValidator

from normalizers.emit.asff import FINDING_TYPE_TAXONOMY, partition_for_region

MAX_BATCH_FINDINGS = 100
MAX_BATCH_BYTES = 6 * 1024 * 1024
MAX_FINDING_BYTES = 240 * 1024
MAX_TYPES = 50
MAX_MAP_PAIRS = 50
MAX_MAP_KEY = 128
MAX_PRODUCT_FIELD_VALUE = 2048
MAX_OTHER_VALUE = 1023
TEXT_LIMITS = (("Id", 1, 512), ("GeneratorId", 1, 512), ("Title", 1, 256), ("Description", 1, 1024))
TIMESTAMP_FIELDS = ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt")
# Security Hub's accepted forms: seconds, up to 9 fraction digits, `Z` or an offset within ±18:00.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):?(\d{2}))$"
)
_PRODUCT_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):securityhub:(?P<region>[a-z0-9-]+):(?P<account>\d{12})?:"
    r"product/(?P<company>[^/]+)/(?P<product>[^/]+)$"
)
_ACCOUNT = re.compile(r"^\d{12}$")


@cache
def _input_shape() -> Shape:
    """The BatchImportFindings input shape, loaded once from botocore's bundled model."""
    model = ServiceModel(Loader().load_service_model("securityhub", "service-2"), service_name="securityhub")
    return model.operation_model("BatchImportFindings").input_shape


def _finding_shape() -> Shape:
    return _input_shape().members["Findings"].member


def validate_finding(finding: dict[str, Any]) -> list[str]:
    """Every problem with one finding, each as `<Id>: <field>: <problem>`; empty when it is valid."""
    label = str(finding.get("Id") or "<no Id>")
    problems = _botocore_problems(finding)
    problems += _model_constraint_problems(finding, _finding_shape(), "")
    for check in _CHECKS:
        problems += check(finding)
    return [f"{label}: {problem}" for problem in problems]


def validate_batch(findings: Sequence[dict[str, Any]]) -> list[str]:
    """Each finding's problems plus the batch limits: 1 to 100 findings, ≤6 MB, no repeated Id."""
    problems: list[str] = []
    if not 1 <= len(findings) <= MAX_BATCH_FINDINGS:
        problems.append(f"batch: {len(findings)} findings; BatchImportFindings takes 1 to {MAX_BATCH_FINDINGS}")
    size = len(orjson.dumps({"Findings": list(findings)}))
    if size > MAX_BATCH_BYTES:
        problems.append(f"batch: {size} bytes serialized; BatchImportFindings takes at most {MAX_BATCH_BYTES}")
    seen: set[tuple[object, object]] = set()
    for finding in findings:
        key = (finding.get("ProductArn"), finding.get("Id"))
        if key in seen:
            problems.append(f"{finding.get('Id')}: Id: appears twice in the batch; the second import overwrites "
                            "the first")
        seen.add(key)
        problems += validate_finding(finding)
    return problems


def _botocore_problems(finding: dict[str, Any]) -> list[str]:
    report = ParamValidator().validate({"Findings": [finding]}, _input_shape())
    if not report.has_errors():
        return []
    lines = report.generate_report().splitlines()
    return [line.replace("Findings[0].", "").replace("Findings[0]", "finding") for line in lines]


def _model_constraint_problems(value: Any, shape: Shape, path: str) -> list[str]:
    """Enums, patterns, and max lengths of the model, which ParamValidator leaves unchecked."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return [problem for name, member in shape.members.items() if name in value
                for problem in _model_constraint_problems(value[name], member, _join(path, name))]
    if shape.type_name == "list" and isinstance(value, list):
        problems = _length_problems(len(value), shape, path, "items")
        for index, item in enumerate(value):
            problems += _model_constraint_problems(item, shape.member, f"{path}[{index}]")
        return problems
    if shape.type_name == "map" and isinstance(value, dict):
        return [problem for key, item in value.items()
                for problem in _model_constraint_problems(item, shape.value, f"{path}.{key}")]
    if shape.type_name == "string" and isinstance(value, str):
        return _string_problems(value, shape, path)
    return []


def _string_problems(value: str, shape: Shape, path: str) -> list[str]:
    enum = shape.enum
    if enum and value not in enum:
        return [f"{path}: {value!r} is not one of {', '.join(enum)}"]
    problems = _length_problems(len(value), shape, path, "characters")
    pattern = shape.metadata.get("pattern")
    if pattern and re.fullmatch(pattern, value, re.DOTALL) is None:
        problems.append(f"{path}: {_preview(value)} does not match the pattern {pattern}")
    return problems


def _length_problems(length: int, shape: Shape, path: str, unit: str) -> list[str]:
    maximum = shape.metadata.get("max")
    if maximum is not None and length > maximum:
        return [f"{path}: {length} {unit}, at most {maximum} allowed"]
    return []


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _preview(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _text_limits(finding: dict[str, Any]) -> list[str]:
    problems = []
    for field, minimum, maximum in TEXT_LIMITS:
        value = finding.get(field)
        if isinstance(value, str) and not minimum <= len(value) <= maximum:
            problems.append(f"{field}: {len(value)} characters, must be {minimum} to {maximum}")
    return problems


def _types(finding: dict[str, Any]) -> list[str]:
    problems = []
    if not finding.get("Types"):
        problems.append("Types: required by Security Hub (botocore does not mark it), at least one type")
    for field, types in (("Types", finding.get("Types")), ("FindingProviderFields.Types", _provider(finding, "Types"))):
        if isinstance(types, list):
            problems += _type_list_problems(field, types)
    return problems


def _type_list_problems(field: str, types: list[Any]) -> list[str]:
    problems = [f"{field}: {len(types)} types, at most {MAX_TYPES}"] if len(types) > MAX_TYPES else []
    for index, finding_type in enumerate(types):
        problem = _type_problem(finding_type) if isinstance(finding_type, str) else "not a string"
        if problem:
            problems.append(f"{field}[{index}]: {finding_type!r} {problem}")
    return problems


def _type_problem(finding_type: str) -> str | None:
    parts = finding_type.split("/")
    if len(parts) > 3 or any(not part.strip() for part in parts):
        return "is not namespace[/category[/classifier]]"
    categories = FINDING_TYPE_TAXONOMY.get(parts[0])
    if categories is None:
        return f"has namespace {parts[0]!r}, not one of {', '.join(sorted(FINDING_TYPE_TAXONOMY))}"
    if len(parts) > 1 and parts[1] not in categories:
        return f"has category {parts[1]!r}, not one of {', '.join(sorted(categories))}"
    return None


def _provider(finding: dict[str, Any], field: str) -> Any:
    provider = finding.get("FindingProviderFields")
    return provider.get(field) if isinstance(provider, dict) else None


def _severity(finding: dict[str, Any]) -> list[str]:
    severity = finding.get("Severity")
    if not isinstance(severity, dict) or not severity.get("Label"):
        return ["Severity.Label: required by Security Hub (Normalized is deprecated)"]
    return []


def _timestamps(finding: dict[str, Any]) -> list[str]:
    problems = []
    parsed: dict[str, datetime] = {}
    for field in TIMESTAMP_FIELDS:
        value = finding.get(field)
        if not isinstance(value, str):
            continue
        moment = parse_timestamp(value)
        if moment is None:
            problems.append(f"{field}: {value!r} is not an RFC 3339 timestamp Security Hub accepts")
        else:
            parsed[field] = moment
    if "CreatedAt" in parsed and "UpdatedAt" in parsed and parsed["UpdatedAt"] < parsed["CreatedAt"]:
        problems.append(f"UpdatedAt: {finding['UpdatedAt']} is before CreatedAt {finding['CreatedAt']}")
    return problems


def parse_timestamp(value: str) -> datetime | None:
    """The instant of a Security Hub timestamp, or None when the form or a field is invalid."""
    match = _RFC3339.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    offset = timedelta(0)
    if match[8] != "Z":
        offset = timedelta(hours=int(match[10]), minutes=int(match[11]))
        if offset > timedelta(hours=18) or int(match[11]) >= 60:
            return None
        offset = offset if match[9] == "+" else -offset
    microsecond = int((match[7] or "0").ljust(9, "0")[:6])
    try:
        return datetime(year, month, day, hour, minute, second, microsecond, timezone(offset))
    except ValueError:
        return None


def _product_arn(finding: dict[str, Any]) -> list[str]:
    arn = finding.get("ProductArn")
    if not isinstance(arn, str):
        return []
    match = _PRODUCT_ARN.match(arn)
    if match is None:
        return [f"ProductArn: {arn!r} is not arn:<partition>:securityhub:<region>:[<account>]:"
                "product/<company>/<product>"]
    problems = []
    expected = partition_for_region(match["region"])
    if match["partition"] != expected:
        problems.append(f"ProductArn: partition {match['partition']!r} does not match region {match['region']!r} "
                        f"(expected {expected!r})")
    if match["product"] == "default" and match["account"] != finding.get("AwsAccountId"):
        problems.append(f"ProductArn: a custom integration imports only for its own account; the ARN names "
                        f"{match['account']!r} but AwsAccountId is {finding.get('AwsAccountId')!r}")
    return problems


def _account(finding: dict[str, Any]) -> list[str]:
    account = finding.get("AwsAccountId")
    if isinstance(account, str) and not _ACCOUNT.match(account):
        return [f"AwsAccountId: {account!r} is not 12 digits"]
    return []


def _resources(finding: dict[str, Any]) -> list[str]:
    resources = finding.get("Resources")
    if not isinstance(resources, list):
        return []
    problems = [] if 1 <= len(resources) <= 32 else [f"Resources: {len(resources)} resources, must be 1 to 32"]
    for index, resource in enumerate(resources):
        details = resource.get("Details") if isinstance(resource, dict) else None
        other = details.get("Other") if isinstance(details, dict) else None
        if isinstance(other, dict):
            problems += _map_problems(f"Resources[{index}].Details.Other", other, MAX_OTHER_VALUE)
    return problems


def _product_fields(finding: dict[str, Any]) -> list[str]:
    fields = finding.get("ProductFields")
    return _map_problems("ProductFields", fields, MAX_PRODUCT_FIELD_VALUE) if isinstance(fields, dict) else []


def _map_problems(field: str, pairs: dict[Any, Any], value_limit: int) -> list[str]:
    problems = [f"{field}: {len(pairs)} pairs, at most {MAX_MAP_PAIRS}"] if len(pairs) > MAX_MAP_PAIRS else []
    for key, value in pairs.items():
        if len(str(key)) > MAX_MAP_KEY:
            problems.append(f"{field}: key {_preview(str(key))} is {len(str(key))} characters, at most {MAX_MAP_KEY}")
        if isinstance(value, str) and len(value) > value_limit:
            problems.append(f"{field}.{key}: {len(value)} characters, at most {value_limit}")
    return problems


def _size(finding: dict[str, Any]) -> list[str]:
    size = len(orjson.dumps(finding))
    return [f"finding: {size} bytes serialized, at most {MAX_FINDING_BYTES}"] if size > MAX_FINDING_BYTES else []


_CHECKS = (_text_limits, _types, _severity, _timestamps, _product_arn, _account, _resources, _product_fields, _size)

