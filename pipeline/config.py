"""The `scan:` section of `.tollgate.yml`: which scanners run, with what options, against what.

The gate's policy lives in the same file and is validated by pipeline.policy; that schema
leaves `scan` to this module. The section is checked against `SCAN_SCHEMA` (every problem at
once, each naming its key path, e.g. `.tollgate.yml: scan.scanners.zap.mode: 'fast' is not one of
['baseline', 'full']`) and then merged over the embedded defaults (pipeline/scanners/defaults.yml)
key by key, so a user writes only what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from pipeline.config_file import format_path, load_section, non_finite_numbers
from pipeline.errors import ConfigError
from pipeline.ncp_wsc.endpoints import HOSTS as NCP_HOSTS
from pipeline.ncp_wsc.validation import SPEEDS, USER_AGENTS, VULN_ITEMS
from pipeline.scanners.base import Options
from pipeline.scanners.registry import ScannerName

DEFAULT_CONFIG_FILE = ".tollgate.yml"
EMBEDDED = "embedded defaults"

_STRING = {"type": "string", "minLength": 1}
_STRINGS = {"type": "array", "items": _STRING}
_SECONDS = {"type": "number", "exclusiveMinimum": 0}
_TRIVY_DB = {"cache-dir": _STRING, "db-repository": _STRING, "skip-db-update": {"type": "boolean"}}
# Each scanner's own options, beside the common `enabled` and `timeout`.
SCANNER_OPTIONS: dict[ScannerName, dict[str, Any]] = {
    ScannerName.SEMGREP: {},
    ScannerName.BANDIT: {},
    ScannerName.CHECKOV: {"frameworks": _STRINGS},
    ScannerName.DETECT_SECRETS: {},
    ScannerName.HADOLINT: {},
    ScannerName.TRIVY_CONFIG: {"cache-dir": _STRING},
    ScannerName.TRIVY_SECRET: {"cache-dir": _STRING},
    ScannerName.TRIVY_FS: _TRIVY_DB,
    ScannerName.TRIVY_IMAGE: _TRIVY_DB,
    ScannerName.DEPENDENCY_CHECK: {
        "data-dir": _STRING, "nvd-api-key-env": _STRING, "no-update": {"type": "boolean"}, "nvd-datafeed": _STRING,
    },
    ScannerName.HOST: {
        "profile": _STRING, "ssm-instance-id": {"type": "string", "pattern": "^m?i-[0-9a-f]{8,17}$"},
        "ssm-region": _STRING, "aws-profile": _STRING, "ssm-output-s3-bucket": _STRING,
        "ssm-output-s3-prefix": _STRING, "poll-seconds": _SECONDS,
    },
    ScannerName.SONARQUBE: {
        "host-url": _STRING, "report-task": _STRING, "token-env": _STRING, "poll-seconds": _SECONDS,
    },
    ScannerName.ZAP: {
        "url": _STRING, "api-key-env": _STRING, "auth-header-env": _STRING, "mode": {"enum": ["baseline", "full"]},
        "ajax-spider": {"type": "boolean"}, "exclude": _STRINGS, "spider-minutes": {"type": "integer", "minimum": 1},
        "scan-policy": _STRING, "poll-seconds": _SECONDS,
    },
    ScannerName.WAPITI: {
        "modules": _STRINGS, "depth": {"type": "integer", "minimum": 0},
        "max-scan-time": {"type": "integer", "minimum": 1},
    },
    ScannerName.SUPPLY_CHAIN: {"offline": {"type": "boolean"}},  # the rest is the `firewall:` section
    ScannerName.NCP_WSC: {
        "endpoint": {"enum": list(NCP_HOSTS)}, "base-url": _STRING,
        "vuln-items": {"type": "array", "minItems": 1, "items": {"enum": list(VULN_ITEMS)}},
        "user-agent": {"enum": list(USER_AGENTS)}, "speed": {"enum": [*SPEEDS, *map(int, SPEEDS)]},
        "exclude-urls": _STRINGS, "headers-env": _STRING, "instance": {"type": "integer", "minimum": 1},
        "poll-seconds": _SECONDS, "access-key-env": _STRING, "secret-key-env": _STRING,
    },
}


def _scanner_schema(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {"enabled": {"type": "boolean"}, "timeout": _SECONDS, **options},
    }


SCAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "exclude": _STRINGS,
        "dast": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"targets": _STRINGS, "allow": _STRINGS},
        },
        "scanners": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name.value: _scanner_schema(options) for name, options in SCANNER_OPTIONS.items()},
        },
        "publish": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "securityhub": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"region": _STRING, "account": _STRING, "endpoint-url": _STRING},
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


@dataclass(frozen=True)
class SecurityHubTarget:
    region: str | None = None
    account: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class ScanConfig:
    scanners: tuple[tuple[ScannerName, ScannerSettings], ...]
    exclude: tuple[str, ...] = ()
    dast_targets: tuple[str, ...] = ()
    dast_allow: tuple[str, ...] = ()
    securityhub: SecurityHubTarget | None = None
    source: str = EMBEDDED

    def settings(self, name: ScannerName) -> ScannerSettings:
        return dict(self.scanners)[name]

    def with_option(self, name: ScannerName, key: str, value: Any) -> ScanConfig:
        """This configuration with one scanner option set, as a command-line flag sets it."""
        settings = self.settings(name)
        options = Options.of({**dict(settings.options.values), key: value})
        changed = replace(settings, options=options)
        return replace(self, scanners=tuple((n, changed if n is name else s) for n, s in self.scanners))


@cache
def embedded_defaults() -> dict[str, Any]:
    text = resources.files("pipeline.scanners").joinpath("defaults.yml").read_text(encoding="utf-8")
    section: dict[str, Any] = yaml.safe_load(text)["scan"]
    return section


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
        for error in Draft202012Validator(SCAN_SCHEMA).iter_errors(section)
    ) or [f"{source}: {problem}" for problem in non_finite_numbers(section, ("scan",))]
    if problems:
        raise ConfigError("\n".join(problems), tip="the scan section's schema is SCAN_SCHEMA in pipeline/config.py")
    return config_from_section(section, source)


def config_from_section(section: dict[str, Any], source: str) -> ScanConfig:
    merged = _merge(embedded_defaults(), section)
    scanners = tuple((name, _settings(merged["scanners"].get(name.value, {}))) for name in ScannerName)
    securityhub = (merged.get("publish") or {}).get("securityhub")
    return ScanConfig(
        scanners=scanners,
        exclude=tuple(merged.get("exclude", ())),
        dast_targets=tuple(merged.get("dast", {}).get("targets", ())),
        dast_allow=tuple(merged.get("dast", {}).get("allow", ())),
        securityhub=None if securityhub is None else SecurityHubTarget(
            region=securityhub.get("region"),
            account=securityhub.get("account"),
            endpoint_url=securityhub.get("endpoint-url"),
        ),
        source=source,
    )


def _settings(raw: dict[str, Any]) -> ScannerSettings:
    options = {key: value for key, value in raw.items() if key not in ("enabled", "timeout")}
    timeout = raw.get("timeout")
    return ScannerSettings(
        enabled=bool(raw.get("enabled", False)),
        timeout=None if timeout is None else float(timeout),
        options=Options.of({key: tuple(v) if isinstance(v, list) else v for key, v in options.items()}),
    )


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces the default."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged
