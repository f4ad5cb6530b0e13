"""The DAST scope guard: Tollgate attacks only hosts the user has listed as their own.

Every DAST engine (ZAP, Wapiti, the cloud checker) asks `Allowlist.guard(url)` before it sends a
single request; a refused target raises ConfigError, so nothing reaches a host outside the list.

Matching is deliberately strict, because a lenient URL parser is how scope checks get bypassed:
- hosts match exactly, case-insensitively, after IDNA (UTS #46) encoding and without a trailing dot,
  so `bücher.example` and `xn--bcher-kva.example` are the same host and a look-alike is not;
- `*.example.com` matches subdomains at any depth, never `example.com` itself; a wildcard needs at
  least two labels after it (`*.com` is refused), and never stands on a public suffix (`*.co.uk`,
  `*.github.io`: everyone's hosts), judged by the Public Suffix List snapshot that `tldextract`
  bundles, private section included, never fetched;
- `host:port` allows that port only; a bare host allows any port on it;
- IP literals (IPv4, bracketed IPv6) match by address; numeric spellings other than a dotted quad
  (`2130706433`, `0x7f.1`, `127.1`) are refused, because resolvers read them as addresses;
- URLs with userinfo (`http://allowed@evil/`), backslashes, whitespace or percent-escapes in the
  authority are refused outright: parsers disagree about where their host is; so is any whitespace
  or control character anywhere in a target (urlsplit silently drops tabs and newlines), and every
  target that does not parse is a ConfigError (exit 2), never a crash.

Engines are held to the list at run time too: Wapiti goes through Tollgate's scope proxy
(pipeline/scope_proxy.py), and findings whose URL is outside the list are dropped and counted
(`out_of_scope`).

DNS is never consulted: the guard judges the name the user wrote. Pointing an allowed name at
someone else's address is the user's own act, as with the cloud checker's asset check.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import idna

from normalizers.model import Finding, ParseResult, Skipped, UrlLocation
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    import tldextract

_SCHEME_PORTS = {"http": 80, "https": 443}
_AUTHORITY = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^\[\]:/?#@\\\s%]+)(?::(?P<port>[0-9]{1,5}))?$")
_NUMBER_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")  # WHATWG: a host ending in a number is IPv4
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
ALLOW_TIP = "add the host with --dast-allow HOST or under scan.dast.allow in .tollgate.yml, if you own it"


@dataclass(frozen=True)
class HostPattern:
    """One allowlist entry: an exact host or a `*.` suffix, and optionally one port."""

    host: str  # canonical: IDNA A-label lowercase, or a compressed IP address
    wildcard: bool = False
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host

    @property
    def url_regex(self) -> str:
        """Every http(s) URL this entry allows, anchored (a ZAP context include): the host escaped, a
        wildcard as one or more DNS labels, and nothing else may follow the port (no `@`, no `.evil`).
        Case-insensitive, as hosts are; `(?i)` means the same to Java's regexes and Python's."""
        host = _host_regex(self.host, self.wildcard)
        if self.port is None:
            return f"(?i)^https?://{host}(?::[0-9]{{1,5}})?{_URL_REST}$"
        origins = "|".join(f"{scheme}://{host}{_port_regex(scheme, self.port)}" for scheme in _SCHEME_PORTS)
        return f"(?i)^(?:{origins}){_URL_REST}$"

    def __str__(self) -> str:
        shown = f"*.{self.host}" if self.wildcard else (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{shown}:{self.port}" if self.port is not None else shown


@dataclass(frozen=True)
class GuardedTarget:
    """A DAST target that passed the guard, with the pieces engines need to stay in scope."""

    url: str
    scheme: str
    host: str
    port: int

    @property
    def origin_regex(self) -> str:
        """A regex for every URL of this origin (the ZAP auth header's replacer rule)."""
        return f"^{self.scheme}://{_host_regex(self.host, False)}{_port_regex(self.scheme, self.port)}{_URL_REST}$"


_URL_REST = "(?:[/?#].*)?"  # after the authority: a path, query or fragment, or nothing


def _host_regex(host: str, wildcard: bool) -> str:
    """A canonical host (A-labels, or an IP) as a regex; a wildcard's labels are DNS letters only."""
    escaped = re.escape(f"[{host}]" if ":" in host else host)
    return rf"(?:[a-z0-9-]+\.)+{escaped}" if wildcard else escaped


def _port_regex(scheme: str, port: int) -> str:
    """The default port may be written or left out; any other port must be written."""
    return f"(?::{port})?" if _SCHEME_PORTS[scheme] == port else f":{port}"


@dataclass(frozen=True)
class Allowlist:
    patterns: tuple[HostPattern, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        return cls(tuple(parse_pattern(entry) for entry in entries))

    def guard(self, url: str) -> GuardedTarget:
        """The target, if its host is allowed; ConfigError (before any request) if not."""
        target = parse_target(url)
        if not self.patterns:
            raise ConfigError(f"DAST target {url!r} refused: the DAST allowlist is empty", ALLOW_TIP)
        if not any(pattern.matches(target.host, target.port) for pattern in self.patterns):
            allowed = ", ".join(str(p) for p in self.patterns)
            raise ConfigError(
                f"DAST target {url!r} refused: host {target.host!r} port {target.port} is not in the "
                f"allowlist ({allowed})",
                ALLOW_TIP,
            )
        return target

    @property
    def url_regexes(self) -> tuple[str, ...]:
        """The allowlist as anchored URL regexes: what ZAP's context includes, and nothing else."""
        return tuple(pattern.url_regex for pattern in self.patterns)

    def allows(self, url: str) -> bool:
        """Whether `url` is an http(s) URL on an allowed host and port; never raises."""
        try:
            target = parse_target(url)
        except ConfigError:
            return False
        return self.allows_host(target.host, target.port)

    def allows_host(self, host: str, port: int) -> bool:
        """`host` as a URL or a CONNECT line spells it (canonicalized here) on `port`."""
        try:
            canonical = _canonical_host(host, "host")
        except ConfigError:
            return False
        return any(pattern.matches(canonical, port) for pattern in self.patterns)


OUT_OF_SCOPE = "its URL is outside the DAST allowlist"


def within_scope(result: ParseResult, allowlist: Allowlist) -> ParseResult:
    """A DAST engine's findings on URLs the allowlist does not allow, dropped and counted as skipped:
    whatever an engine did, Tollgate reports nothing about a host nobody allowed."""
    outside = {f: url for f in result.findings if (url := _url(f)) is not None and not allowlist.allows(url)}
    if not outside:
        return result
    skipped = tuple(Skipped(f.tool.name, OUT_OF_SCOPE, url[:200]) for f, url in outside.items())
    reconciliation = result.reconciliation
    if reconciliation is not None:
        reasons = Counter(dict(reconciliation.skipped_reasons)) + Counter({OUT_OF_SCOPE: len(outside)})
        reconciliation = dataclasses.replace(
            reconciliation, kept=reconciliation.kept - len(outside), skipped=reconciliation.skipped + len(outside),
            suppressed=reconciliation.suppressed - sum(1 for f in outside if not f.active),
            skipped_reasons=tuple(sorted(reasons.items())))
    return dataclasses.replace(result, findings=tuple(f for f in result.findings if f not in outside),
                               skipped=result.skipped + skipped, reconciliation=reconciliation)


def _url(finding: Finding) -> str | None:
    return finding.location.url if isinstance(finding.location, UrlLocation) else None


def parse_target(url: str) -> GuardedTarget:
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in url.strip()):
        raise ConfigError(f"DAST target {url!r} refused: it holds whitespace or a control character")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # `http://[::1/`: urlsplit's own refusal
        raise ConfigError(f"DAST target {url!r} refused: it is not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEME_PORTS:
        raise ConfigError(f"DAST target {url!r} refused: only http and https URLs can be scanned")
    if not parts.netloc:
        raise ConfigError(f"DAST target {url!r} refused: it has no host")
    host, port = _split_authority(parts.netloc, f"DAST target {url!r}")
    effective_port = _SCHEME_PORTS[scheme] if port is None else port
    return GuardedTarget(url=url.strip(), scheme=scheme, host=host, port=effective_port)


def parse_pattern(entry: str) -> HostPattern:
    text = entry.strip()
    where = f"DAST allowlist entry {entry!r}"
    if "://" in text:
        raise ConfigError(f"{where}: give a host (optionally host:port), not a URL")
    wildcard = text.startswith("*.")
    host, port = _split_authority(text[2:] if wildcard else text, where)
    if wildcard and (_is_ip(host) or host.count(".") < 1):
        raise ConfigError(f"{where}: a wildcard needs a domain of at least two labels, e.g. *.example.com")
    if wildcard and is_public_suffix(host):
        raise ConfigError(f"{where}: {host} is a public suffix, so *.{host} would allow anyone's hosts; "
                          f"list your own domain under it, e.g. *.yours.{host}")
    return HostPattern(host=host, wildcard=wildcard, port=port)


@functools.cache
def _suffixes() -> tldextract.TLDExtract:
    # The bundled snapshot only: no network, no cache written; the private section holds github.io & co.
    # Imported here: tldextract imports requests, which `tollgate --help` must not pay for.
    import tldextract  # noqa: PLC0415

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)


def is_public_suffix(host: str) -> bool:
    """`co.uk`, `github.io`, `s3.amazonaws.com`: a name under which anyone may register their own."""
    parts = _suffixes()(host)
    return bool(parts.suffix) and not parts.domain


def _split_authority(authority: str, where: str) -> tuple[str, int | None]:
    if "@" in authority:
        raise ConfigError(f"{where} refused: credentials in the URL (user@host) hide the real host")
    match = _AUTHORITY.match(authority)
    if not match:
        raise ConfigError(f"{where} refused: the host part {authority!r} is not a plain host[:port]")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"{where} refused: port {port} is out of range")
    return _canonical_host(match["host"], where), port


def _canonical_host(raw: str, where: str) -> str:
    if raw.startswith("["):
        try:
            return str(ipaddress.IPv6Address(raw[1:-1]))
        except ValueError:
            raise ConfigError(f"{where} refused: {raw} is not an IPv6 address") from None
    host = raw.rstrip(".").lower()
    if _NUMBER_LABEL.match(host.rsplit(".", 1)[-1]):
        return _canonical_ipv4(host, where)
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ConfigError(f"{where} refused: {raw!r} is not a valid host name ({exc})") from None
    if not all(_LABEL.match(label) for label in ascii_host.split(".")):
        raise ConfigError(f"{where} refused: {raw!r} is not a valid host name")
    return ascii_host


def _canonical_ipv4(host: str, where: str) -> str:
    """Only the dotted-quad spelling; `127.1` or `0x7f000001` would mean something else to a resolver."""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        raise ConfigError(f"{where} refused: {host!r} is a numeric host that is not a dotted-quad IPv4") from None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
