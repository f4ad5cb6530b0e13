"""The `firewall:` section of `.tollgate.yml`: policy lists, internal names, the points table, registry access.

Validated by `FIREWALL_SCHEMA` (every problem at once, each naming its key path, e.g.
`.tollgate.yml: firewall.quarantine[0].versions: '==4.1.x' is not a PEP 440 version range`),
then read into frozen settings. Version ranges are checked for the entry's ecosystem: PEP 440
specifiers for PyPI (`==4.1`, `>=4.1,<4.1.8`), npm semver ranges for npm (`^4.17.0`,
`>=1.0.0 <1.2.3`). Numbers must be finite (YAML's `.nan` and `.inf` slip past a schema's bounds), and
the Yellow threshold may not be above the Red one. A `firewall:` that is not a mapping (`[]`,
`false`) is an error, not the defaults. Mirror URLs (`pypi-url`, `npm-url`) are http(s) and carry no
user:password, which the cache would store. A relative `cache-dir` is relative to the configuration file.

The default points table is seed B's (downloads < 300: +20, GitHub stars < 30: +10, last release
more than 2 years ago: +10, fewer than 5 versions: +10), plus three rules its "..." leaves open:
a first release less than 30 days old (+20), no homepage or repository link (+10) and npm
install scripts (+10). Yellow from 30 points, Red from 50. The install-time behaviour signals
(pipeline/firewall/behaviour/) are rules of the same table, without limits. Downloads and stars that cannot be
read (no API reachable, offline) score their points (`unknown`): a firewall does not vouch for
what it cannot see. A package in the bundled popular list needs no downloads API: its rank in a
download ranking already says it has far more than 300.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from semantic_version import NpmSpec

from normalizers.model import Severity
from pipeline.config_file import format_path, load_section, non_finite_numbers
from pipeline.errors import ConfigError
from pipeline.firewall.model import Ecosystem
from pipeline.firewall.names import normalize

DEFAULT_PYPI_URL = "https://pypi.org/pypi"
DEFAULT_NPM_URL = "https://registry.npmjs.org"
DEFAULT_TTL_HOURS = 24.0
DEFAULT_TIMEOUT = 10.0
_HTTP_URL = re.compile(r"^https?://[^/\s]+(/\S*)?$")
MAX_TTL_HOURS = 24 * 366  # a year: an older answer is not worth calling cached
MAX_TIMEOUT = 300.0
DEFAULT_RELEASE_AGE_DAYS = 3.0  # npm's, pnpm's and uv's examples; most malicious releases are gone within days
MAX_RELEASE_AGE_DAYS = 366.0

_STRING = {"type": "string", "pattern": r"\S"}  # not empty, not only blanks
_STRINGS = {"type": "array", "items": _STRING}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_POINTS = {"type": "integer", "minimum": 0, "maximum": 1000}
_SEVERITY = {"enum": [s.value.lower() for s in Severity]}
_ECOSYSTEM = {"enum": [e.value for e in Ecosystem]}


def _entry(required: list[str], extra: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["ecosystem", "name", "reason", *required],
            "properties": {"ecosystem": _ECOSYSTEM, "name": _STRING, "reason": _STRING, **extra}}


def _rule(**limits: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "properties": {"points": _POINTS, "unknown": _POINTS, **limits}}


_RANGE_ENTRY = {"versions": _STRING, "reference": _STRING, "severity": _SEVERITY}
RULE_LIMITS: dict[str, str | None] = {  # rule -> its limit key (None: the rule has no limit); seed B's first
    "downloads": "below", "stars": "below", "last-release": "older-than-days", "versions": "below",
    "first-release": "newer-than-days", "project-links": None, "install-scripts": None, "maintainers": "below",
    # install-time behaviour signals (pipeline/firewall/behaviour/): no limit, the signal is there or not
    "setup-network": None, "setup-exec": None, "setup-decode": None, "hook-network": None, "hook-exec": None,
    "encoded-payload": None, "bundled-binary": None, "repository-mismatch": None, "repository-of-popular": None,
    "disposable-email": None,
}
FIREWALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "registry": {"type": "object", "additionalProperties": False, "properties": {
            "cache-dir": _STRING, "ttl-hours": {**_POSITIVE, "maximum": MAX_TTL_HOURS},
            "timeout": {**_POSITIVE, "maximum": MAX_TIMEOUT}, "pypi-url": _STRING,
            "npm-url": _STRING, "downloads": {"type": "boolean"}, "stars": {"type": "boolean"},
        }},
        "inspect-artifacts": {"type": "boolean"},
        "internal": {"type": "object", "additionalProperties": False,
                     "properties": {"names": _STRINGS, "prefixes": _STRINGS, "scopes": _STRINGS}},
        "allowlist": {"type": "array", "items": _entry([], {})},
        "blocklist": {"type": "array", "items": _entry([], _RANGE_ENTRY)},
        "quarantine": {"type": "array", "items": _entry(["versions"], _RANGE_ENTRY)},
        "protect": {"type": "object", "additionalProperties": False,
                    "properties": {e.value: _STRINGS for e in Ecosystem}},
        "release-age": {"type": "object", "additionalProperties": False, "properties": {
            "minimum-days": {"type": "number", "minimum": 0, "maximum": MAX_RELEASE_AGE_DAYS},
            "allow": {"type": "array", "items": _entry([], {})},
        }},
        "reputation": {"type": "object", "additionalProperties": False, "properties": {
            "thresholds": {"type": "object", "additionalProperties": False,
                           "properties": {"yellow": _POINTS, "red": _POINTS}},
            "rules": {"type": "object", "additionalProperties": False, "properties": {
                name: _rule(**({limit: _POSITIVE} if limit else {})) for name, limit in RULE_LIMITS.items()
            }},
        }},
    },
}
DEFAULT_RULES: dict[str, dict[str, float]] = {
    "downloads": {"below": 300, "points": 20, "unknown": 20},
    "stars": {"below": 30, "points": 10, "unknown": 10},
    "last-release": {"older-than-days": 730, "points": 10},
    "versions": {"below": 5, "points": 10},
    "first-release": {"newer-than-days": 30, "points": 20},
    "project-links": {"points": 10},
    "install-scripts": {"points": 10},
    "maintainers": {"below": 2, "points": 0},
    "setup-network": {"points": 20},
    "setup-exec": {"points": 15},
    "setup-decode": {"points": 20},
    "hook-network": {"points": 15},
    "hook-exec": {"points": 10},
    "encoded-payload": {"points": 15},
    "bundled-binary": {"points": 10},
    "repository-mismatch": {"points": 10},
    "repository-of-popular": {"points": 20},
    "disposable-email": {"points": 20},
}
DEFAULT_THRESHOLDS = {"yellow": 30, "red": 50}


@dataclass(frozen=True)
class RegistrySettings:
    cache_dir: Path
    ttl_seconds: float = DEFAULT_TTL_HOURS * 3600
    timeout: float = DEFAULT_TIMEOUT
    pypi_url: str = DEFAULT_PYPI_URL
    npm_url: str = DEFAULT_NPM_URL
    downloads: bool = True
    stars: bool = True
    offline: bool = False  # set by the scanner option or --offline, not by this section


@dataclass(frozen=True)
class PolicyEntry:
    """One allowlist, blocklist or quarantine entry; `name` is normalized for its ecosystem."""

    list_name: str  # "allowlist", "blocklist" or "quarantine", with the index: messages point at it
    ecosystem: Ecosystem
    name: str
    reason: str
    versions: str | None = None
    reference: str | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class ScoreRule:
    name: str
    points: int
    limit: float | None = None
    unknown: int = 0  # points when the signal cannot be read


@dataclass(frozen=True)
class ReputationTable:
    rules: tuple[ScoreRule, ...]
    yellow: int = DEFAULT_THRESHOLDS["yellow"]
    red: int = DEFAULT_THRESHOLDS["red"]

    def rule(self, name: str) -> ScoreRule:
        return next(rule for rule in self.rules if rule.name == name)


@dataclass(frozen=True)
class InternalNames:
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseAgeSettings:
    minimum_days: float = DEFAULT_RELEASE_AGE_DAYS  # 0 turns the gate off
    allow: tuple[PolicyEntry, ...] = ()


@dataclass(frozen=True)
class FirewallConfig:
    registry: RegistrySettings
    reputation: ReputationTable
    internal: InternalNames = InternalNames()
    allowlist: tuple[PolicyEntry, ...] = ()
    blocklist: tuple[PolicyEntry, ...] = ()
    quarantine: tuple[PolicyEntry, ...] = ()
    protect: tuple[tuple[Ecosystem, tuple[str, ...]], ...] = field(default=())
    release_age: ReleaseAgeSettings = ReleaseAgeSettings()
    inspect_artifacts: bool = False  # download artifacts to inspect; a cached one is inspected anyway
    source: str = "embedded defaults"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tollgate" / "registry"


def load_firewall_config(path: Path | None) -> FirewallConfig:
    """The `firewall:` section of `path`, or the defaults when there is no file."""
    if path is None:
        return firewall_config_from_section({}, "embedded defaults", Path.cwd())
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    section = load_section(text, str(path), "firewall")
    return firewall_config_from_section({} if section is None else section, str(path), path.parent)


def firewall_config_from_section(section: Any, source: str, base_dir: Path) -> FirewallConfig:
    problems = sorted(f"{source}: {format_path(['firewall', *error.absolute_path])}: {error.message}"
                      for error in Draft202012Validator(FIREWALL_SCHEMA).iter_errors(section))
    problems = problems or [f"{source}: {problem}" for problem in (*_range_problems(section),
                                                                   *non_finite_numbers(section, ("firewall",)),
                                                                   *_threshold_problems(section),
                                                                   *_url_problems(section))]
    if problems:
        raise ConfigError("\n".join(problems), tip="the firewall section's schema is FIREWALL_SCHEMA in "
                          "pipeline/firewall/config.py")
    return FirewallConfig(
        registry=_registry(section.get("registry") or {}, base_dir),
        reputation=_reputation(section.get("reputation") or {}),
        internal=_internal(section.get("internal") or {}),
        allowlist=_entries(section, "allowlist"),
        blocklist=_entries(section, "blocklist"),
        quarantine=_entries(section, "quarantine"),
        protect=tuple((Ecosystem(key), tuple(names)) for key, names in (section.get("protect") or {}).items()),
        release_age=_release_age(section.get("release-age") or {}),
        inspect_artifacts=bool(section.get("inspect-artifacts", False)),
        source=source,
    )


def range_error(ecosystem: Ecosystem, versions: str) -> str | None:
    """Why `versions` is not a range of `ecosystem`'s syntax, or None."""
    try:
        if ecosystem is Ecosystem.PYPI:
            SpecifierSet(versions)
        else:
            NpmSpec(versions)
    except (InvalidSpecifier, ValueError):
        kind = "a PEP 440 version range (e.g. ==4.1 or >=4.1,<4.1.8)" if ecosystem is Ecosystem.PYPI else (
            "an npm semver range (e.g. ^4.17.0 or >=1.0.0 <1.2.3)")
        return f"{versions!r} is not {kind}"
    return None


