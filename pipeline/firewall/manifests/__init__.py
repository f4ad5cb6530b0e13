"""Manifest readers, chosen by file name (a manifest's name is its format, unlike a scanner report).

`read_manifests(root, paths)` reads each file and returns every declared package with its
manifest and line, plus every entry that could not be read or comes from no registry, with the
reason. A file that cannot be read at all is one problem, never a crash of the whole scan.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.firewall.manifests.base import Collected, Source
from pipeline.firewall.manifests.npm import read_package_json, read_package_lock
from pipeline.firewall.manifests.python_projects import read_pipfile_lock, read_poetry_lock, read_pyproject
from pipeline.firewall.manifests.requirements import read_requirements
from pipeline.firewall.manifests.yarn import read_yarn_lock

_Reader = Callable[[Source, Collected], None]
READERS: dict[str, _Reader] = {
    "pyproject.toml": read_pyproject,
    "poetry.lock": read_poetry_lock,
    "Pipfile.lock": read_pipfile_lock,
    "package.json": read_package_json,
    "package-lock.json": read_package_lock,
    "npm-shrinkwrap.json": read_package_lock,
    "yarn.lock": read_yarn_lock,
}
REQUIREMENTS_PATTERN = "requirements*.txt"


def is_manifest(name: str) -> bool:
    return name in READERS or fnmatch.fnmatchcase(name.lower(), REQUIREMENTS_PATTERN)


def read_manifests(root: Path, paths: Iterable[Path]) -> Collected:
    """Every package declared in `paths` (absolute, or relative to `root`)."""
    collected = Collected()
    seen_requirements: set[Path] = set()  # an included file is read once, even if also found directly
    for path in paths:
        absolute = path if path.is_absolute() else root / path
        relative = absolute.relative_to(root).as_posix()
        try:
            if absolute.name in READERS:
                READERS[absolute.name](Source.read(absolute, root), collected)
            else:
                read_requirements(absolute, root, collected, seen_requirements)
        except (OSError, ValueError) as exc:
            collected.problem(relative, None, f"cannot read it: {exc}")
        except RecursionError:  # JSON or TOML nested thousands deep
            collected.problem(relative, None, "cannot read it: nested too deeply")
    return collected
