"""What the consumers check: SARIF against the OASIS and GitHub schemas plus GitHub's ingestion
rules, ASFF against Tollgate's validator (botocore's model plus Security Hub's limits), and OCSF
against the 1.6.0 class schemas that the ocsf-json-schema package generates."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
import orjson
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from normalizers.asff_validator import validate_batch, validate_finding
from tests.conftest import SCHEMAS
from tests.github_sarif_rules import check


def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


OASIS = _validator("sarif-schema-2.1.0.json")
GITHUB = _validator("codeql-action_sarif-schema-2.1.0.json")


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Validate what the uploader will read: the orjson bytes, parsed back."""
    parsed = json.loads(orjson.dumps(document))
    return [f"{error.json_path}: {error.message}" for validator in (OASIS, GITHUB)
            for error in validator.iter_errors(parsed)]


def sarif_problems(document: dict[str, Any]) -> list[str]:
    return schema_errors(document) + [str(violation) for violation in check(document)]


def asff_problems(findings: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> list[str]:
    problems = [problem for finding in findings for problem in validate_finding(finding)]
    for start in range(0, len(findings), 100):
        problems += validate_batch(list(findings[start : start + 100]))
    return problems


@functools.cache
def _ocsf_validator(class_uid: int) -> jsonschema.protocols.Validator:
    """The OCSF 1.6.0 class schema, objects embedded, no profiles (Tollgate applies none)."""
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version="1.6.0"))
    class_schema = schema.get_class_schema(schema.lookup_class_name_from_uid(class_uid), profiles=[])
    return jsonschema.Draft202012Validator(class_schema, format_checker=jsonschema.FormatChecker())


def ocsf_problems(events: list[dict[str, Any]]) -> list[str]:
    """Every event against its own class's schema, as a consumer reads it (the orjson bytes, parsed back)."""
    parsed = json.loads(orjson.dumps(events))
    return [f"event {index} (class {event.get('class_uid')}) {error.json_path}: {error.message}"
            for index, event in enumerate(parsed) for error in _ocsf_validator(event["class_uid"]).iter_errors(event)]
