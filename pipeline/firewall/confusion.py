"""Dependency confusion (seed B): an internal package name that a public registry can also serve.

A name is internal when `firewall.internal` lists it, or it starts with a listed prefix, or (npm)
it is in a listed scope. Two findings, both about the install resolving to an outsider's package:
- HIGH: the name exists on the public registry. An installer that consults it (pip's
  `--extra-index-url`, an npm registry without scope mapping) picks the highest version it sees
  anywhere, so a public `acme-billing 999.99` wins.
- MEDIUM: the name is declared without an exact pin. Even while nobody has claimed it publicly,
  anyone can, and an unpinned range accepts whatever is highest.
A public-registry answer that could not be had (offline and not cached, unreachable) is said to
be unknown in the finding's text; it never counts as "absent".
"""

from __future__ import annotations

from normalizers.model import Confidence, Severity
from pipeline.firewall.config import InternalNames
from pipeline.firewall.model import DeclaredPackage, Ecosystem, Hit, RuleId
from pipeline.firewall.names import normalize, split_scope
from pipeline.firewall.registry import Lookup, Status


def is_internal(internal: InternalNames, ecosystem: Ecosystem, name: str) -> bool:
    key = normalize(name, ecosystem)
    scope, _ = split_scope(key)
    prefixes = tuple(normalize(prefix, ecosystem) for prefix in internal.prefixes)
    names = {normalize(known, ecosystem) for known in internal.names}
    return key in names or (bool(prefixes) and key.startswith(prefixes)) or (
        ecosystem is Ecosystem.NPM and scope is not None and scope in internal.scopes)


def confusion_hits(package: DeclaredPackage, public: Lookup) -> list[Hit]:
    """Hits for an internal package; `public` is the public registry's answer for its name."""
    hits = []
    if public.status is Status.FOUND:
        hits.append(Hit(
            rule=RuleId.CONFUSION, severity=Severity.HIGH, confidence=Confidence.HIGH,
            title=f"Internal package {package.name} also exists on the public registry",
            detail=(f"{package.name} is an internal name, and the public {package.ecosystem.value} registry serves a "
                    f"package of that name ({public.detail}). An installer that also consults the public index "
                    "takes the highest version it finds anywhere, so the outsider's package can win."),
        ))
    if package.version is None:
        where = {Status.FOUND: "exists there already", Status.MISSING: "is not there yet, but anyone can claim it",
                 Status.UNKNOWN: f"could not be checked ({public.detail})"}[public.status]
        hits.append(Hit(
            rule=RuleId.CONFUSION, severity=Severity.MEDIUM, confidence=Confidence.MEDIUM,
            title=f"Internal package {package.name} is not pinned",
            detail=(f"{package.name} is an internal name declared as {package.spec or 'any version'!r}. "
                    f"On the public {package.ecosystem.value} registry the name {where}; an unpinned range accepts "
                    "whatever version is highest, on whichever index serves it."),
        ))
    return hits
