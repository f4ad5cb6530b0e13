"""Checks of terraform/ that need no registry and no AWS account.

Every file is parsed with python-hcl2; Checkov runs offline once per session; `terraform validate`
runs offline where Terraform and a provider mirror are installed (tests.terraform_config); the
contracts between the modules and the Python code (the ASFF emitter, the importer's handler) are
checked against the code itself. UPDATE_SNAPSHOTS=1 rewrites the README tables from the variables.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from normalizers.emit.asff import AsffContext, emit_asff
from normalizers.model import Category, PackageLocation, Scope, Severity, Tool
from normalizers.model import Finding as ModelFinding
from pipeline.publish import lambda_handler
from pipeline.publish.lifecycle import PublishScope, format_timestamp, plan_import
from pipeline.scanners import ssm, zap_ssm
from pipeline.scope import parse_target
from tests.terraform.helpers import (
    DOCS_BEGIN,
    DOCS_END,
    EXAMPLES,
    MODULES,
    ROOT,
    TERRAFORM,
    OfflineTerraform,
    Validation,
    comparable_inputs,
    documented_inputs,
    documented_outputs,
    example_dirs,
    input_rows,
    labelled,
    locals_of,
    merged,
    module_dirs,
    output_rows,
    parse,
    render_docs,
    replace_docs,
    required_providers,
    required_version,
    resolve,
    tf_files,
    typed,
    unwrap,
)

pytest_plugins = ("tests.moto_server",)  # moto_server: STS for the plan's account lookup

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)
MODULE_NAMES = ["codebuild-scan", "findings-importer", "github-oidc-role", "monitoring", "package-vetting",
                "report-bucket", "security-hub"]
# Called only from other modules, never from a root module.
INTERNAL_MODULES = ["kms-key"]
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
# Files a module reads with file() or templatefile(), beside the four .tf files and the README.
MODULE_EXTRA_FILES = {"codebuild-scan": ("zap-document.yaml",), "package-vetting": ("vetting.asl.json",)}
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")
module_params = pytest.mark.parametrize("module", module_dirs(), ids=lambda path: path.name)


def test_the_modules_and_two_examples_exist() -> None:
    assert [path.name for path in module_dirs()] == sorted(MODULE_NAMES + INTERNAL_MODULES)
    assert [path.name for path in example_dirs()] == ["complete", "disabled"]
    for module in module_dirs():
        expected = MODULE_FILES + MODULE_EXTRA_FILES.get(module.name, ())
        assert sorted(path.name for path in module.iterdir()) == sorted(expected), module.name


@pytest.mark.parametrize("path", tf_files(), ids=lambda path: str(path.relative_to(TERRAFORM)))
def test_every_tf_file_parses(path: Path) -> None:
    document = parse(path)
    assert document, f"{path} parsed to nothing"


# ---------------------------------------------------------------------------------------------
# Module conventions (terraform-aws-modules)
# ---------------------------------------------------------------------------------------------


@module_params
def test_every_variable_has_a_type_and_a_markdown_safe_description(module: Path) -> None:
    for name, body in merged(module, "variable").items():
        assert unwrap(body.get("type")), f"{module.name}: variable {name} has no type"
        assert unwrap(body["type"]) != "any", f"{module.name}: variable {name} is typed any"
        description = body.get("description", "")
        assert len(description) > 10, f"{module.name}: variable {name} has no description"
        assert not set(description) & set("<>|"), f"{module.name}: {name}'s description breaks the README table"


@module_params
def test_create_toggle_drives_every_resource(module: Path) -> None:
    create = merged(module, "variable")["create"]
    assert (unwrap(create["type"]), create["default"]) == ("bool", True)
    for (type_name, name), body in merged(module, "resource").items():
        assert name == "this", f"{module.name}: {type_name}.{name} should be named this"
        toggle = unwrap(body.get("count") or body.get("for_each") or "")
        assert toggle, f"{module.name}: {type_name}.this is created unconditionally"
    for (type_name, name), body in merged(module, "data").items():
        if type_name in {"aws_iam_policy_document", "archive_file"}:
            toggle = body.get("count") or body.get("for_each")
            assert toggle, f"{module.name}: data {type_name}.{name} is read even when create = false"


@module_params
def test_outputs_are_described_and_null_safe(module: Path) -> None:
    for name, body in merged(module, "output").items():
        assert body.get("description"), f"{module.name}: output {name} has no description"
        value = unwrap(body["value"])
        if "[0]" in value:
            assert value.startswith("try("), f"{module.name}: output {name} indexes [0] outside try(): {value}"


@pytest.mark.parametrize("directory", [*module_dirs(), *example_dirs()], ids=lambda path: path.name)
def test_versions_pin_terraform_and_the_hashicorp_providers(directory: Path) -> None:
    assert required_version(directory) == ">= 1.5.0"
    providers = required_providers(directory)
    # 5.100 is the oldest build the modules are validated against (the offline mirror's); 6.x also fits.
    assert providers["aws"] == {"source": "hashicorp/aws", "version": ">= 5.100"}
    for name, provider in providers.items():
        assert provider["source"] == f"hashicorp/{name}"


@module_params
def test_readme_tables_match_variables_and_outputs(module: Path) -> None:
    readme_path = module / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    assert DOCS_BEGIN in readme and DOCS_END in readme, f"{readme_path} lacks the terraform-docs markers"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        readme = replace_docs(readme, render_docs(module))
        readme_path.write_text(readme, encoding="utf-8")
    assert documented_inputs(readme) == comparable_inputs(input_rows(module)), (
        f"{readme_path}: the inputs table is stale; run with UPDATE_SNAPSHOTS=1")
    assert documented_outputs(readme) == output_rows(module), (
        f"{readme_path}: the outputs table is stale; run with UPDATE_SNAPSHOTS=1")


def _local_module_calls() -> list[tuple[Path, str, dict[str, Any]]]:
    calls = []
    for path in tf_files():
        for name, body in labelled(parse(path), "module").items():
            calls.append((path, name, body))
    return calls


@pytest.mark.parametrize("call", _local_module_calls(), ids=lambda call: f"{call[0].parent.name}:{call[1]}")
def test_module_calls_pass_only_existing_inputs_and_every_required_one(call: tuple[Path, str, dict[str, Any]]) -> None:
    path, name, body = call
    source = (path.parent / body["source"]).resolve()
    assert source.parent == MODULES, f"{path}: module {name} is not one of terraform/modules"
    variables = merged(source, "variable")
    passed = set(body) - {"source", "count", "for_each", "depends_on", "providers"}
    assert passed <= set(variables), f"{path}: module {name} passes unknown inputs {sorted(passed - set(variables))}"
    required = {variable for variable, spec in variables.items() if "default" not in spec}
    assert required <= passed, f"{path}: module {name} misses required inputs {sorted(required - passed)}"


def test_examples_use_every_module_and_the_disabled_one_creates_nothing() -> None:
    for example in example_dirs():
        sources = {Path(body["source"]).name for body in merged(example, "module").values()}
        assert sources == set(MODULE_NAMES), f"{example.name} does not use every module"
    for name, body in merged(EXAMPLES / "disabled", "module").items():
        assert body["create"] is False, f"disabled example: module {name} is not create = false"


@pytest.mark.parametrize("example", example_dirs(), ids=lambda path: path.name)
def test_every_example_has_a_readme_that_says_how_to_run_it_and_what_it_uses(example: Path) -> None:
    readme = (example / "README.md").read_text(encoding="utf-8")
    for command in ("terraform init", "terraform plan"):
        assert command in readme, f"{example.name}/README.md does not say how to run it ({command})"
    for body in merged(example, "module").values():
        assert f"`{Path(body['source']).name}`" in readme, f"{example.name}/README.md omits {body['source']}"
    variables = merged(example, "variable")
    required = [name for name, spec in variables.items() if "default" not in spec]
    for name in required:
        assert f"{name}" in readme, f"{example.name}/README.md omits the required variable {name}"
    if not required:
        assert "takes no variables" in readme, f"{example.name}/README.md should say it takes no variables"


# ---------------------------------------------------------------------------------------------
# GitHub OIDC trust: validations evaluated as parsed expressions
# ---------------------------------------------------------------------------------------------

OIDC = MODULES / "github-oidc-role"
Rule = Callable[[str], bool]
_ALL_MATCH = re.compile(r'^alltrue\(\[for (\w+) in var\.subjects : can\(regex\("(.*)", \1\)\)\]\)$')
_NOT_CONTAINS = re.compile(r'^!contains\(var\.subjects, "(.*)"\)$')


def _hcl_string(literal: str) -> str:
    return literal.replace('\\"', '"').replace("\\\\", "\\")


def _subject_rule(condition: str) -> Rule:
    """A per-subject predicate from a validation condition over var.subjects (two forms are used)."""
    all_match = _ALL_MATCH.match(condition)
    if all_match:
        pattern = re.compile(_hcl_string(all_match.group(2)))
        return lambda subject: pattern.search(subject) is not None
    not_contains = _NOT_CONTAINS.match(condition)
    if not_contains:
        forbidden = _hcl_string(not_contains.group(1))
        return lambda subject: subject != forbidden
    raise AssertionError(f"the test cannot evaluate this subjects validation: {condition}")


def _subject_rules() -> dict[str, Rule]:
    """error_message -> rule, for every validation block of var.subjects."""
    validations = merged(OIDC, "variable")["subjects"]["validation"]
    return {block["error_message"]: _subject_rule(unwrap(block["condition"])) for block in validations}


def _rejections(subject: str) -> list[str]:
    return [message for message, rule in _subject_rules().items() if not rule(subject)]


@pytest.mark.parametrize("subject", [
    "repo:owner/name:ref:refs/heads/main",
    "repo:octo-org/octo.repo_1:environment:production",
    "repo:octo-org/octo-repo:pull_request",
    "repo:octo-org/octo-repo:ref:refs/tags/v*",
])
def test_oidc_subject_validation_accepts_pinned_repositories(subject: str) -> None:
    assert _rejections(subject) == []


@pytest.mark.parametrize(("subject", "reason"), [
    ("*", "every GitHub repository"),
    ("repo:*/x:*", "must not contain wildcards"),
    ("repo:own?r/name:ref:refs/heads/main", "must not contain wildcards"),
    ("repo:owner/*:ref:refs/heads/main", "must not contain wildcards"),
    ("repo:name:ref:refs/heads/main", "must start with repo:owner/name:"),
    ("repo:/name:ref:refs/heads/main", "must start with repo:owner/name:"),
    ("repo:owner/name", "must start with repo:owner/name:"),
    ("owner/name:ref:refs/heads/main", "must start with repo:owner/name:"),
])
def test_oidc_subject_validation_rejects_unpinned_subjects(subject: str, reason: str) -> None:
    rejections = _rejections(subject)
    assert any(reason in message for message in rejections), f"{subject!r} rejected only by {rejections}"


def test_oidc_audience_must_be_sts() -> None:
    audience = merged(OIDC, "variable")["audience"]
    assert audience["default"] == "sts.amazonaws.com"
    conditions = [unwrap(block["condition"]) for block in audience["validation"]]
    assert conditions == ['var.audience == "sts.amazonaws.com"']


def test_oidc_repositories_and_branches_cannot_widen_the_trust() -> None:
    variables = merged(OIDC, "variable")
    repository_rule = re.compile(_ALL_MATCH.pattern.replace(r"var\.subjects", r"var\.repositories"))
    condition = unwrap(variables["repositories"]["validation"][0]["condition"])
    match = repository_rule.match(condition)
    assert match, f"unexpected repositories validation: {condition}"
    pattern = re.compile(_hcl_string(match.group(2)))
    assert pattern.search("octo-org/octo-repo")
    for bad in ("*/octo-repo", "octo-org/*", "octo-org", "octo-org/octo-repo:ref"):
        assert not pattern.search(bad), bad
    branch_condition = unwrap(variables["branches"]["validation"][0]["condition"])
    assert 'branch != "*"' in branch_condition


def test_oidc_trust_pins_issuer_audience_and_subjects() -> None:
    local_values = locals_of(OIDC / "main.tf")
    assert local_values["oidc_host"] == "token.actions.githubusercontent.com"
    for name in ("branch_subjects", "environment_subjects", "pull_request_subjects"):
        assert '"repo:${' in unwrap(local_values[name]), f"{name} does not build repo:owner/name subjects"
    trust = merged(OIDC, "data")[("aws_iam_policy_document", "trust")]
    [statement] = trust["statement"]
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {(c["test"], c["variable"]): c["values"] for c in statement["condition"]}
    assert conditions == {
        ("StringEquals", "${local.oidc_host}:aud"): ["${var.audience}"],
        ("StringLike", "${local.oidc_host}:sub"): "${local.subjects}",
    }
    role = merged(OIDC, "resource")[("aws_iam_role", "this")]
    [precondition] = role["lifecycle"][0]["precondition"]
    assert unwrap(precondition["condition"]) == "length(local.subjects) > 0"


# ---------------------------------------------------------------------------------------------
# Least privilege
# ---------------------------------------------------------------------------------------------


def _policy_documents() -> list[tuple[str, str, dict[str, Any]]]:
    """(module, document name, statement) for every statement, dynamic ones included."""
    found = []
    for module in module_dirs():
        for (type_name, name), body in merged(module, "data").items():
            if type_name != "aws_iam_policy_document":
                continue
            statements = list(body.get("statement", []))
            for dynamic in body.get("dynamic", []):
                statements += [block["content"][0] for label, block in dynamic.items() if label == "statement"]
            found += [(module.name, name, statement) for statement in statements]
    return found


# Statements allowed on "*", each limited to actions that support no resource-level permissions.
NO_RESOURCE_LEVEL = {
    "WriteTraces": {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                    "xray:GetSamplingTargets"},
    "BearerTokenForCodeArtifact": {"sts:GetServiceBearerToken"},
    "ListRunCommands": {"ssm:ListCommands"},
    "DeliverExecutionLogs": {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                             "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                             "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"},
    "FollowSsmCommands": {"ssm:GetCommandInvocation", "ssm:CancelCommand"},
    "DescribeBuildNetwork": {"ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                             "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"},
}


def test_no_wildcard_actions_and_no_star_resources_outside_key_policies() -> None:
    for module, document, statement in _policy_documents():
        actions = statement.get("actions", [])
        assert "*" not in actions, f"{module}/{document}: action *"
        if module == "kms-key" or statement.get("effect") == "Deny":  # a key policy's "*" is the key itself
            continue
        assert not [a for a in actions if "*" in a], f"{module}/{document}: wildcard action in {actions}"
        resources = statement.get("resources", [])
        if isinstance(resources, list) and "*" in resources:
            sid = statement.get("sid", "")
            assert sid in NO_RESOURCE_LEVEL, f"{module}/{document}: {sid} on *"
            assert set(actions) <= NO_RESOURCE_LEVEL[sid], f"{module}/{document}: {sid} on * with {actions}"


def test_findings_are_imported_only_into_the_accounts_own_product() -> None:
    imports = [(m, s) for m, _, s in _policy_documents() if "securityhub:BatchImportFindings" in s.get("actions", [])]
    importers = {"codebuild-scan", "findings-importer", "github-oidc-role", "package-vetting"}
    assert {module for module, _ in imports} == importers
    for module, statement in imports:
        assert statement["actions"] == ["securityhub:BatchImportFindings"]
        [resource] = statement["resources"]
        assert re.fullmatch(
            r"arn:\$\{local\.partition\}:securityhub:\$\{local\.\w*region\}:\$\{local\.account_id\}"
            r":product/\$\{local\.account_id\}/default", resource), f"{module}: {resource}"
        local_values = locals_of(MODULES / module / "main.tf")
        assert unwrap(local_values["partition"]) == "data.aws_partition.current.partition"


def test_partition_is_never_hard_coded() -> None:
    for path in tf_files():
        assert not re.search(r"arn:aws(-[a-z-]+)?:", path.read_text(encoding="utf-8")), f"{path} hard-codes a partition"


def test_workflow_role_puts_reports_only_under_its_repositories_prefixes() -> None:
    [upload] = [s for m, _, s in _policy_documents() if m == "github-oidc-role" and "s3:PutObject" in s["actions"]]
    assert upload["actions"] == ["s3:PutObject"]
    assert unwrap(upload["resources"]) == (
        "[for repository in local.trusted_repositories : "
        '"${statement.value}/${local.reports_prefix}${repository}/*"]')
    s3_actions = [a for m, document, s in _policy_documents() if (m, document) == ("github-oidc-role", "permissions")
                  for a in s["actions"] if "s3:" in a]
    assert s3_actions == ["s3:PutObject"]  # the host audit's reads are a document of their own, behind its toggle


def test_reports_prefix_is_the_handlers_contract() -> None:
    for module in ("codebuild-scan", "findings-importer", "github-oidc-role"):
        assert locals_of(MODULES / module / "main.tf")["reports_prefix"] == lambda_handler.REPORTS_PREFIX


# ---------------------------------------------------------------------------------------------
# github-oidc-role: the OIDC provider and the host audit's SSM permissions
# ---------------------------------------------------------------------------------------------

# The IAM action of each boto3 call pipeline/scanners/ssm.py makes.
SSM_CALLS = {"send_command": "ssm:SendCommand", "get_command_invocation": "ssm:GetCommandInvocation",
             "cancel_command": "ssm:CancelCommand", "list_objects_v2": "s3:ListBucket", "get_object": "s3:GetObject"}


def test_the_oidc_provider_is_read_by_default_not_created_twice() -> None:
    variable = merged(OIDC, "variable")["create_oidc_provider"]
    assert variable["default"] is False and "already" in variable["description"]
    provider = merged(OIDC, "resource")[("aws_iam_openid_connect_provider", "this")]
    lookup = merged(OIDC, "data")[("aws_iam_openid_connect_provider", "this")]
    assert unwrap(provider["count"]) == "var.create && var.create_oidc_provider ? 1 : 0"
    assert unwrap(lookup["count"]) == "var.create && !var.create_oidc_provider ? 1 : 0"


def test_the_host_audit_grants_what_the_ssm_runner_calls_to_tagged_instances_only() -> None:
    source = (ROOT / "pipeline" / "scanners" / "ssm.py").read_text(encoding="utf-8")
    called = set(re.findall(r"\b(?:ssm|s3)\.(\w+)\(", source))
    assert called == set(SSM_CALLS), "pipeline/scanners/ssm.py calls something SSM_CALLS does not map"
    document = merged(OIDC, "data")[("aws_iam_policy_document", "host_audit")]
    assert unwrap(document["count"]) == "var.create && var.allow_host_audit ? 1 : 0"
    assert merged(OIDC, "variable")["allow_host_audit"]["default"] is False
    statements = {s["sid"]: s for m, name, s in _policy_documents() if (m, name) == ("github-oidc-role", "host_audit")}
    granted = {action for statement in statements.values() for action in statement["actions"]}
    assert granted == set(SSM_CALLS.values())
    send_document = statements["SendTheShellScriptDocument"]
    assert send_document["resources"] == ["arn:${local.partition}:ssm:${local.region}::document/" + ssm.DOCUMENT]
    assert "condition" not in send_document and "dynamic" not in send_document  # a document has no tags
    to_instances = statements["SendCommandsToTaggedInstances"]
    assert unwrap(to_instances["resources"]) == "local.host_audit_instances"
    [tag_condition] = [block["condition"] for block in to_instances["dynamic"] if "condition" in block]
    assert unwrap(tag_condition["for_each"]) == "var.host_audit_instance_tags"
    assert tag_condition["content"][0]["variable"] == "ssm:resourceTag/${condition.key}"
    assert [unwrap(v) for v in tag_condition["content"][0]["values"]] == ["condition.value"]
    instances = locals_of(OIDC / "main.tf")["host_audit_instances"]
    assert [arn.rsplit(":", 1)[1] for arn in instances] == ["instance/*", "managed-instance/*"]
    tags = merged(OIDC, "variable")["host_audit_instance_tags"]
    assert tags["default"] and "length(var.host_audit_instance_tags) > 0" in unwrap(tags["validation"][0]["condition"])
    permissions = merged(OIDC, "data")[("aws_iam_policy_document", "permissions")]
    assert unwrap(permissions["source_policy_documents"]) == "data.aws_iam_policy_document.host_audit[*].json"


# ---------------------------------------------------------------------------------------------
# codebuild-scan: the ZAP SSM document is the zap-ssm scanner's contract
# ---------------------------------------------------------------------------------------------

CODEBUILD = MODULES / "codebuild-scan"


def _zap_document(image: str = "ghcr.io/zaproxy/zaproxy@sha256:" + "0" * 64) -> dict[str, Any]:
    """The document as templatefile() renders it (only ${zap_image} is a template variable)."""
    text = (CODEBUILD / "zap-document.yaml").read_text(encoding="utf-8")
    assert re.findall(r"\$\{(\w+)\}", text) == ["zap_image"], "the document interpolates only the image"
    rendered: dict[str, Any] = yaml.safe_load(text.replace("${zap_image}", image))
    return rendered


def test_the_zap_document_holds_every_parameter_to_the_scanners_patterns() -> None:
    document = _zap_document()
    parameters = document["parameters"]
    assert parameters["targetUrl"]["allowedPattern"] == zap_ssm.TARGET_PATTERN
    assert parameters["reportBucket"]["allowedPattern"] == zap_ssm.BUCKET_PATTERN
    assert parameters["reportKey"]["allowedPattern"] == zap_ssm.KEY_PATTERN
    assert parameters["mode"]["allowedValues"] == zap_ssm.SCANNER.spec.options["mode"]["enum"]
    sent = zap_ssm.document_parameters(parse_target("http://localhost:8080/app"), "acme-reports",
                                       "tollgate/dast/r/zap-1.json", "baseline")
    assert set(sent) | {"executionTimeout"} == set(parameters)  # ssm.py adds executionTimeout
    for name, values in sent.items():
        pattern = parameters[name].get("allowedPattern")
        assert pattern is None or re.match(pattern, values[0]), name
    [step] = document["mainSteps"]
    assert step["action"] == "aws:runShellScript"
    assert step["inputs"]["timeoutSeconds"] == "{{ executionTimeout }}"
    # Every SSM parameter reaches the shell inside single quotes, which no allowed value can contain.
    script = "\n".join(step["inputs"]["runCommand"])
    for name in ("targetUrl", "mode", "reportBucket", "reportKey"):
        assert re.findall(r"'[^'\n]*\{\{ " + name + r" \}\}[^'\n]*'", script), name
        assert "'" not in (parameters[name].get("allowedPattern") or "")


@pytest.mark.parametrize("url", ["http://localhost:8080/?q=1'; rm -rf /", "http://a/$(id)", "http://a/`id`",
                                 "http://a/b c", "file:///etc/passwd"])
def test_the_target_pattern_refuses_shell_and_queries(url: str) -> None:
    assert not re.match(_zap_document()["parameters"]["targetUrl"]["allowedPattern"], url)


def test_the_zap_image_is_pinned_by_digest_and_is_the_dast_actions() -> None:
    variables = merged(CODEBUILD, "variable")
    action = yaml.safe_load((ROOT / "actions" / "dast" / "action.yml").read_text(encoding="utf-8"))
    assert variables["zap_image"]["default"] == action["inputs"]["zap-image"]["default"]
    assert re.fullmatch(r"ghcr\.io/zaproxy/zaproxy@sha256:[0-9a-f]{64}", variables["zap_image"]["default"])
    document = merged(CODEBUILD, "resource")[("aws_ssm_document", "this")]
    assert unwrap(document["content"]) == (
        'templatefile("${path.module}/zap-document.yaml", {zap_image = var.zap_image})')
    assert unwrap(locals_of(CODEBUILD / "main.tf")["document_name"]) == "${var.name}-zap"
    assert f"{variables['name']['default']}-zap" == zap_ssm.DOCUMENT


def test_the_codebuild_role_grants_only_what_the_buildspecs_use() -> None:
    statements = {s["sid"]: s for m, d, s in _policy_documents() if m == "codebuild-scan" and d == "permissions"}
    assert set(statements) == {
        "WriteBuildLogs", "UseOwnKey", "UploadReportsOfTheRepository", "ReadZapReports", "EncryptAndDecryptReports",
        "ImportFindingsIntoOwnProduct", "ReadFindingsForLifecycle", "SendTheZapDocumentToTheDastInstances",
        "FollowSsmCommands", "DescribeBuildNetwork", "ManageBuildNetworkInterfaces", "AttachBuildNetworkInterfaces"}
    assert statements["UploadReportsOfTheRepository"]["actions"] == ["s3:PutObject"]
    assert unwrap(statements["UploadReportsOfTheRepository"]["resources"]) == [
        "${statement.value}/${local.reports_prefix}${var.repository}/*"]
    assert statements["SendTheZapDocumentToTheDastInstances"]["actions"] == ["ssm:SendCommand"]
    assert unwrap(statements["SendTheZapDocumentToTheDastInstances"]["resources"]) == \
        "concat([statement.value], var.dast_instance_arns)"
    project = merged(CODEBUILD, "resource")[("aws_codebuild_project", "this")]
    assert project["environment"][0]["privileged_mode"] is False


def test_importer_runs_the_publishers_handler_on_python_3_12() -> None:
    local_values = locals_of(MODULES / "findings-importer" / "main.tf")
    assert local_values["runtime"] == "python3.12"
    module_name, _, function = local_values["handler"].rpartition(".")
    assert module_name == lambda_handler.__name__
    assert callable(getattr(lambda_handler, function))
    function_body = merged(MODULES / "findings-importer", "resource")[("aws_lambda_function", "this")]
    assert function_body["tracing_config"][0]["mode"] == "Active"
    assert unwrap(function_body["reserved_concurrent_executions"]) == "var.reserved_concurrent_executions"
    assert unwrap(function_body["dead_letter_config"][0]["target_arn"]) == 'aws_sqs_queue.this["dlq"].arn'
    # The zip make lambda-package builds; plan refuses a path that names no file.
    assert unwrap(function_body["filename"]) == "var.package_path"
    assert unwrap(function_body["source_code_hash"]) == "filebase64sha256(var.package_path)"
    [precondition] = function_body["lifecycle"][0]["precondition"]
    assert unwrap(precondition["condition"]) == "try(fileexists(var.package_path), false)"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m zipfile -c ../findings-importer.zip ." in makefile


def test_the_importer_consumes_the_event_queue_one_instance_at_a_time_and_reports_failed_messages() -> None:
    """The queue holds the organisation's bursts; failed messages are retried, then kept in the DLQ."""
    importer = MODULES / "findings-importer"
    resources, variables = merged(importer, "resource"), merged(importer, "variable")
    local_values = locals_of(importer / "main.tf")
    assert variables["reserved_concurrent_executions"]["default"] == 1
    mapping = resources[("aws_lambda_event_source_mapping", "this")]
    assert unwrap(mapping["event_source_arn"]) == 'aws_sqs_queue.this["events"].arn'
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]  # the handler's batchItemFailures
    queue = resources[("aws_sqs_queue", "this")]
    assert "deadLetterTargetArn = local.dlq_arn" in unwrap(queue["redrive_policy"])
    assert unwrap(local_values["queues"])  # events and dlq
    notification = resources[("aws_s3_bucket_notification", "this")]["queue"][0]
    assert notification["filter_prefix"] == "${local.reports_prefix}"
    assert local_values["reports_prefix"] == lambda_handler.REPORTS_PREFIX
    assert local_values["environment"].count("TOLLGATE_REFRESH_DAYS") == 1


