"""Every scanner Tollgate can run, keyed by `ScannerName`; a test checks the map is exhaustive.

Modules are imported only when a scan needs them, so `tollgate --help` never loads a ZAP client.
"""

from __future__ import annotations

import enum
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.scanners.base import Scanner


class ScannerName(str, enum.Enum):
    SEMGREP = "semgrep"
    BANDIT = "bandit"
    CHECKOV = "checkov"
    DETECT_SECRETS = "detect-secrets"
    HADOLINT = "hadolint"
    TRIVY_CONFIG = "trivy-config"
    TRIVY_SECRET = "trivy-secret"  # noqa: S105 - a scanner name, not a password
    TRIVY_FS = "trivy-fs"
    TRIVY_IMAGE = "trivy-image"
    DEPENDENCY_CHECK = "dependency-check"
    HOST = "host"  # Lynis, a host hardening audit
    SONARQUBE = "sonarqube"
    ZAP = "zap"
    WAPITI = "wapiti"
    SUPPLY_CHAIN = "supply-chain"
    NCP_WSC = "ncp-wsc"


# name -> "module:attribute" of the Scanner instance
SCANNERS: dict[ScannerName, str] = {
    ScannerName.SEMGREP: "pipeline.scanners.semgrep:SCANNER",
    ScannerName.BANDIT: "pipeline.scanners.bandit:SCANNER",
    ScannerName.CHECKOV: "pipeline.scanners.checkov:SCANNER",
    ScannerName.DETECT_SECRETS: "pipeline.scanners.detect_secrets:SCANNER",
    ScannerName.HADOLINT: "pipeline.scanners.hadolint:SCANNER",
    ScannerName.TRIVY_CONFIG: "pipeline.scanners.trivy:CONFIG",
    ScannerName.TRIVY_SECRET: "pipeline.scanners.trivy:SECRET",
    ScannerName.TRIVY_FS: "pipeline.scanners.trivy:FS",
    ScannerName.TRIVY_IMAGE: "pipeline.scanners.trivy:IMAGE",
    ScannerName.DEPENDENCY_CHECK: "pipeline.scanners.dependency_check:SCANNER",
    ScannerName.HOST: "pipeline.scanners.lynis:SCANNER",
    ScannerName.SONARQUBE: "pipeline.scanners.sonarqube:SCANNER",
    ScannerName.ZAP: "pipeline.scanners.zap:SCANNER",
    ScannerName.WAPITI: "pipeline.scanners.wapiti:SCANNER",
    ScannerName.SUPPLY_CHAIN: "pipeline.scanners.supply_chain:SCANNER",
    ScannerName.NCP_WSC: "pipeline.scanners.ncp_wsc:SCANNER",
}

# The DAST engines, which `tollgate scan --dast-engine` chooses between; a test checks it against the specs.
DAST_ENGINES: tuple[ScannerName, ...] = (ScannerName.ZAP, ScannerName.WAPITI, ScannerName.NCP_WSC)


def scanner_for(name: ScannerName) -> Scanner:
    module_name, attribute = SCANNERS[name].split(":")
    scanner: Scanner = getattr(importlib.import_module(module_name), attribute)
    return scanner
