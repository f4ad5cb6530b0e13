"""The scanned tree, read for identity: the text of a flagged line and the IaC resource around it.

Trivy's and hadolint's SARIF carry no snippet and Checkov's carries the whole resource block, so
the line a finding points to is read from the checkout itself. Only files inside the root are
read, each once, and never more than `MAX_FILE_BYTES` of one.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_FILE_BYTES = 8 * 1024 * 1024
# A top-level Terraform block (`terraform fmt` starts them in column 0): its address is `type.name`,
# `data.type.name` or `module.name`, the address Terraform, Trivy and Checkov themselves print.
# Labels may be quoted or bare identifiers (`resource aws_eks_cluster "eks" {` is valid HCL).
_LABEL = r'(?:"([^"]+)"|([A-Za-z_][\w-]*))'
_TERRAFORM_BLOCK = re.compile(rf"^(resource|data|module)\s+{_LABEL}(?:\s+{_LABEL})?\s*\{{")
_TERRAFORM_SUFFIXES = (".tf", ".hcl")


class SourceTree:
    """Lines of files under `root`, cached per path; None wherever the file cannot be read."""

    def __init__(self, root: str | None) -> None:
        self._root = Path(root).resolve() if root else None
        self._files: dict[str, tuple[str, ...] | None] = {}

    def lines(self, path: str) -> tuple[str, ...] | None:
        if path not in self._files:
            self._files[path] = self._read(path)
        return self._files[path]

    def flagged_line(self, path: str, number: int | None) -> str | None:
        """The line a finding points to; when it is blank (tools say line 1 for the whole file, and
        blank lines were inserted on top), the next line that is not."""
        lines = self.lines(path)
        if lines is None or number is None or not 1 <= number <= len(lines):
            return None
        return next((line for line in lines[number - 1:] if line.strip()), None)

    def _read(self, path: str) -> tuple[str, ...] | None:
        if self._root is None or not path or path.startswith("/") or "://" in path or "\x00" in path:
            return None  # a NUL is no path at all: the OS refuses it (ValueError)
        candidate = (self._root / path).resolve()
        if not candidate.is_relative_to(self._root):
            return None  # `../x` from a report never reads outside the checkout
        try:
            if not candidate.is_file() or candidate.stat().st_size > MAX_FILE_BYTES:
                return None
            return tuple(candidate.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            return None

    def terraform_address(self, path: str, number: int | None) -> str | None:
        """`aws_instance.web_host` for a line inside `resource "aws_instance" "web_host" {`."""
        lines = self.lines(path) if path.endswith(_TERRAFORM_SUFFIXES) else None
        if lines is None or number is None or not 1 <= number <= len(lines):
            return None
        for index in range(number - 1, -1, -1):
            match = _TERRAFORM_BLOCK.match(lines[index])
            if match and index < number - 1 and lines[index].rstrip().endswith("}"):
                return None  # a one-line block (`data "x" "y" {}`) ended before the line
            if match:
                kind, quoted_first, bare_first, quoted_second, bare_second = match.groups()
                first, second = quoted_first or bare_first, quoted_second or bare_second
                if kind == "module":
                    return f"module.{first}"
                address = f"{first}.{second}" if second else first
                return f"data.{address}" if kind == "data" else address
            if index < number - 1 and lines[index].startswith("}"):
                return None  # the line is between blocks, not inside one
        return None
