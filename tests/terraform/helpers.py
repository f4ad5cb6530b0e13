"""Read Tollgate's Terraform with python-hcl2, render terraform-docs style tables, and run
`terraform init -backend=false` and `terraform validate` offline where a Terraform binary and a provider
mirror are installed.

Parsed HCL: blocks become dicts, string literals come back unquoted, and every other expression
comes back as its source text wrapped in `${...}`.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from tests.conftest import ROOT

TERRAFORM = ROOT / "terraform"
MODULES = TERRAFORM / "modules"
EXAMPLES = TERRAFORM / "examples"
DOCS_BEGIN = "<!-- BEGIN_TF_DOCS -->"
DOCS_END = "<!-- END_TF_DOCS -->"

_OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)
_WRAPPED = re.compile(r"^\$\{(.*)\}$", re.DOTALL)


def module_dirs() -> list[Path]:
    return sorted(path for path in MODULES.iterdir() if path.is_dir())


def example_dirs() -> list[Path]:
    return sorted(path for path in EXAMPLES.iterdir() if path.is_dir())


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


@functools.cache
def parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


def unwrap(value: Any) -> Any:
    """`${expr}` -> `expr`; literals are returned as they are."""
    if isinstance(value, str):
        match = _WRAPPED.match(value)
        return match.group(1) if match else value
    return value


def labelled(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Blocks with one label (variable, output, module), by label."""
    found: dict[str, dict[str, Any]] = {}
    for block in document.get(kind, []):
        found.update(block)
    return found


