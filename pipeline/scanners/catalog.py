"""Every scanner Tollgate can run: the one list of runner modules, in the order scans report them.

Each module listed here exposes `SCANNERS`, its `Scanner` instances, whose specs carry everything
else about them (options schema, defaults, action inputs, category, homepage). The config schema,
the embedded defaults, `--only`/`--skip`, the DAST engine choices and the docs' scanner table are all
derived from the specs, so adding a scanner is its runner module (plus its parser, unless it
writes SARIF) and one line here.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.scanners.base import Scanner, ScannerSpec

SCANNER_MODULES: tuple[str, ...] = (
    "pipeline.scanners.semgrep",
    "pipeline.scanners.bandit",
    "pipeline.scanners.checkov",
    "pipeline.scanners.detect_secrets",
    "pipeline.scanners.hadolint",
    "pipeline.scanners.trivy",
    "pipeline.scanners.dependency_check",
    "pipeline.scanners.lynis",
    "pipeline.scanners.sonarqube",
    "pipeline.scanners.zap",
    "pipeline.scanners.zap_ssm",
    "pipeline.scanners.wapiti",
    "pipeline.scanners.firewall",
    "pipeline.scanners.ncp_wsc",
)


@cache
def scanners() -> dict[str, Scanner]:
    """name -> scanner, in catalog order; imported on first use, so `tollgate --help` loads none."""
    found: dict[str, Scanner] = {}
    for module in SCANNER_MODULES:
        for scanner in importlib.import_module(module).SCANNERS:
            if scanner.spec.name in found:
                raise ValueError(f"{module}: scanner {scanner.spec.name!r} is declared twice")
            found[scanner.spec.name] = scanner
    return found


def names() -> tuple[str, ...]:
    return tuple(scanners())


def specs() -> tuple[ScannerSpec, ...]:
    return tuple(scanner.spec for scanner in scanners().values())


def dast_engines() -> tuple[str, ...]:
    """The DAST engines, which `--dast-engine` and the dast action's `engine` input choose between."""
    return tuple(spec.name for spec in specs() if spec.dast_engine)


def scanner_for(name: str) -> Scanner:
    try:
        return scanners()[name]
    except KeyError:
        raise ConfigError(f"unknown scanner {name!r}", f"scanners: {', '.join(names())}") from None
