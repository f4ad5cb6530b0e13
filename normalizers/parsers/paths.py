"""Repository-relative paths: every parser strips the checkout directory the same way."""

from __future__ import annotations

import re

_CI_WORKSPACES = (
    re.compile(r"^/github/workspace/"),
    re.compile(r"^/home/runner/work/[^/]+/[^/]+/"),
    re.compile(r"^/__w/[^/]+/[^/]+/"),  # GitHub Actions container jobs
)
_DRIVE = re.compile(r"^/?[A-Za-z]:/")
_REPEATED_SLASHES = re.compile(r"/{2,}")


def repo_relative(path: str, source_root: str | None) -> str:
    """Forward slashes, no `source_root` or CI workspace prefix, no leading `./`.

    Windows paths (dependency-check on a developer machine writes `C:\\Users\\…`) are
    compared case-insensitively. A path outside `source_root` stays absolute: there is no
    honest repository-relative form of it.
    """
    normalized = _REPEATED_SLASHES.sub("/", path.strip().replace("\\", "/"))
    if _DRIVE.match(normalized):
        normalized = normalized.lstrip("/")
    if source_root and source_root.strip():
        root = _REPEATED_SLASHES.sub("/", source_root.strip().replace("\\", "/")).rstrip("/") + "/"
        if _DRIVE.match(root):
            root = root.lstrip("/")
        folded = _DRIVE.match(normalized) is not None
        if (normalized.lower() if folded else normalized).startswith(root.lower() if folded else root):
            return normalized[len(root):] or "."
    for workspace in _CI_WORKSPACES:
        match = workspace.match(normalized)
        if match:
            return normalized[match.end():]
    while normalized.startswith("./"):
        normalized = normalized[2:]
    return normalized