# ---------------------------------------------------------------------------------------------
# One KMS key pattern: modules/kms-key
# ---------------------------------------------------------------------------------------------

KMS_KEY = MODULES / "kms-key"
KMS_CALLERS = ["codebuild-scan", "findings-importer", "monitoring", "package-vetting", "report-bucket", "security-hub"]
# Callers that had a key of their own before kms-key existed, and keep it in state with a moved block.
KMS_MOVED = ["findings-importer", "monitoring", "report-bucket", "security-hub"]


def test_the_kms_key_pattern_exists_once() -> None:
    keys = [(path, name) for path in tf_files() for (type_name, name) in typed(parse(path), "resource")
            if type_name == "aws_kms_key"]
    assert keys == [(KMS_KEY / "main.tf", "this")]
    root_grant = re.compile(r'actions\s*=\s*\["kms:\*"\]')
    root_grants = [path for path in tf_files() if root_grant.search(path.read_text(encoding="utf-8"))]
    assert root_grants == [KMS_KEY / "main.tf"]
    key = merged(KMS_KEY, "resource")[("aws_kms_key", "this")]
    assert key["enable_key_rotation"] is True
    assert unwrap(key["deletion_window_in_days"]) == "var.deletion_window_in_days"


def test_every_module_with_a_key_calls_kms_key_and_keeps_the_key_in_state() -> None:
    callers = {module.name: calls for module in module_dirs()
               if (calls := {name: body for name, body in merged(module, "module").items()
                             if body["source"] == "../kms-key"})}
    assert sorted(callers) == KMS_CALLERS
    for module, calls in callers.items():
        assert list(calls) == ["kms"], module
        assert unwrap(calls["kms"]["deletion_window_in_days"]) == "var.kms_key_deletion_window_days", module
        moved = [block for path in sorted((MODULES / module).glob("*.tf")) for block in parse(path).get("moved", [])
                 if "kms" in block["from"]]
        kept_key = [{"from": "${aws_kms_key.this}", "to": "${module.kms.aws_kms_key.this}"}]
        expected = kept_key if module in KMS_MOVED else []
        assert moved == expected, module

