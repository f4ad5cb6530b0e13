"""Finding identity (docs/design.md, docs/identity.md): the same problem gets the same id in every run and format.

The fingerprint is built from the category, the vulnerability or rule id, and a location
key that leaves out everything that moves between runs: line numbers, tags, query values,
build ids, temp directories. A finding in a repository file is anchored on the content of
its first flagged line (read from the scanned tree when the tool quotes none), an IaC
finding also on its resource address, and two results of one rule at one place are told
apart by their message. The scope (repository, environment) is added only when an
id leaves the process (`scoped_id`), so SARIF and ASFF agree on the same identity.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from urllib.parse import SplitResult, urlsplit

from packageurl import PackageURL

from normalizers.caches import ADVISORIES_REMEMBERED
from normalizers.model import (
    Category,
    CodeLocation,
    Finding,
    HostLocation,
    ImageLocation,
    Location,
    PackageLocation,
    Scope,
    UrlLocation,
    with_fingerprint,
)
from normalizers.source_tree import SourceTree

FINGERPRINT_VERSION = "v2"
# The scheme before content anchors, computed only to match v1 baselines and Security Hub Ids
# once (docs/identity.md, "Migration"); it goes when the migration window closes.
LEGACY_FINGERPRINT_VERSION = "v1"
# The SARIF partialFingerprints key that carries the identity; the legacy one is only read (old baselines).
FINGERPRINT_KEY = f"tollgate/{FINGERPRINT_VERSION}"
LEGACY_FINGERPRINT_KEY = f"tollgate/{LEGACY_FINGERPRINT_VERSION}"
MAX_ID_LENGTH = 512
_WHITESPACE = re.compile(r"\s+")
# A line or column number quoted in a message moves with unrelated edits; an identifier (CVE-2024-2529,
# a version) does not, and tells two results apart.
_POSITIONS = re.compile(r"\b(line|lines|ln|row|column|col)(\s*[:#]?\s*)\d+(\s*[-–]\s*\d+)?", re.IGNORECASE)
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
    except (ValueError, TypeError):  # packageurl-python raises both on names it cannot spell
        return None
    return purl.name, purl.version


@functools.lru_cache(maxsize=1024)  # every finding of an image repeats its reference
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


def code_anchor(location: CodeLocation, line_text: str | None = None) -> str:
    """The text a code finding is anchored on, first that applies: the tool's own stand-in
    (SonarQube's line hash, detect-secrets' hashed secret), the flagged line as the scanned tree
    holds it, the first line of the tool's snippet, else the line number (the tool gave no text
    and the tree is not at hand). Only the first flagged line: a region's first line names the
    statement or the resource, and the rest of a block changes with unrelated edits."""
    if location.anchor:
        return location.anchor
    for text in (line_text, *(location.snippet or "").splitlines()):
        if text and text.strip():
            return normalized_snippet(text)
    return f"line:{location.start_line or 0}"


def _legacy_code_anchor(location: CodeLocation) -> str:
    if location.snippet and location.snippet.strip():
        return normalized_snippet(location.snippet)
    return location.anchor or f"line:{location.start_line or 0}"


def location_key(location: Location, line_text: str | None = None) -> str:
    if isinstance(location, CodeLocation):
        return f"code|{location.path}|{location.resource or ''}|{_digest(code_anchor(location, line_text))}"
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


def message_key(message: str | None) -> str:
    """Whitespace-insensitive, line numbers folded: a message that quotes its line must not move."""
    return _POSITIONS.sub(r"\1\2#", normalized_snippet(message or ""))


def primary_vulnerability_id(finding: Finding) -> str:
    """CVE first, then GHSA, then the tool's own rule id; so two tools agree on one id."""
    return _primary_id(finding.vulnerability_ids, finding.rule_id)


@functools.lru_cache(maxsize=ADVISORIES_REMEMBERED)  # asked several times per finding; an advisory's ids recur
def _primary_id(vulnerability_ids: tuple[str, ...], rule_id: str) -> str:
    for prefix in _VULN_ID_PREFERENCE:
        matches = sorted(_canonical_id(v) for v in vulnerability_ids if v.upper().startswith(prefix))
        if matches:
            return matches[0]
    return rule_id


def _canonical_id(vulnerability_id: str) -> str:
    """`cve-2021-44228` -> `CVE-2021-44228`; GHSA ids keep their canonical lower-case tail."""
    upper = vulnerability_id.upper()
    return "GHSA-" + vulnerability_id[5:].lower() if upper.startswith("GHSA-") else upper


