"""Name rules of the two ecosystems, shared by the checks (comparison) and the API (validation).

PyPI compares names after PEP 503 normalization: runs of `-`, `_` and `.` are one `-`, and case
does not matter, so `Python_DateUtil` *is* python-dateutil and never a typosquat of it. npm names
are case-sensitive in old packages only; new ones must be lower case, so they are compared lower
cased. The registry, though, is asked for a name as it is written (`registry_name`): npm's
`JSONStream` and `jsonstream` are two URLs, and only the first is the popular package. The
patterns are the registries' own: PEP 508's project name, and npm's validate-npm-package-name
(≤214 characters, URL-safe, an optional `@scope/`).

Names and versions are validated here only, for the CLI, the API and the manifests alike, and
exactly: `fullmatch`, never `$` (which matches before a final newline, so `evilpkg\n` once slipped
past the blocklist as an unknown package), and no whitespace or control character anywhere,
which the version parsers would otherwise strip or tolerate.
"""

from __future__ import annotations

import re
import unicodedata

from packaging.version import InvalidVersion, Version
from semantic_version import Version as SemVer

from pipeline.firewall.model import Ecosystem

MAX_NAME_LENGTH = 214  # npm's limit; PyPI has none, but no real project comes close
MAX_VERSION = 64
_PEP503_RUNS = re.compile(r"[-_.]+")
_PYPI_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_NPM_NAME = re.compile(r"(@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*", re.IGNORECASE)


def normalize(name: str, ecosystem: Ecosystem) -> str:
    if ecosystem is Ecosystem.PYPI:
        return _PEP503_RUNS.sub("-", name).lower()
    return name.lower()


def registry_name(name: str, ecosystem: Ecosystem) -> str:
    """The name to ask the registry (and its downloads API) for: PyPI's canonical one, npm's as written."""
    return normalize(name, ecosystem) if ecosystem is Ecosystem.PYPI else name


def is_clean(text: str) -> bool:
    """No whitespace and no control, format or unassigned character (Unicode category C*)."""
    return not any(c.isspace() or unicodedata.category(c).startswith("C") for c in text)


def is_valid(name: str, ecosystem: Ecosystem) -> bool:
    if not name or len(name) > MAX_NAME_LENGTH or not is_clean(name):
        return False
    pattern = _PYPI_NAME if ecosystem is Ecosystem.PYPI else _NPM_NAME
    return pattern.fullmatch(name) is not None


def is_valid_version(version: str, ecosystem: Ecosystem) -> bool:
    """A PEP 440 (PyPI) or semver (npm) version of at most MAX_VERSION characters, exactly as written."""
    if not version or len(version) > MAX_VERSION or not is_clean(version):
        return False
    try:
        Version(version) if ecosystem is Ecosystem.PYPI else SemVer(version)
    except (InvalidVersion, ValueError):
        return False
    return True


def split_scope(name: str) -> tuple[str | None, str]:
    """`@types/node` -> ("@types", "node"); an unscoped name has no scope."""
    if name.startswith("@") and "/" in name:
        scope, bare = name.split("/", 1)
        return scope, bare
    return None, name