# ---------------------------------------------------------------------------------------------
# Event patterns, evaluated against real emitter output
# ---------------------------------------------------------------------------------------------


def _rule_matches(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return bool(rule == value)
    if "anything-but" in rule:
        return value not in rule["anything-but"]
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if rule.get("numeric", [None])[0] == ">=":
        return isinstance(value, (int, float)) and value >= rule["numeric"][1]
    raise AssertionError(f"the test does not implement the EventBridge rule {rule}")


def event_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching for the subset the modules use: values, prefix, anything-but, numeric >=, arrays,
    $or. A missing field matches nothing, anything-but included, as in EventBridge."""
    for key, expected in pattern.items():
        if key == "$or":
            if not any(event_matches(branch, event) for branch in expected):
                return False
            continue
        if key not in event:
            return False
        actual = event[key]
        candidates = actual if isinstance(actual, list) else [actual]
        if isinstance(expected, dict):
            if not any(isinstance(item, dict) and event_matches(expected, item) for item in candidates):
                return False
        elif not any(_rule_matches(rule, item) for rule in expected for item in candidates):
            return False
    return True


def _module_pattern(module: str, local_name: str) -> dict[str, Any]:
    path = MODULES / module
    return resolve(locals_of(path / "main.tf")[local_name], merged(path, "variable"), locals_of(path / "main.tf"))


def _imported_event(severity: Severity, active: bool = True, stored: list[dict[str, Any]] | None = None,
                    now: datetime = NOW) -> dict[str, Any]:
    """The event of importing one finding as the lifecycle sends it, given what Security Hub stored before."""
    finding = ModelFinding(
        tool=Tool("dependency-check", Category.SCA), rule_id="CVE-2023-33202", title="bcpg-jdk18on: CVE-2023-33202",
        severity=severity, location=PackageLocation("bcpg-jdk18on", "1.71", manifest_path="pom.xml"), active=active)
    context = AsffContext("123456789012", "us-east-1", Scope("octo-org/octo-repo"), now=format_timestamp(now))
    [emitted] = emit_asff([finding], context).findings
    scope = PublishScope(emitted["ProductArn"], "octo-org/octo-repo", frozenset({"sca"}))
    [document] = plan_import([emitted], stored or [], scope, now).findings
    # Security Hub adds the workflow status of a newly imported finding.
    document = {**document, "Workflow": {"Status": "NEW"}}
    return {"source": "aws.securityhub", "detail-type": "Security Hub Findings - Imported",
            "detail": {"findings": [json.loads(json.dumps(document))]}}


def test_security_hub_alert_rule_matches_what_the_emitter_writes() -> None:
    pattern = _module_pattern("security-hub", "alert_event_pattern")
    assert event_matches(pattern, _imported_event(Severity.CRITICAL))
    assert event_matches(pattern, _imported_event(Severity.HIGH))
    assert not event_matches(pattern, _imported_event(Severity.MEDIUM))
    assert not event_matches(pattern, _imported_event(Severity.HIGH, active=False))


def test_security_hub_alerts_once_per_first_sighting_and_again_only_when_worse() -> None:
    pattern = _module_pattern("security-hub", "alert_event_pattern")
    first = _imported_event(Severity.HIGH)["detail"]["findings"][0]
    stale = NOW + timedelta(days=45)  # old enough to be refreshed: re-imported, but with no alert
    assert not event_matches(pattern, _imported_event(Severity.HIGH, stored=[first], now=stale))
    assert event_matches(pattern, _imported_event(Severity.CRITICAL, stored=[first], now=NOW + timedelta(hours=1)))


def _ssm_event(name: str, document: str | None, caller: dict[str, Any]) -> dict[str, Any]:
    parameters = {"documentName": document} if document else {"name": "/app/x"}
    return {"source": "aws.ssm", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "ssm.amazonaws.com", "eventName": name, "userIdentity": caller,
                       "requestParameters": parameters}}


def test_the_ssm_alerts_ignore_tollgates_own_commands_and_nothing_else() -> None:
    role = "arn:aws:iam::123456789012:role/tollgate-github"
    path = MODULES / "monitoring"
    variables = merged(path, "variable")
    variables["ssm_tollgate_role_arns"] = {"default": [role]}
    local_values = locals_of(path / "main.tf")
    change = local_values["api_changes"]["ssm"]
    branches = [
        {"eventName": [{"anything-but": ["SendCommand"]}]},
        {"userIdentity": {"type": [{"anything-but": ["AssumedRole"]}]}},
        {"userIdentity": {"sessionContext": {"sessionIssuer": {"arn": [{"anything-but": [role]}]}}}},
        {"requestParameters": {"documentName": [{"anything-but": variables["ssm_tollgate_documents"]["default"]}]}},
    ]
    main_tf = (path / "main.tf").read_text(encoding="utf-8")
    for branch in ('{ eventName = [{ "anything-but" = ["SendCommand"] }] }',
                   '{ userIdentity = { type = [{ "anything-but" = ["AssumedRole"] }] } }',
                   'arn = [{ "anything-but" = var.ssm_tollgate_role_arns }]',
                   'documentName = [{ "anything-but" = var.ssm_tollgate_documents }]'):
        assert branch in main_tf  # the module's four branches (a conditional local, so spelled out here)
    pattern = {"source": ["aws.ssm"], "detail": {"eventSource": [change["event_source"]],
               "eventName": [{"prefix": name} for name in change["event_names"]], "$or": branches}}
    tollgate = {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"arn": role}}}
    someone = {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"arn": role.replace("tollgate", "ops")}}}
    user = {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/mallory"}
    assert not event_matches(pattern, _ssm_event("SendCommand", "AWS-RunShellScript", tollgate))
    assert not event_matches(pattern, _ssm_event("SendCommand", "tollgate-scan-zap", tollgate))
    assert event_matches(pattern, _ssm_event("SendCommand", "AWS-RunPowerShellScript", tollgate))
    assert event_matches(pattern, _ssm_event("SendCommand", "AWS-RunShellScript", someone))
    assert event_matches(pattern, _ssm_event("SendCommand", "AWS-RunShellScript", user))
    assert event_matches(pattern, _ssm_event("PutParameter", None, tollgate))
    assert event_matches(pattern, _ssm_event("UpdateDocument", "tollgate-scan-zap", tollgate))


def test_insights_filter_on_what_the_emitter_writes() -> None:
    local_values = locals_of(MODULES / "security-hub" / "main.tf")
    document = _imported_event(Severity.HIGH)["detail"]["findings"][0]
    assert document["ProductName"] == local_values["product_name"]
    assert document["GeneratorId"].startswith(local_values["generator_prefix"])
    assert document["Resources"][0]["Id"] == "octo-org/octo-repo"  # what open_by_repository groups by
    insight = merged(MODULES / "security-hub", "resource")[("aws_securityhub_insight", "this")]
    filters = insight["filters"][0]
    assert filters["product_name"][0] == {"comparison": "EQUALS", "value": "${local.product_name}"}
    assert filters["generator_id"][0] == {"comparison": "PREFIX", "value": "${local.generator_prefix}"}


def test_guardduty_alerts_start_at_severity_8() -> None:
    pattern = _module_pattern("monitoring", "guardduty_pattern")
    event = {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": 8.0}}
    assert event_matches(pattern, event)
    assert not event_matches(pattern, {**event, "detail": {"severity": 7.9}})


def test_api_change_alerts_cover_the_seed_pipelines_list() -> None:
    """SOURCES.md A: NACL, security group, IAM, access key, Lambda, S3 policy and SSM changes."""
    groups = locals_of(MODULES / "monitoring" / "main.tf")["api_changes"]
    expected = ["access_key", "iam", "lambda", "network_acl", "s3_policy", "security_group", "ssm"]
    assert sorted(groups) == expected
    assert sorted(merged(MODULES / "monitoring", "variable")["api_change_alerts"]["default"]) == expected
    lambda_event = {"source": "aws.lambda", "detail-type": "AWS API Call via CloudTrail",
                    "detail": {"eventSource": "lambda.amazonaws.com", "eventName": "UpdateFunctionCode20150331v2"}}
    names = [{"prefix": name} for name in groups["lambda"]["event_names"]]
    assert event_matches({"detail": {"eventName": names}}, lambda_event)


# ---------------------------------------------------------------------------------------------
# terraform validate, offline
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def offline_terraform(tmp_path_factory: pytest.TempPathFactory) -> OfflineTerraform:
    found = OfflineTerraform.find(tmp_path_factory.mktemp("terraform"))
    if isinstance(found, str):
        pytest.skip(found)
    return found


def _assert_valid(result: Validation) -> None:
    assert result.errors == [] and result.valid, "\n".join(error.text for error in result.errors)
    assert [warning.text for warning in result.warnings] == []  # deprecations included


@pytest.mark.parametrize("directory", [*module_dirs(), *example_dirs()], ids=lambda path: path.name)
def test_terraform_validate_passes(offline_terraform: OfflineTerraform, directory: Path) -> None:
    copy = offline_terraform.tree / directory.relative_to(TERRAFORM)
    missing = offline_terraform.missing_providers(copy)
    if missing:
        pytest.skip(f"no hashicorp/{', hashicorp/'.join(missing)} in the provider mirror (CI's terraform job has it)")
    _assert_valid(offline_terraform.validate(copy))


# What monitoring passes, with its references made literal.
_CLOUDTRAIL = {
    "sid": "CloudTrailEncryptsThisTrail",
    "service": "cloudtrail.amazonaws.com",
    "actions": ["kms:GenerateDataKey*", "kms:DescribeKey"],
    "conditions": [{"test": "StringEquals", "variable": "aws:SourceArn",
                    "values": ["arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/t"]}],
}
_EVENTS = {"sid": "EventBridgePublishesToEncryptedTopic", "service": "events.amazonaws.com",
           "actions": ["kms:GenerateDataKey*", "kms:Decrypt"]}
_ACTIONS = "actions must be non-empty and only"
_SIDS = "sids must be unique"
_PRINCIPAL = "service must be an AWS service principal"

# kms-key calls with literal arguments, so that validate runs the module's validations:
# name -> (arguments, the error expected, or None for a call that must pass).
KMS_KEY_CALLS: dict[str, tuple[dict[str, Any], str | None]] = {
    "accepted": ({"service_statements": [_CLOUDTRAIL, _EVENTS], "deletion_window_in_days": 7}, None),
    "disabled": ({"create": False, "service_statements": [_EVENTS]}, None),
    "every_action": ({"service_statements": [{**_EVENTS, "actions": ["kms:*"]}]}, _ACTIONS),
    "key_policy": ({"service_statements": [{**_EVENTS, "actions": ["kms:Decrypt", "kms:PutKeyPolicy"]}]}, _ACTIONS),
    "deletion": ({"service_statements": [{**_EVENTS, "actions": ["kms:ScheduleKeyDeletion"]}]}, _ACTIONS),
    "grants": ({"service_statements": [{**_EVENTS, "actions": ["kms:CreateGrant"]}]}, _ACTIONS),
    "no_action": ({"service_statements": [{**_EVENTS, "actions": []}]}, _ACTIONS),
    "any_principal": ({"service_statements": [{**_EVENTS, "service": "*"}]}, _PRINCIPAL),
    "account": ({"service_statements": [{**_EVENTS, "service": "111122223333"}]}, _PRINCIPAL),
    "lookalike": ({"service_statements": [{**_EVENTS, "service": "logs.amazonaws.com.example.org"}]}, _PRINCIPAL),
    "root_sid": ({"service_statements": [{**_EVENTS, "sid": "AccountAdministersKeyThroughIam"}]}, _SIDS),
    "same_sid": ({"service_statements": [_EVENTS, _EVENTS]}, _SIDS),
    "bad_sid": ({"service_statements": [{**_EVENTS, "sid": "two words"}]}, "letters and digits only"),
    "window_short": ({"deletion_window_in_days": 6}, "deletion_window_in_days must be between 7 and 30"),
    "window_long": ({"deletion_window_in_days": 31}, "deletion_window_in_days must be between 7 and 30"),
    "blank": ({"description": "  "}, "description must be non-empty"),
}


@pytest.fixture(scope="module")
def kms_key_calls(offline_terraform: OfflineTerraform) -> Validation:
    """One root module with every call of KMS_KEY_CALLS, validated once."""
    probe = offline_terraform.tree / "probes" / "kms-key"
    probe.mkdir(parents=True)
    calls = {name: {"source": "../../modules/kms-key", "description": "Tollgate probe", **arguments}
             for name, (arguments, _) in KMS_KEY_CALLS.items()}
    (probe / "main.tf.json").write_text(json.dumps({"module": calls}), encoding="utf-8")
    return offline_terraform.validate(probe)


@pytest.mark.parametrize("name", KMS_KEY_CALLS)
def test_kms_key_validations_refuse_what_widens_or_weakens_the_key(kms_key_calls: Validation, name: str) -> None:
    expected = KMS_KEY_CALLS[name][1]
    errors = kms_key_calls.errors_in(f"module.{name}")
    if expected is None:
        assert errors == []
    else:
        assert errors and all(expected in error for error in errors), "\n".join(errors) or "accepted"


def test_kms_key_calls_raise_no_error_outside_the_calls(kms_key_calls: Validation) -> None:
    contexts = {f"module.{name}" for name in KMS_KEY_CALLS}
    assert [error.text for error in kms_key_calls.errors if error.context not in contexts] == []


# Calls whose validations guard the toolchain's inputs: name -> (module, arguments, expected error or None).
PACKAGE = "findings-importer.zip"  # written into the probe folder, where terraform runs
INPUT_CALLS: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "package_built": ("findings-importer", {"package_path": PACKAGE}, None),
    "package_not_zip": ("findings-importer", {"package_path": "build/findings-importer"}, "must name the .zip"),
    "package_unbuilt": ("findings-importer", {"package_path": "build/absent.zip"}, None),  # checked at plan
    "host_audit": ("github-oidc-role", {"repositories": ["o/r"], "allow_host_audit": True,
                                       "host_audit_output_bucket_arn": "arn:aws:s3:::b"}, None),
    "host_audit_untagged": ("github-oidc-role", {"repositories": ["o/r"], "allow_host_audit": True,
                                                "host_audit_instance_tags": {}}, "must name at least one tag"),
    "host_audit_prefix": ("github-oidc-role", {"repositories": ["o/r"], "host_audit_output_prefix": "/x/"},
                          "without a leading or trailing slash"),
}


@pytest.fixture(scope="module")
def input_calls(offline_terraform: OfflineTerraform) -> Validation:
    probe = offline_terraform.tree / "probes" / "inputs"
    probe.mkdir(parents=True)
    (probe / PACKAGE).write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: only its existence is checked
    calls = {name: {"source": f"../../modules/{module}", **arguments}
             for name, (module, arguments, _) in INPUT_CALLS.items()}
    (probe / "main.tf.json").write_text(json.dumps({"module": calls}), encoding="utf-8")
    return offline_terraform.validate(probe)


@pytest.mark.parametrize("name", INPUT_CALLS)
def test_module_inputs_refuse_a_package_or_host_audit_that_cannot_work(input_calls: Validation, name: str) -> None:
    expected = INPUT_CALLS[name][2]
    errors = input_calls.errors_in(f"module.{name}")
    if expected is None:
        assert errors == []
    else:
        assert errors and all(expected in error for error in errors), "\n".join(errors) or "accepted"
    contexts = {f"module.{call}" for call in INPUT_CALLS}
    assert [error.text for error in input_calls.errors if error.context not in contexts] == []


def _plan_root(endpoint: str, modules: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A root module (JSON) whose AWS provider asks moto for the account; nothing else is called."""
    provider = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing",
                "skip_credentials_validation": True, "skip_requesting_account_id": True,
                "skip_metadata_api_check": True, "endpoints": [{"sts": endpoint}]}
    calls = {name: {**arguments, "source": f"../../modules/{arguments['source']}"}
             for name, arguments in modules.items()}
    return {"provider": {"aws": provider}, "module": calls}


