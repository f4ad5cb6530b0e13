"""yarn.lock, both the classic v1 format and Berry's (yarn 2+) YAML.

Both list one block per resolved package: an unindented header naming every descriptor that
resolved to it (`"@babel/core@^7.0.0", "@babel/core@^7.1.0":` or, in Berry,
`"@babel/core@npm:^7.0.0, @babel/core@npm:^7.1.0":`), then an indented `version "7.1.2"` (v1)
or `version: 7.1.2` (Berry). One reader handles both line by line, so a finding points at the
block's header line. Berry descriptors that name no registry (`workspace:`, `link:`, `portal:`,
`file:`, `patch:`, `git`, `exec:`) are the project's own or derived entries and are skipped;
`__metadata` is Berry's header.
"""

from __future__ import annotations

import re

from pipeline.firewall.manifests.base import Collected, Source
from pipeline.firewall.manifests.npm import exact_version
from pipeline.firewall.model import Ecosystem

_VERSION = re.compile(r'^\s+version:?\s+"?(?P<version>[^"\s]+)"?\s*$')
_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:", "patch:", "exec:", "git", "http:", "https:")


def descriptor_name(descriptor: str) -> tuple[str, str]:
    """`@babel/core@npm:^7.0.0` -> ("@babel/core", "npm:^7.0.0"); the `@` of a scope is not the split."""
    at = descriptor.find("@", 1)
    return (descriptor, "") if at < 0 else (descriptor[:at], descriptor[at + 1:])


def _header_descriptors(line: str) -> list[str]:
    body = line.rstrip().removesuffix(":")
    return [part.strip().strip('"') for part in body.split(",") if part.strip()]


def read_yarn_lock(source: Source, into: Collected) -> None:
    header: tuple[int, list[str]] | None = None
    for number, line in enumerate(source.text.splitlines(), start=1):
        if line and not line[0].isspace() and not line.startswith("#") and line.rstrip().endswith(":"):
            header = (number, _header_descriptors(line))
            continue
        match = _VERSION.match(line)
        if header and match:
            _block(header, match["version"], source, into)
            header = None


def _block(header: tuple[int, list[str]], version: str, source: Source, into: Collected) -> None:
    number, descriptors = header
    if not descriptors or descriptors[0] == "__metadata":
        return
    name, selector = descriptor_name(descriptors[0])
    selector = selector.removeprefix("npm:")
    alias = re.match(r"^(?P<name>(@[^/@]+/)?[^@]+)@", selector)  # "x@npm:real@^1": the real package
    if alias and not selector.startswith(_LOCAL_PROTOCOLS):
        name = alias["name"]
    if selector.startswith(_LOCAL_PROTOCOLS) or exact_version(version) is None:
        return  # the project's own workspaces, patches and links
    into.add(source.package(name, Ecosystem.NPM, number, version, exact_version(version)))