def fingerprint(finding: Finding, line_text: str | None = None) -> str:
    """Without the occurrence ordinal that `with_fingerprints` adds for identical lines."""
    parts = [FINGERPRINT_VERSION, finding.category.value, primary_vulnerability_id(finding),
             location_key(finding.location, line_text)]
    if isinstance(finding.location, CodeLocation):
        parts.append(message_key(finding.message))
    return _digest(*parts)


def identified(finding: Finding) -> Finding:
    """The finding with its identity: a normalized one carries it already, one built by hand gets it here."""
    return finding if finding.fingerprint else with_fingerprint(finding, fingerprint(finding))


def with_fingerprints(findings: Iterable[Finding], tree: SourceTree | None = None) -> list[Finding]:
    """Fill in `fingerprint` (a set one is kept as is), reading flagged lines from `tree`.

    A code finding's IaC resource, when the tool names none, is read from the tree too.
    Secrets are never anchored on the tree's line: it holds the secret.
    """
    listed: list[Finding] = []
    bases: list[str] = []
    for finding in findings:
        if finding.fingerprint:
            listed.append(finding)
            bases.append(finding.fingerprint)
            continue
        located, line_text = _from_tree(finding, tree)
        listed.append(located)
        bases.append(fingerprint(located, line_text))
    finals = _with_ordinals(listed, bases, [not f.fingerprint for f in listed])
    return [f if final == f.fingerprint else with_fingerprint(f, final)
            for f, final in zip(listed, finals, strict=True)]


def _from_tree(finding: Finding, tree: SourceTree | None) -> tuple[Finding, str | None]:
    """The finding with its IaC resource read from the tree where the tool named none, and its flagged line."""
    location = finding.location
    if tree is None or not isinstance(location, CodeLocation) or finding.category is Category.SECRETS:
        return finding, None
    if finding.category is Category.IAC and location.resource is None:
        resource = tree.terraform_address(location.path, location.start_line)
        if resource:
            finding = dataclasses.replace(finding, location=dataclasses.replace(location, resource=resource))
    return finding, tree.flagged_line(location.path, location.start_line)


def _with_ordinals(findings: Sequence[Finding], bases: list[str], fresh: Sequence[bool]) -> list[str]:
    """Same-tool repeats of one identity at other lines get an occurrence ordinal.

    Two identical lines (two `USER root`) with the same rule in one file are two problems, so
    the k-th occurrence among the flagged identical lines, ordered by line (stable when the file
    shifts), gets ordinal k. Repeats at the same line are one problem reported twice. Only `fresh`
    identities are counted: one already set came with its ordinal.
    """
    lines_by_key: dict[tuple[str, str], set[int]] = {}
    for finding, base, new in zip(findings, bases, fresh, strict=True):
        if new and isinstance(finding.location, CodeLocation):
            lines_by_key.setdefault((finding.tool.name, base), set()).add(finding.location.start_line or 0)
    ordinals = {key: {line: i for i, line in enumerate(sorted(lines))} for key, lines in lines_by_key.items()}
    finals = []
    for finding, base, new in zip(findings, bases, fresh, strict=True):
        final = base
        if new and isinstance(finding.location, CodeLocation):
            ordinal = ordinals[(finding.tool.name, base)][finding.location.start_line or 0]
            final = base if ordinal == 0 else _digest(base, str(ordinal))
        finals.append(final)
    return finals


def legacy_fingerprints(findings: Sequence[Finding]) -> list[str]:
    """The v1 identity of each finding (whole snippet, else the tool's anchor, else `line:N`;
    no resource, no message), for matching what v1 stored: baselines and Security Hub Ids."""
    bases = []
    for finding in findings:
        location = finding.location
        key = (f"code|{location.path}|{_digest(_legacy_code_anchor(location))}"
               if isinstance(location, CodeLocation) else location_key(location))
        vulnerability = primary_vulnerability_id(finding)
        bases.append(_digest(LEGACY_FINGERPRINT_VERSION, finding.category.value, vulnerability, key))
    return _with_ordinals(findings, bases, [True] * len(findings))


def scoped_id(scope: Scope, finding: Finding, identity: str | None = None) -> str:
    """The ASFF Id: readable, scoped by repository (and environment), ≤512 characters; `identity`
    stands in for the finding's fingerprint (the v1 one, for the Id the finding had before)."""
    parts = ["tollgate", scope.repository]
    if scope.environment:
        parts.append(scope.environment)
    parts += [finding.category.value, finding.fingerprint if identity is None else identity]
    candidate = "/".join(parts)
    if len(candidate) <= MAX_ID_LENGTH:
        return candidate
    # Keep the readable head and hash the tail, so two long repositories never collide.
    tail = _digest(candidate)
    return f"{candidate[: MAX_ID_LENGTH - len(tail) - 1]}/{tail}"