def _planned(plan: dict[str, Any], module: str) -> list[dict[str, Any]]:
    return [change for change in plan["resource_changes"]
            if change["address"].startswith(f"module.{module}.") and change["change"]["actions"] == ["create"]]


def test_plan_creates_the_keys_and_rules_and_nothing_when_disabled(
        offline_terraform: OfflineTerraform, moto_server: str) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:tollgate-alerts"
    modules = {
        "security_hub": {"source": "security-hub"},
        "report_bucket": {"source": "report-bucket"},
        "monitoring": {"source": "monitoring", "alerts_topic_arn": topic},
        "monitoring_without_rules": {"source": "monitoring", "name": "tg2", "create_alert_rules": False},
        **{f"{name}_off": {"source": name, "create": False}
           for name in ("security-hub", "report-bucket", "monitoring", "github-oidc-role")},
    }
    probe = offline_terraform.tree / "probes" / "plan"
    probe.mkdir(parents=True)
    (probe / "main.tf.json").write_text(json.dumps(_plan_root(moto_server, modules)), encoding="utf-8")
    plan = offline_terraform.plan(probe)
    for name in ("security-hub_off", "report-bucket_off", "monitoring_off", "github-oidc-role_off"):
        assert _planned(plan, name) == [], f"{name} creates resources with create = false"
    rules = [c["index"] for c in _planned(plan, "monitoring") if c["type"] == "aws_cloudwatch_event_rule"]
    assert sorted(rules) == sorted([*locals_of(MODULES / "monitoring" / "main.tf")["api_changes"], "guardduty"])
    assert [c for c in _planned(plan, "monitoring_without_rules") if c["type"] == "aws_cloudwatch_event_rule"] == []
    expected_sids = {
        "security_hub": ["AccountAdministersKeyThroughIam", "EventBridgePublishesToEncryptedTopic"],
        "report_bucket": ["AccountAdministersKeyThroughIam"],
        "monitoring": ["AccountAdministersKeyThroughIam", "CloudTrailEncryptsThisTrail", "CloudTrailDescribesKey"],
    }
    for name, sids in expected_sids.items():
        [key] = [c for c in _planned(plan, name) if c["type"] == "aws_kms_key"]
        assert key["address"] == f"module.{name}.module.kms.aws_kms_key.this[0]"
        after = key["change"]["after"]
        assert (after["enable_key_rotation"], after["deletion_window_in_days"]) == (True, 30)
        policy = json.loads(after["policy"])
        assert [statement["Sid"] for statement in policy["Statement"]] == sids
        assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


