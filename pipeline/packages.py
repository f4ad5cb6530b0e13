"""Whether a purl names a finding's package (`Finding.package`): one rule for suppressions and VEX.

A purl matches on type, namespace and name, and on the version when it gives one. When the tool
reported no purl, the package name (with or without the purl's namespace) and version are all there
is to compare; a leading `v` (Go modules) is not a difference.
"""

from __future__ import annotations

from functools import lru_cache

from packageurl import PackageURL

from normalizers.model import PackageLocation


@lru_cache(maxsize=4096)
def parse_purl(text: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def purl_names(purl: str, package: PackageLocation) -> bool:
    wanted = parse_purl(purl)
    if wanted is None:
        return False
    found = parse_purl(package.purl) if package.purl else None
    if found is None:
        names = {wanted.name.casefold(), f"{wanted.namespace}/{wanted.name}".casefold()}
        same_version = (wanted.version or "").removeprefix("v") == (package.version or "").removeprefix("v")
        return package.name.casefold() in names and (wanted.version is None or same_version)
    same = (wanted.type, (wanted.namespace or "").casefold(), wanted.name.casefold()) == (
        found.type, (found.namespace or "").casefold(), found.name.casefold())
    return same and wanted.version in (None, found.version)
