"""Finding identity (docs/design.md): the same problem gets the same id in every run and format.

The fingerprint is built from the category, the vulnerability or rule id, and a location
key that leaves out everything that moves between runs: line numbers, tags, query values,
build ids, temp directories. The scope (repository, environment) is added only when an
id leaves the process (`scoped_id`), so SARIF and ASFF agree on the same identity.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from packageurl import PackageURL

from normalizers.model import (
    CodeLocation,
    Finding,
    HostLocation,
    ImageLocation,
    Location,
    PackageLocation,
    Scope,
    UrlLocation,
)

FINGERPRINT_VERSION = "v1"
MAX_ID_LENGTH = 512
_WHITESPACE = re.compile(r"\s+")
_PACKAGE_NAME_TAIL = re.compile(r"[:/]")
_VULN_ID_PREFERENCE = ("CVE-", "GHSA-")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def normalized_snippet(snippet: str) -> str:
    """Whitespace-insensitive, so re-indenting a block keeps its findings' identity."""
    return _WHITESPACE.sub(" ", snippet).strip()


def package_key(package: PackageLocation) -> str:
    """`name@version`, lower-cased, the name without group, namespace or scope.

    Tools disagree on everything else about a package: Trivy writes maven names as
    `group:artifact`, its ASFF drops the purl, dependency-check adds qualifiers, and the
    purl type of an Alpine package is `apk` in one and missing in another. Within one CVE
    and one manifest or image (the rest of the identity), name and version are what is
    unambiguous; two same-named packages of different groups hit by the same CVE in the
    same manifest is the collision this accepts.
    """
    name, version = package.name, package.version
    if package.purl:
        parsed = _purl_name_version(package.purl)
        if parsed:
            name, version = parsed[0], parsed[1] or version
    return f"{_PACKAGE_NAME_TAIL.split(name)[-1].lower()}@{version or ''}"


@functools.lru_cache(maxsize=65536)
def _purl_name_version(purl_text: str) -> tuple[str, str | None] | None:
    """Cached: a 50,000-finding image report repeats a few thousand purls many times."""
    try:
        purl = PackageURL.from_string(purl_text)
    except ValueError:
        return None
    return purl.name, purl.version


def image_repository(reference: str) -> str:
    """`registry:5000/team/app:1.2@sha256:…` -> `registry:5000/team/app`.

    References hold no whitespace, so anything after it is a label (Trivy's ASFF names
    the image `alpine.tar (alpine 3.10.2)`) and is dropped.
    """
    without_digest = reference.strip().split(maxsplit=1)[0].split("@", 1)[0] if reference.strip() else ""
    last_slash = without_digest.rfind("/")
    colon = without_digest.rfind(":")
    return without_digest[:colon] if colon > last_slash else without_digest


_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_key(location: UrlLocation) -> str:
    """Scheme, host, port, path, method and parameter; `https://a:443/` and `https://a/` are one place."""
    parts = urlsplit(location.url)
    path = parts.path or "/"
    return "|".join(
        (parts.scheme.lower(), _netloc_key(parts), path, (location.method or "GET").upper(), location.parameter or "")
    )


def _netloc_key(parts: SplitResult) -> str:
    """`host[:port]` without user info or a default port; an IPv6 host keeps its brackets
    (`[::1:8080]` is not `[::1]:8080`), and a port Python cannot read (out of range, not a number:
    a scanned site sends any URL) is kept as written."""
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    try:
        port: int | str | None = parts.port
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2].lower()
    return f"{host}:{port}" if port not in (None, _DEFAULT_PORTS.get(parts.scheme.lower())) else host


def location_key(location: Location) -> str:
    if isinstance(location, CodeLocation):
        if location.snippet and location.snippet.strip():
            anchor = normalized_snippet(location.snippet)
        else:  # no text to anchor on: the tool's own stand-in, else the line is all we have
            anchor = location.anchor or f"line:{location.start_line or 0}"
        return f"code|{location.path}|{_digest(anchor)}"
    if isinstance(location, PackageLocation):
        return f"package|{package_key(location)}|{location.manifest_path or ''}"
    if isinstance(location, UrlLocation):
        return f"url|{url_key(location)}"
    if isinstance(location, ImageLocation):
        package = package_key(location.package) if location.package else ""
        return f"image|{image_repository(location.reference)}|{package}"
    if isinstance(location, HostLocation):
        host = f"host|{(location.instance_id or location.host).lower()}"
        return f"{host}|{_digest(location.anchor)}" if location.anchor else host
    raise TypeError(f"unknown location type {type(location).__name__}")


def primary_vulnerability_id(finding: Finding) -> str:
    """CVE first, then GHSA, then the tool's own rule id; so two tools agree on one id."""
    for prefix in _VULN_ID_PREFERENCE:
        matches = sorted(_canonical_id(v) for v in finding.vulnerability_ids if v.upper().startswith(prefix))
        if matches:
            return matches[0]
    return finding.rule_id


def _canonical_id(vulnerability_id: str) -> str:
    """`cve-2021-44228` -> `CVE-2021-44228`; GHSA ids keep their canonical lower-case tail."""
    upper = vulnerability_id.upper()
    return "GHSA-" + vulnerability_id[5:].lower() if upper.startswith("GHSA-") else upper


def fingerprint(finding: Finding) -> str:
    return _digest(
        FINGERPRINT_VERSION,
        finding.category.value,
        primary_vulnerability_id(finding),
        location_key(finding.location),
    )


def with_fingerprints(findings: Iterable[Finding]) -> list[Finding]:
    """Fill in `fingerprint`; same-tool repeats at other lines get an occurrence ordinal.

    Two identical lines with the same rule in one file are two problems, so the k-th
    occurrence, ordered by line (stable when the whole file shifts), gets ordinal k.
    """
    listed = list(findings)
    bases = [f.fingerprint or fingerprint(f) for f in listed]  # a set fingerprint is kept as is
    lines_by_key: dict[tuple[str, str], set[int]] = {}
    for finding, base in zip(listed, bases, strict=True):
        if isinstance(finding.location, CodeLocation):
            lines_by_key.setdefault((finding.tool.name, base), set()).add(finding.location.start_line or 0)
    ordinals = {key: {line: i for i, line in enumerate(sorted(lines))} for key, lines in lines_by_key.items()}
    result = []
    for finding, base in zip(listed, bases, strict=True):
        final = base
        if not finding.fingerprint and isinstance(finding.location, CodeLocation):
            ordinal = ordinals[(finding.tool.name, base)][finding.location.start_line or 0]
            final = base if ordinal == 0 else _digest(base, str(ordinal))
        result.append(finding if final == finding.fingerprint else dataclasses.replace(finding, fingerprint=final))
    return result


def scoped_id(scope: Scope, finding: Finding) -> str:
    """The ASFF Id: readable, scoped by repository (and environment), ≤512 characters."""
    parts = ["tollgate", scope.repository]
    if scope.environment:
        parts.append(scope.environment)
    parts += [finding.category.value, finding.fingerprint]
    candidate = "/".join(parts)
    if len(candidate) <= MAX_ID_LENGTH:
        return candidate
    # Keep the readable head and hash the tail, so two long repositories never collide.
    tail = _digest(candidate)
    return f"{candidate[: MAX_ID_LENGTH - len(tail) - 1]}/{tail}"