# ---------------------------------------------------------------------------------------------
# Checkov, offline, once per session
# ---------------------------------------------------------------------------------------------


def _checkov_binary() -> Path | None:
    configured = os.environ.get("TOLLGATE_CHECKOV")
    candidate = Path(configured) if configured else ROOT / ".venv-checkov" / "bin" / "checkov"
    return candidate if candidate.is_file() else None


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    binary = _checkov_binary()
    if binary is None:
        pytest.skip("Checkov is not installed: run `make checkov` (it needs its own venv)")
    command = [str(binary), "-d", "terraform", "--framework", "terraform", "--skip-download", "-o", "json", "--quiet"]
    environment = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "1"}
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode in (0, 1), f"checkov failed to run: {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_reports_no_failed_checks(checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [f"{c['check_id']} {c['resource']} {c['file_path']}:{c['file_line_range']}"
              for c in checkov_report["results"].get("failed_checks", [])]
    assert failed == [], "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 0 and summary["passed"] > 0


def test_every_checkov_skip_is_inline_with_a_written_reason() -> None:
    skips = []
    for path in tf_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = SKIP_COMMENT.search(line)
            if match:
                skips.append((path.name, match.group(1), (match.group(2) or "").strip()))
    assert skips, "expected the documented skips (key policies, Lambda VPC, ...)"
    for name, check, reason in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), f"{name}: malformed check id {check}"
        assert len(reason.split()) >= 5, f"{name}: skip of {check} has no real reason: {reason!r}"
