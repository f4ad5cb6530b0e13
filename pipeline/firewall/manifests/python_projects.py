"""pyproject.toml (PEP 621, PEP 735 groups and Poetry), poetry.lock and Pipfile.lock.

TOML and JSON parsers give no line numbers, so each reader finds the line by text after parsing:
a PEP 621 requirement string on the first line that quotes it after `[project]`; a Poetry
dependency on its `name =` line in its table; a lockfile package on the `name = "…"` line of its
own `[[package]]` block (the k-th block is the k-th package); a Pipfile.lock key by its JSON path.

Poetry's own constraint syntax (`^1.2`, `~1.2`, `1.2.*`) is kept as written; a bare version or
`==1.2` pins. Dependencies from a path, a VCS or a URL come from no registry and are reported as
not checked. Poetry's `python` entry is the interpreter, not a package.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from pipeline.firewall.manifests.base import Collected, Source, first_line, type_name
from pipeline.firewall.manifests.jsonlines import key_lines
from pipeline.firewall.manifests.requirements import pinned_version
from pipeline.firewall.model import Ecosystem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_NON_REGISTRY_KEYS = ("git", "path", "url", "file", "editable")
_EXACT_VERSION = re.compile(r"^(?:==)?\s*(\d[\w.!+-]*)$")


def _toml(source: Source) -> dict[str, Any]:
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML ({exc})") from None


def read_pyproject(source: Source, into: Collected) -> None:
    document = _toml(source)
    lines = source.text.splitlines()
    shape = _Shape(source, into, lines)
    project = shape.table(document, "project")
    strings = shape.strings(project.get("dependencies"), "project.dependencies")
    for group, listed in shape.table(project, "optional-dependencies").items():
        strings += shape.strings(listed, f"project.optional-dependencies.{group}")
    for group, listed in shape.table(document, "dependency-groups").items():
        strings += shape.strings(listed, f"dependency-groups.{group}", includes=True)
    start = (first_line(lines, "[project]") or 1) - 1
    for text in strings:
        _pep508(text, source, into, _quoted_line(lines, text, start))
    for table, header in _poetry_tables(shape, shape.table(shape.table(document, "tool"), "poetry")):
        header_line = first_line(lines, header) or 1
        for name, constraint in table.items():
            if name.lower() != "python":
                _poetry_dependency(name, constraint, source, into, _key_line(lines, name, header_line))


@dataclass(frozen=True)
class _Shape:
    """Reads a TOML document's tables and arrays; a value of the wrong type is one problem, never a crash."""

    source: Source
    into: Collected
    lines: list[str]

    def table(self, parent: dict[str, Any], key: str) -> dict[str, Any]:
        value = parent.get(key)
        if value is None or isinstance(value, dict):
            return value or {}
        self._wrong(key, f"`{key}` is {type_name(value)}, not a table")
        return {}

    def strings(self, value: Any, where: str, includes: bool = False) -> list[str]:
        """An array of requirement strings (PEP 735 groups may also hold `{include-group = ...}` tables)."""
        key = where.rsplit(".", 1)[-1]
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, f"`{where}` is {type_name(value)}, not an array of requirements")
            return []
        wrong = [item for item in value if not isinstance(item, str) and not (includes and isinstance(item, dict))]
        if wrong:
            self._wrong(key, f"`{where}` holds {type_name(wrong[0])} where a requirement belongs")
        return [item for item in value if isinstance(item, str)]

    def _wrong(self, key: str, reason: str) -> None:
        self.into.problem(self.source.relative, _key_line(self.lines, key, 0), f"{reason}; not read")


def _quoted_line(lines: list[str], text: str, start: int) -> int | None:
    return first_line(lines, f'"{text}"', start) or first_line(lines, f"'{text}'", start)


def _key_line(lines: list[str], name: str, header_line: int) -> int | None:
    pattern = re.compile(rf'^\s*["\']?{re.escape(name)}["\']?\s*=')
    return next((i + 1 for i in range(header_line, len(lines)) if pattern.match(lines[i])), None)