def _range_problems(section: dict[str, Any]) -> list[str]:
    problems = []
    for list_name in ("blocklist", "quarantine"):
        for index, entry in enumerate(section.get(list_name) or ()):
            error = range_error(Ecosystem(entry["ecosystem"]), entry["versions"]) if "versions" in entry else None
            if error:
                problems.append(f"firewall.{list_name}[{index}].versions: {error}")
    return problems


def _threshold_problems(section: dict[str, Any]) -> list[str]:
    thresholds = {**DEFAULT_THRESHOLDS, **((section.get("reputation") or {}).get("thresholds") or {})}
    if thresholds["yellow"] > thresholds["red"]:
        return [f"firewall.reputation.thresholds: yellow ({thresholds['yellow']}) is above red ({thresholds['red']}), "
                "so no package could ever be Yellow"]
    return []


def _url_problems(section: dict[str, Any]) -> list[str]:
    """Mirror URLs are http(s); one with user:password@ is refused without quoting it (the cache would keep it)."""
    registry = section.get("registry") or {}
    problems = []
    for key in ("pypi-url", "npm-url"):
        url = registry.get(key)
        if url is None:
            continue
        if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
            problems.append(f"firewall.registry.{key}: give no user or password in the URL: it would be written "
                            "into every cache file and message")
        elif not _HTTP_URL.match(url):
            problems.append(f"firewall.registry.{key}: {url!r} is not an http(s) URL")
    return problems


