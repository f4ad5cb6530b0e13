"""What the consumers check: SARIF against the OASIS and GitHub schemas plus GitHub's ingestion
rules, and ASFF against Tollgate's validator (botocore's model plus Security Hub's limits)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import orjson

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
