"""The package-vetting module against the code it runs: the ASL's placeholders are the module's
functions, each function's handler exists, every setting a handler reads is set, and the status
table is the one the state machine tests create (tests/pipeline/vetting/helpers.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.vetting import handlers
from tests.pipeline.vetting.helpers import ASL, HANDLERS, REPOSITORIES
from tests.terraform.helpers import MODULES, locals_of, merged, unwrap

MODULE = MODULES / "package-vetting"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def _locals() -> dict[str, object]:
    return locals_of(MODULE / "main.tf")


def test_the_asl_is_json_and_its_placeholders_are_the_modules_functions() -> None:
    text = ASL.read_text(encoding="utf-8")
    json.loads(text)  # valid JSON before rendering: every placeholder sits inside a string
    steps = _locals()["steps"]
    assert isinstance(steps, dict)
    assert set(PLACEHOLDER.findall(text)) == {f"{step}_function_arn" for step in steps}
    machine = merged(MODULE, "resource")[("aws_sfn_state_machine", "this")]
    definition = unwrap(machine["definition"])
    assert 'templatefile("${path.module}/vetting.asl.json"' in definition
    assert '"${step}_function_arn" => aws_lambda_function.this[step].arn' in definition


def test_every_function_runs_an_existing_handler_and_the_tests_run_the_same_ones() -> None:
    steps = _locals()["steps"]
    assert isinstance(steps, dict)
    function = merged(MODULE, "resource")[("aws_lambda_function", "this")]
    assert function["handler"] == "pipeline.vetting.handlers.${each.value.handler}"
    for step, spec in steps.items():
        assert callable(getattr(handlers, spec["handler"])), step
        assert HANDLERS[step] == f"pipeline.vetting.handlers.{spec['handler']}"
    assert _locals()["runtime"] == "python3.12"


def test_every_setting_the_handlers_read_is_set_by_the_module() -> None:
    source = Path(handlers.__file__).read_text(encoding="utf-8")
    read = set(re.findall(r'env\("([A-Z_]+)"', source)) | set(re.findall(r'PREFIX \+ "([A-Z_]+)"', source))
    environment = unwrap(_locals()["environment"])
    set_by_module = set(re.findall(r"TOLLGATE_VETTING_([A-Z_]+)\s*=", environment))
    # OFFLINE (cache only) is for the tests and air gaps, never the module's default.
    assert read - {"OFFLINE"} == set_by_module, read ^ set_by_module


def test_the_status_table_is_the_one_the_flow_and_its_tests_use() -> None:
    table = merged(MODULE, "resource")[("aws_dynamodb_table", "this")]
    assert table["hash_key"] == "id"
    assert table["attribute"] == [{"name": "id", "type": "S"}]
    assert table["ttl"][0] == {"attribute_name": "expires_at", "enabled": True}
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"][0]["enabled"] is True


def test_intake_repositories_have_the_public_upstream_and_vetted_ones_none() -> None:
    repository = merged(MODULE, "resource")[("aws_codeartifact_repository", "this")]
    [dynamic] = repository["dynamic"]
    assert unwrap(dynamic["external_connections"]["for_each"]) == (
        'each.value.role == "intake" ? [local.external_connections[each.value.ecosystem]] : []')
    assert _locals()["external_connections"] == {"pypi": "public:pypi", "npm": "public:npmjs"}
    assert set(REPOSITORIES) == set(merged(MODULE, "variable")["ecosystems"]["default"])


def test_only_the_copy_step_writes_into_vetted_and_only_the_block_step_imports_findings() -> None:
    documents = {name: body for (kind, name), body in merged(MODULE, "data").items()
                 if kind == "aws_iam_policy_document"}
    for name, body in documents.items():
        actions = {action for statement in body.get("statement", []) for action in statement["actions"]}
        assert ("codeartifact:CopyPackageVersions" in actions) == (name == "copy"), name
        assert ("securityhub:BatchImportFindings" in actions) == (name == "block"), name
        assert not {"codeartifact:PublishPackageVersion", "codeartifact:PutPackageMetadata"} & actions, name
    client = {action for statement in documents["client"]["statement"] for action in statement["actions"]}
    assert not {a for a in client if a.startswith("dynamodb:") and a != "dynamodb:GetItem"}  # clients never write