def _registry(raw: dict[str, Any], base_dir: Path) -> RegistrySettings:
    cache_dir = Path(os.path.expanduser(raw["cache-dir"])) if "cache-dir" in raw else default_cache_dir()
    return RegistrySettings(
        cache_dir=cache_dir if cache_dir.is_absolute() else base_dir / cache_dir,
        ttl_seconds=float(raw.get("ttl-hours", DEFAULT_TTL_HOURS)) * 3600,
        timeout=float(raw.get("timeout", DEFAULT_TIMEOUT)),
        pypi_url=str(raw.get("pypi-url", DEFAULT_PYPI_URL)).rstrip("/"),
        npm_url=str(raw.get("npm-url", DEFAULT_NPM_URL)).rstrip("/"),
        downloads=bool(raw.get("downloads", True)),
        stars=bool(raw.get("stars", True)),
    )


def _reputation(raw: dict[str, Any]) -> ReputationTable:
    overrides = raw.get("rules") or {}
    rules = []
    for name, limit_key in RULE_LIMITS.items():
        merged = {**DEFAULT_RULES[name], **overrides.get(name, {})}
        rules.append(ScoreRule(name=name, points=int(merged["points"]), unknown=int(merged.get("unknown", 0)),
                               limit=float(merged[limit_key]) if limit_key else None))
    thresholds = {**DEFAULT_THRESHOLDS, **(raw.get("thresholds") or {})}
    return ReputationTable(rules=tuple(rules), yellow=int(thresholds["yellow"]), red=int(thresholds["red"]))


def _internal(raw: dict[str, Any]) -> InternalNames:
    return InternalNames(
        names=frozenset(name.lower() for name in raw.get("names", ())),
        prefixes=tuple(prefix.lower() for prefix in raw.get("prefixes", ())),
        scopes=tuple(scope.lower().rstrip("/") for scope in raw.get("scopes", ())),
    )


def _release_age(raw: dict[str, Any]) -> ReleaseAgeSettings:
    return ReleaseAgeSettings(minimum_days=float(raw.get("minimum-days", DEFAULT_RELEASE_AGE_DAYS)),
                              allow=_entries(raw, "allow", "release-age.allow"))


def _entries(section: dict[str, Any], list_name: str, label: str | None = None) -> tuple[PolicyEntry, ...]:
    return tuple(
        PolicyEntry(
            list_name=f"{label or list_name}[{index}]",
            ecosystem=Ecosystem(raw["ecosystem"]),
            name=normalize(raw["name"], Ecosystem(raw["ecosystem"])),
            reason=raw["reason"].strip(),
            versions=raw.get("versions"),
            reference=raw.get("reference"),
            severity=Severity(raw["severity"].upper()) if "severity" in raw else None,
        )
        for index, raw in enumerate(section.get(list_name) or ())
    )
