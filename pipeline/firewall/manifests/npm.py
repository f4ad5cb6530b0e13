"""package.json and package-lock.json / npm-shrinkwrap.json (lockfileVersion 1, 2 and 3).

- package.json: `dependencies`, `devDependencies`, `optionalDependencies` and `peerDependencies`.
  An alias `"x": "npm:real@^1"` installs `real`, so `real` is the name checked. Ranges that name
  no registry (`file:`, `link:`, `workspace:`, git and tarball URLs, `owner/repo`) are reported
  as not checked.
- package-lock v2 and v3: the `packages` map; a key's last `node_modules/` segment is the name
  (or the entry's own `name`, for aliases). The root (`""`) and workspace links are the project
  itself. v1 (and v2's legacy copy, ignored when `packages` exists): the nested `dependencies` tree.
- A version is pinned by an exact semver (`1.2.3`, `=1.2.3`); every lockfile entry is pinned.
- Each lockfile entry carries the names of the entries that depend on it (v2/v3 `dependencies`,
  `optionalDependencies` and `peerDependencies`; v1 `requires`): the firewall weighs popular
  dependents as evidence of legitimacy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pipeline.firewall.manifests.base import Collected, Source, type_name
from pipeline.firewall.manifests.jsonlines import JsonPath, key_lines
from pipeline.firewall.model import Ecosystem

DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_NON_REGISTRY = re.compile(r"^(file:|link:|workspace:|portal:|git(\+[a-z]+)?:|https?:|github:|gitlab:|bitbucket:|"
                           r"[\w.-]+/[\w.-]+(#.*)?$)")
_ALIAS = re.compile(r"^npm:(?P<name>(@[^/@]+/)?[^@]+)(@(?P<range>.*))?$")
_EXACT = re.compile(r"^=?v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
_NODE_MODULES = "node_modules/"


def exact_version(spec: str) -> str | None:
    match = _EXACT.match(spec.strip())
    return match[1] if match else None


def read_package_json(source: Source, into: Collected) -> None:
    document = source.json_object()
    lines = key_lines(source.text)
    for field in DEPENDENCY_FIELDS:
        block = document.get(field)
        if block is not None and not isinstance(block, dict):
            into.problem(source.relative, lines.get((field,)), f"`{field}` is {type_name(block)}, not an object of "
                         "names and ranges; not read")
            continue
        for name, spec in (block or {}).items():
            if isinstance(spec, str):
                _declared(name, spec, source, into, lines.get((field, name)))
            else:
                into.problem(source.relative, lines.get((field, name)), f"{name[:100]}: the range is "
                             f"{type_name(spec)}, not a string; not checked")


def _declared(name: str, spec: str, source: Source, into: Collected, line: int | None) -> None:
    alias = _ALIAS.match(spec)
    if alias:
        name, spec = alias["name"], alias["range"] or ""
    if _NON_REGISTRY.match(spec.strip()):
        into.problem(source.relative, line, f"{name}: {spec!r} names no registry package; not checked")
        return
    into.add(source.package(name, Ecosystem.NPM, line, spec.strip(), exact_version(spec)))


def read_package_lock(source: Source, into: Collected) -> None:
    document = source.json_object()
    lines = key_lines(source.text)
    packages = document.get("packages")
    entries = list(_v2_entries(packages) if isinstance(packages, dict) else
                   _v1_entries(document.get("dependencies"), ()))
    parents = _dependents(entries)
    for path, name, entry in entries:
        _locked(name, entry, source, into, lines.get(path), required_by=tuple(sorted(parents.get(name, ()))))


def _dependents(entries: list[tuple[JsonPath, str, Any]]) -> dict[str, set[str]]:
    """Name -> the names of the lockfile entries that list it among their dependencies."""
    parents: dict[str, set[str]] = {}
    for _, name, entry in entries:
        for field in (*DEPENDENCY_FIELDS, "requires"):
            block = entry.get(field) if isinstance(entry, dict) else None
            for child in block if isinstance(block, dict) else ():
                if child != name:
                    parents.setdefault(child, set()).add(name)
    return parents


def _v2_entries(packages: dict[str, Any]) -> Iterator[tuple[JsonPath, str, Any]]:
    for key, entry in packages.items():
        if _NODE_MODULES not in key or (isinstance(entry, dict) and entry.get("link")):
            continue  # the root project and workspace links
        own_name = entry.get("name") if isinstance(entry, dict) else None
        name = own_name if isinstance(own_name, str) and own_name else key.rsplit(_NODE_MODULES, 1)[1]
        yield ("packages", key), name, entry


def _v1_entries(tree: Any, prefix: JsonPath) -> Iterator[tuple[JsonPath, str, Any]]:
    for name, entry in (tree or {}).items() if isinstance(tree, dict) else ():
        path = (*prefix, "dependencies", name)
        yield path, name, entry
        if isinstance(entry, dict):
            yield from _v1_entries(entry.get("dependencies"), path)


def _locked(name: str, entry: Any, source: Source, into: Collected, line: int | None, *,
            required_by: tuple[str, ...] = ()) -> None:
    version = entry.get("version") if isinstance(entry, dict) else None
    if not isinstance(version, str):
        into.problem(source.relative, line, f"{name}: a lockfile entry without a version")
        return
    alias = _ALIAS.match(version)  # v1 writes aliases as "npm:real@1.2.3"
    if alias:
        name, version = alias["name"], alias["range"] or ""
    if exact_version(version) is None:
        into.problem(source.relative, line, f"{name}: {version!r} names no registry version; not checked")
        return
    into.add(replace(source.package(name, Ecosystem.NPM, line, version, exact_version(version)),
                     required_by=required_by))