def _poetry_tables(shape: _Shape, poetry: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    for key in ("dependencies", "dev-dependencies"):
        yield shape.table(poetry, key), f"[tool.poetry.{key}]"
    groups = shape.table(poetry, "group")
    for group in groups:
        yield shape.table(shape.table(groups, group), "dependencies"), f"[tool.poetry.group.{group}.dependencies]"


def _pep508(text: str, source: Source, into: Collected, line: int | None) -> None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        into.problem(source.relative, line, f"{text!r} is not a PEP 508 requirement ({exc})")
        return
    if requirement.url:
        into.problem(source.relative, line, f"{requirement.name} @ a direct URL comes from no registry; not checked")
        return
    into.add(source.package(requirement.name, Ecosystem.PYPI, line, str(requirement.specifier),
                            pinned_version(requirement.specifier)))


def _poetry_dependency(name: str, constraint: Any, source: Source, into: Collected, line: int | None) -> None:
    for entry in constraint if isinstance(constraint, list) else [constraint]:  # multiple-constraint lists
        if isinstance(entry, dict) and any(key in entry for key in _NON_REGISTRY_KEYS):
            into.problem(source.relative, line, f"{name} comes from a path, VCS or URL, not a registry; not checked")
            continue
        spec = str(entry.get("version", "") if isinstance(entry, dict) else entry).strip()
        spec = "" if spec == "*" else spec
        exact = _EXACT_VERSION.match(spec)
        into.add(source.package(name, Ecosystem.PYPI, line, spec, exact[1] if exact else None))


def read_poetry_lock(source: Source, into: Collected) -> None:
    packages = _toml(source).get("package") or []
    if not isinstance(packages, list):
        raise ValueError(f"`package` is {type_name(packages)}, not an array of [[package]] tables")
    lines = source.text.splitlines()
    headers = [i for i, text in enumerate(lines) if text.strip() == "[[package]]"]
    for index, entry in enumerate(packages):
        start = headers[index] if index < len(headers) else 0
        name = entry.get("name") if isinstance(entry, dict) else None
        version = entry.get("version") if isinstance(entry, dict) else None
        line = first_line(lines, f'name = "{name}"', start) if isinstance(name, str) else start + 1
        origin = entry.get("source") if isinstance(entry, dict) else None
        source_type = origin.get("type") if isinstance(origin, dict) else None
        if source_type in ("git", "directory", "file", "url"):
            into.problem(source.relative, line, f"{name} comes from a {source_type} source, not a registry; "
                         "not checked")
        elif isinstance(name, str) and isinstance(version, str):
            into.add(source.package(name, Ecosystem.PYPI, line, f"=={version}", version))
        else:
            into.problem(source.relative, line, "a [[package]] entry without a name and version")


def read_pipfile_lock(source: Source, into: Collected) -> None:
    document = source.json_object()
    lines = key_lines(source.text)
    for section in ("default", "develop"):
        entries = document.get(section) or {}
        if not isinstance(entries, dict):
            into.problem(source.relative, lines.get((section,)), f"`{section}` is {type_name(entries)}, not an "
                         "object of packages; not read")
            continue
        for name, entry in entries.items():
            line = lines.get((section, name))
            if not isinstance(entry, dict) or any(key in entry for key in _NON_REGISTRY_KEYS):
                into.problem(source.relative, line, f"{name} comes from a path, VCS or URL, not a registry; "
                             "not checked")
                continue
            spec = entry.get("version") or ""
            if not isinstance(spec, str):
                into.problem(source.relative, line, f"{name}: the version is {type_name(spec)}, not a string; "
                             "not checked")
                continue
            exact = _EXACT_VERSION.match(spec)
            into.add(source.package(name, Ecosystem.PYPI, line, spec, exact[1] if exact else None))
