"""The `scan:` section of `.tollgate.yml`: which scanners run, with what options, against what.

The gate's policy lives in the same file and is validated by pipeline.policy; that schema
leaves `scan` to this module. The section is checked against `scan_schema()` (every problem at
once, each naming its key path, e.g. `.tollgate.yml: scan.scanners.zap.mode: 'fast' is not one of
['baseline', 'full']`) and then merged over the embedded defaults key by key, so a user writes only
what differs. Each scanner's options schema and defaults come from its spec (pipeline/scanners/catalog.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from pipeline.config_file import format_path, load_section, non_finite_numbers
from pipeline.errors import ConfigError
from pipeline.scanners import catalog
from pipeline.scanners.base import Options, ScannerName, ScannerSpec
from pipeline.scanners.schema import BOOLEAN, SECONDS, STRING, STRINGS

EMBEDDED = "embedded defaults"
# What every scan leaves alone unless `scan.exclude` says otherwise: version control, environments,
# dependencies and Tollgate's own output.
DEFAULT_EXCLUDE = (".git", ".venv", ".venv-checkov", "venv", "node_modules", ".tollgate", ".terraform", ".scannerwork")
# What SAST and secrets scans also leave out: code that does not ship (tests, docs, examples) and code
# the project did not write (vendored, generated, built). Asserts in tests and example credentials in
# docs are noise there, not risk; `scan.source-exclude: []` scans everything.
DEFAULT_SOURCE_EXCLUDE = (
    "tests", "test", "testing", "docs", "doc", "examples", "example", "vendor", "third_party", "node_modules",
    ".venv", "venv", "dist", "build", "site-packages", "test_*.py", "*_test.py", "conftest.py", "*_test.go",
    "*.test.js", "*.spec.js", "*.test.ts", "*.spec.ts",
)


def _scanner_schema(spec: ScannerSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {"enabled": BOOLEAN, "timeout": SECONDS, **spec.options},
    }


@cache
def scan_schema() -> dict[str, Any]:
    """The `scan:` section's JSON Schema; each scanner's part comes from its spec."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "exclude": STRINGS,
            "source-exclude": STRINGS,
            "dast": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"targets": STRINGS, "allow": STRINGS},
            },
            "scanners": {
                "type": "object",
                "additionalProperties": False,
                "properties": {spec.name: _scanner_schema(spec) for spec in catalog.specs()},
            },
            "publish": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "securityhub": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"region": STRING, "account": STRING, "endpoint-url": STRING},
                    },
                },
            },
        },
    }


@dataclass(frozen=True)
class ScannerSettings:
    enabled: bool
    timeout: float | None  # None: the scanner's own default
    options: Options
    # The user's configuration enabled it: it must run, where a zero-setup default may be skipped.
    required: bool = False


@dataclass(frozen=True)
class SecurityHubTarget:
    region: str | None = None
    account: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class OptionOverride:
    """One scanner option set from outside `.tollgate.yml` (`--wsc-instance`, an action input)."""

    scanner: ScannerName
    key: str
    value: Any


@dataclass(frozen=True)
class ScanConfig:
    scanners: tuple[tuple[ScannerName, ScannerSettings], ...]
    exclude: tuple[str, ...] = ()
    source_exclude: tuple[str, ...] = ()
    dast_targets: tuple[str, ...] = ()
    dast_allow: tuple[str, ...] = ()
    securityhub: SecurityHubTarget | None = None
    source: str = EMBEDDED

    def settings(self, name: ScannerName) -> ScannerSettings:
        return dict(self.scanners)[name]

    def with_options(self, overrides: Iterable[OptionOverride]) -> ScanConfig:
        """This configuration with scanner options set, as a command-line flag or action input sets them."""
        scanners = dict(self.scanners)
        for override in overrides:
            settings = scanners[override.scanner]
            options = Options.of({**dict(settings.options.values), override.key: override.value})
            scanners[override.scanner] = replace(settings, options=options)
        return replace(self, scanners=tuple(scanners.items()))


@cache
def embedded_defaults() -> dict[str, Any]:
    """What `tollgate scan` does when `.tollgate.yml` has no `scan:` section; a section merges over it."""
    return {
        "exclude": list(DEFAULT_EXCLUDE),
        "source-exclude": list(DEFAULT_SOURCE_EXCLUDE),
        "dast": {"targets": [], "allow": []},
        "scanners": {spec.name: {"enabled": spec.enabled, **spec.defaults} for spec in catalog.specs()},
    }


def load_scan_config(path: Path | None) -> ScanConfig:
    """The scan section of `path`; the embedded defaults when `path` is None."""
    if path is None:
        return config_from_section({}, EMBEDDED)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    return parse_scan_config(text, str(path))


def parse_scan_config(text: str, source: str) -> ScanConfig:
    section = load_section(text, source, "scan")
    section = {} if section is None else section  # `scan: []` or `scan: false` is an error, not the defaults
    problems = sorted(
        f"{source}: {format_path(['scan', *error.absolute_path])}: {error.message}"
        for error in Draft202012Validator(scan_schema()).iter_errors(section)
    ) or [f"{source}: {problem}" for problem in non_finite_numbers(section, ("scan",))]
    if problems:
        raise ConfigError("\n".join(problems), tip="the scan section is described in docs/configuration.md")
    return config_from_section(section, source)


def config_from_section(section: dict[str, Any], source: str) -> ScanConfig:
    merged = _merge(embedded_defaults(), section)
    chosen = section.get("scanners") or {}
    scanners = tuple((name, _settings(merged["scanners"][name], required=bool(chosen.get(name, {}).get("enabled"))))
                     for name in catalog.names())
    securityhub = (merged.get("publish") or {}).get("securityhub")
    return ScanConfig(
        scanners=scanners,
        exclude=tuple(merged.get("exclude", ())),
        source_exclude=tuple(merged.get("source-exclude", ())),
        dast_targets=tuple(merged.get("dast", {}).get("targets", ())),
        dast_allow=tuple(merged.get("dast", {}).get("allow", ())),
        securityhub=None if securityhub is None else SecurityHubTarget(
            region=securityhub.get("region"),
            account=securityhub.get("account"),
            endpoint_url=securityhub.get("endpoint-url"),
        ),
        source=source,
    )


def _settings(raw: dict[str, Any], *, required: bool) -> ScannerSettings:
    options = {key: value for key, value in raw.items() if key not in ("enabled", "timeout")}
    timeout = raw.get("timeout")
    return ScannerSettings(
        enabled=bool(raw.get("enabled", False)),
        timeout=None if timeout is None else float(timeout),
        options=Options.of({key: tuple(v) if isinstance(v, list) else v for key, v in options.items()}),
        required=required,
    )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces the default."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged
