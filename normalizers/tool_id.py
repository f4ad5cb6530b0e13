"""The closed set of report formats Tollgate reads. The registry must cover every member."""

import enum


class ToolId(str, enum.Enum):
    DEPENDENCY_CHECK_JSON = "dependency-check-json"
    DEPENDENCY_CHECK_XML = "dependency-check-xml"
    TRIVY = "trivy"
    ZAP_JSON = "zap-json"
    ZAP_XML = "zap-xml"
    SONARQUBE_ISSUES = "sonarqube-issues"
    SONARQUBE_HOTSPOTS = "sonarqube-hotspots"
    WAPITI = "wapiti"
    DETECT_SECRETS = "detect-secrets"
    LYNIS = "lynis"
    NCP_WSC = "ncp-wsc"
    SUPPLY_CHAIN = "supply-chain"
    ASFF = "asff"
    TOLLGATE_RESULTS = "tollgate-results"
    SARIF = "sarif"  # last: the generic reader for any tool's SARIF