def typed(document: dict[str, Any], kind: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Blocks with a type and a name (resource, data), by (type, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for block in document.get(kind, []):
        for type_name, by_name in block.items():
            for name, body in by_name.items():
                found[(type_name, name)] = body
    return found


def merged(directory: Path, kind: str) -> dict[Any, dict[str, Any]]:
    """The blocks of one kind across every .tf file of a directory."""
    collect = labelled if kind in ("variable", "output", "module") else typed
    result: dict[Any, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        result.update(collect(parse(path), kind))
    return result


def locals_of(path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in parse(path).get("locals", []):
        values.update(block)
    return values


def required_providers(directory: Path) -> dict[str, dict[str, str]]:
    providers: dict[str, dict[str, str]] = {}
    for block in parse(directory / "versions.tf").get("terraform", []):
        for entry in block.get("required_providers", []):
            providers.update(entry)
    return providers


def required_version(directory: Path) -> str | None:
    blocks = parse(directory / "versions.tf").get("terraform", [])
    return next((block["required_version"] for block in blocks if "required_version" in block), None)


def resolve(value: Any, variables: dict[str, dict[str, Any]], local_values: dict[str, Any]) -> Any:
    """Replace whole-value `${var.x}` (its default) and `${local.x}` references, recursively."""
    if isinstance(value, dict):
        return {key: resolve(item, variables, local_values) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, variables, local_values) for item in value]
    reference = re.fullmatch(r"(var|local)\.(\w+)", str(unwrap(value))) if isinstance(value, str) else None
    if reference is None:
        return value
    kind, name = reference.groups()
    target = variables[name]["default"] if kind == "var" else local_values[name]
    return resolve(target, variables, local_values)


# ---------------------------------------------------------------------------------------------
# terraform-docs style tables
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputRow:
    name: str
    description: str
    type: str
    default: str
    required: bool


@dataclass(frozen=True)
class OutputRow:
    name: str
    description: str


def _hcl_literal(value: Any) -> str:
    return json.dumps(value)


def input_rows(module: Path) -> list[InputRow]:
    rows = []
    for name, body in sorted(merged(module, "variable").items()):
        required = "default" not in body
        default = "n/a" if required else _hcl_literal(body["default"])
        rows.append(InputRow(name, body["description"], unwrap(body["type"]), default, required))
    return rows


def output_rows(module: Path) -> list[OutputRow]:
    return [OutputRow(name, body["description"]) for name, body in sorted(merged(module, "output").items())]


def _anchor(kind: str, name: str) -> str:
    escaped = name.replace("_", "\\_")
    return f'<a name="{kind}_{name}"></a> [{escaped}](#{kind}\\_{escaped})'


def render_docs(module: Path) -> str:
    """The block between the BEGIN_TF_DOCS and END_TF_DOCS markers of a module README."""
    lines = ["## Requirements", "", "| Name | Version |", "|------|---------|"]
    lines.append(f"| {_anchor('requirement', 'terraform')} | {required_version(module)} |")
    for name, provider in sorted(required_providers(module).items()):
        lines.append(f"| {_anchor('requirement', name)} | {provider['version']} |")
    lines += ["", "## Inputs", "", "| Name | Description | Type | Default | Required |",
              "|------|-------------|------|---------|:--------:|"]
    for row in input_rows(module):
        default = row.default if row.required else f"`{row.default}`"
        lines.append(f"| {_anchor('input', row.name)} | {row.description} | `{row.type}` | {default} | "
                     f"{'yes' if row.required else 'no'} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    lines += [f"| {_anchor('output', row.name)} | {row.description} |" for row in output_rows(module)]
    return "\n".join(lines)


_ROW_NAME = re.compile(r'<a name="(input|output)_(\w+)"></a>')


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _plain(cell: str) -> str:
    """A table cell without markup or whitespace, so a terraform-docs rendering compares equal."""
    for markup in ("`", "<pre>", "</pre>", "<br/>", "<br>"):
        cell = cell.replace(markup, "")
    return re.sub(r"\s+", "", cell.replace("&quot;", '"').replace("\\|", "|"))


def documented_inputs(readme: str) -> list[InputRow]:
    rows = []
    for line in readme.splitlines():
        match = _ROW_NAME.search(line)
        if match and match.group(1) == "input":
            _, description, type_, default, required = _cells(line)
            rows.append(InputRow(match.group(2), description, _plain(type_), _plain(default), required == "yes"))
    return rows


def documented_outputs(readme: str) -> list[OutputRow]:
    rows = []
    for line in readme.splitlines():
        match = _ROW_NAME.search(line)
        if match and match.group(1) == "output":
            rows.append(OutputRow(match.group(2), _cells(line)[1]))
    return rows


def comparable_inputs(rows: list[InputRow]) -> list[InputRow]:
    return [InputRow(row.name, row.description, _plain(row.type), _plain(row.default), row.required) for row in rows]


def replace_docs(readme: str, docs: str) -> str:
    head, _, rest = readme.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    return f"{head}{DOCS_BEGIN}\n{docs}\n{DOCS_END}{tail}"


# ---------------------------------------------------------------------------------------------
# terraform validate, offline
# ---------------------------------------------------------------------------------------------

DEFAULT_PLUGIN_MIRROR = Path("/opt/tf-plugins")
_REGISTRY = "registry.terraform.io/hashicorp"
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


@dataclass(frozen=True)
class MirroredProvider:
    name: str
    version: tuple[int, ...]
    directory: Path  # holds terraform-provider-NAME_vX.Y.Z*


def mirrored_providers(mirror: Path) -> dict[str, MirroredProvider]:
    """The newest build for this platform of each hashicorp provider in a filesystem mirror."""
    target = f"{platform.system().lower()}_{_MACHINES.get(platform.machine().lower(), platform.machine())}"
    found: dict[str, MirroredProvider] = {}
    for binary in sorted((mirror / _REGISTRY).glob(f"*/*/{target}/terraform-provider-*")):
        name, version = binary.parents[2].name, _version(binary.parents[1].name)
        if name not in found or version > found[name].version:
            found[name] = MirroredProvider(name, version, binary.parent)
    return found


def providers_needed(directory: Path) -> set[str]:
    """Providers required by a configuration and every local module it calls."""
    needed = set(required_providers(directory))
    for body in merged(directory, "module").values():
        needed |= providers_needed((directory / body["source"]).resolve())
    return needed


@dataclass(frozen=True)
class Diagnostic:
    context: str  # the block it points into, e.g. module.kms; empty when none
    text: str


@dataclass(frozen=True)
class Validation:
    valid: bool
    errors: list[Diagnostic]
    warnings: list[Diagnostic]

    def errors_in(self, context: str) -> list[str]:
        return [error.text for error in self.errors if error.context == context]


class OfflineTerraform:
    """`terraform init -backend=false` and `terraform validate` on a copy of terraform/, offline.

    The CLI configuration names the mirror as a filesystem_mirror and nothing else, so `init`
    installs the providers from it the way a user's init installs them from the registry: the
    modules' version constraints are checked against the mirrored builds, and a provider the
    mirror lacks fails init instead of being fetched.
    """

    def __init__(self, binary: Path, mirror: Path, providers: dict[str, MirroredProvider], workdir: Path) -> None:
        self.binary = binary
        self.providers = providers
        self.workdir = workdir
        self.tree = workdir / "terraform"
        shutil.copytree(TERRAFORM, self.tree, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        self.cli_config = workdir / "terraformrc"
        self.cli_config.write_text(
            f"provider_installation {{\n  filesystem_mirror {{\n    path = {json.dumps(str(mirror))}\n  }}\n}}\n",
            encoding="utf-8")

    @classmethod
    def find(cls, workdir: Path) -> OfflineTerraform | str:
        """The runner, or why it cannot run here."""
        configured = os.environ.get("TOLLGATE_TERRAFORM")
        binary = Path(configured) if configured else Path(shutil.which("terraform") or "terraform")
        if not binary.is_file():
            return "no terraform binary (set TOLLGATE_TERRAFORM or put terraform on PATH)"
        mirror = Path(os.environ.get("TOLLGATE_TF_PLUGIN_MIRROR", DEFAULT_PLUGIN_MIRROR))
        providers = mirrored_providers(mirror)
        if "aws" not in providers:
            return f"no hashicorp/aws build in the provider mirror {mirror} (set TOLLGATE_TF_PLUGIN_MIRROR)"
        return cls(binary, mirror, providers, workdir)

    def missing_providers(self, directory: Path) -> list[str]:
        return sorted(providers_needed(directory) - set(self.providers))

    def _run(self, directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "TF_CLI_CONFIG_FILE": str(self.cli_config), "CHECKPOINT_DISABLE": "1",
                       "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
                       "TF_DATA_DIR": str(self.workdir / "data" / str(directory.relative_to(self.tree)))}
        return subprocess.run([str(self.binary), *arguments], cwd=directory, env=environment, capture_output=True,
                              text=True, timeout=300, check=False)

    def plan(self, directory: Path) -> dict[str, Any]:
        """`terraform plan` of a directory of the copy; returns `terraform show -json` of the plan."""
        self._must(directory, "init", "-backend=false", "-input=false", "-no-color")
        self._must(directory, "plan", "-no-color", "-lock=false", "-out=tollgate.tfplan")
        return dict(json.loads(self._must(directory, "show", "-json", "tollgate.tfplan").stdout))

    def _must(self, directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
        result = self._run(directory, *arguments)
        if result.returncode != 0:
            raise AssertionError(f"terraform {arguments[0]} failed in {directory}: {result.stderr[-3000:]}")
        return result

    def validate(self, directory: Path) -> Validation:
        """Validate a directory of the copy (terraform/... relative to self.tree)."""
        self._must(directory, "init", "-backend=false", "-input=false", "-no-color")
        result = self._run(directory, "validate", "-json", "-no-color")
        report = json.loads(result.stdout)
        found: dict[str, list[Diagnostic]] = {"error": [], "warning": []}
        for diagnostic in report.get("diagnostics", []):
            where = diagnostic.get("range", {}).get("filename", "")
            text = f"{where}: {diagnostic['summary']}: {diagnostic.get('detail', '')}"
            found[diagnostic["severity"]].append(Diagnostic(diagnostic.get("snippet", {}).get("context") or "", text))
        return Validation(bool(report["valid"]), found["error"], found["warning"])
