"""The one Finding model every parser produces and every emitter consumes.

All records are frozen dataclasses holding tuples, never lists, so a Finding can be
hashed, shared between runs of the pipeline, and never mutated behind a caller's back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    """Tollgate's severity scale; members are ordered from most to least severe."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFO = "INFO"

    @property
    def rank(self) -> int:
        """4 for CRITICAL down to 0 for INFO, so that `a.rank >= b.rank` means 'a is at least b'."""
        return _SEVERITY_RANK[self]

    @classmethod
    def from_cvss(cls, score: float) -> Severity:
        """docs/design.md: ≥9.0 CRITICAL, ≥7.0 HIGH, ≥4.0 MEDIUM, >0 LOW, 0 INFO."""
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        if score > 0:
            return cls.LOW
        return cls.INFO


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Category(str, enum.Enum):
    SCA = "sca"
    SAST = "sast"
    DAST = "dast"
    IMAGE = "image"
    IAC = "iac"
    SECRETS = "secrets"
    SUPPLY_CHAIN = "supply-chain"
    HOST = "host"


class Outcome(str, enum.Enum):
    """What a check concluded. A scanner of problems reports only FAIL; a compliance audit that
    judges every item of a guideline (normalizers.kisa) reports its passes too, as Security Hub's
    controls and SARIF's `kind: pass` do. Only FAIL is a problem: the gate, the baseline and
    every count of findings by severity ignore the rest (`Finding.is_problem`)."""

    FAIL = "fail"
    PASS = "pass"  # noqa: S105 - a check outcome, not a password


class Confidence(str, enum.Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Tool:
    name: str
    category: Category
    version: str | None = None


@dataclass(frozen=True)
class Cvss:
    version: str  # "2.0", "3.0", "3.1" or "4.0"
    score: float
    vector: str | None = None
    source: str | None = None  # e.g. "nvd", "ghsa", "redhat"


@dataclass(frozen=True)
class CodeLocation:
    """A place in the scanned repository. `path` is relative to the repository root."""

    path: str
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    end_column: int | None = None
    snippet: str | None = None
    # A stable, non-secret stand-in for the snippet when the tool gives no source text
    # (SonarQube's line hash, detect-secrets' hashed secret): identity only, never shown.
    anchor: str | None = None
    # The IaC resource the finding is about (`aws_instance.web`, a CloudFormation logical id,
    # `Deployment/web`): the tool's own when it names one, else read from the scanned file.
    resource: str | None = None
    kind: str = field(default="code", init=False)


@dataclass(frozen=True)
class PackageLocation:
    """A dependency. `purl` keeps qualifiers; identity drops them (normalizers.identity)."""

    name: str
    version: str | None = None
    purl: str | None = None
    ecosystem: str | None = None
    manifest_path: str | None = None
    manifest_line: int | None = None
    fixed_versions: tuple[str, ...] = ()
    kind: str = field(default="package", init=False)


@dataclass(frozen=True)
class UrlLocation:
    url: str
    method: str | None = None
    parameter: str | None = None
    attack: str | None = None
    evidence: str | None = None
    kind: str = field(default="url", init=False)


@dataclass(frozen=True)
class ImageLocation:
    reference: str  # repository[:tag][@digest] as scanned
    digest: str | None = None
    layer: str | None = None
    package: PackageLocation | None = None
    kind: str = field(default="image", init=False)


@dataclass(frozen=True)
class HostLocation:
    host: str
    instance_id: str | None = None
    test_id: str | None = None
    group: str | None = None
    # What the check found, when one test reports several things on one host (Lynis' FILE-6310
    # names /home, /tmp and /var in three records): identity only, like CodeLocation.anchor.
    anchor: str | None = None
    kind: str = field(default="host", init=False)


Location = CodeLocation | PackageLocation | UrlLocation | ImageLocation | HostLocation


@dataclass(frozen=True)
class Remediation:
    text: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Evidence:
    """What one more tool said about a merged finding's problem: its rule, its words, its place."""

    tool: str
    rule_id: str
    title: str
    severity: Severity
    description: str = ""
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None


@dataclass(frozen=True)
class KnownExploited:
    """CISA's Known Exploited Vulnerabilities entry for a finding's CVE (normalizers.kev)."""

    cve: str
    date_added: str  # ISO 8601 dates, as the catalog writes them
    due_date: str
    ransomware: bool = False  # the catalog's knownRansomwareCampaignUse is "Known"


@dataclass(frozen=True)
class ExploitPrediction:
    """FIRST's EPSS for a finding's CVE (normalizers.epss): the probability of exploitation in the next
    30 days, and its percentile among all scored CVEs, both in [0, 1]."""

    cve: str
    probability: float
    percentile: float
    score_date: str  # ISO 8601 date of the snapshot
    model_version: str


@dataclass(frozen=True)
class Finding:
    """One problem at one place, as one tool (or several, after merging) reported it.

    `fingerprint` is the scope-free identity (see normalizers.identity); it is filled in
    by `normalizers.identity.with_fingerprint` so parsers never compute it by hand.
    `active` is False for findings the tool itself reported as suppressed or resolved;
    they are kept, with `suppression_reason`, so nothing vanishes silently.
    """

    tool: Tool
    rule_id: str
    title: str
    severity: Severity
    location: Location
    description: str = ""
    original_severity: str | None = None
    confidence: Confidence = Confidence.UNKNOWN
    cwe: tuple[int, ...] = ()
    cvss: tuple[Cvss, ...] = ()
    vulnerability_ids: tuple[str, ...] = ()
    remediation: Remediation | None = None
    references: tuple[str, ...] = ()
    active: bool = True
    suppression_reason: str | None = None
    confirmed_by: tuple[str, ...] = ()  # other tools that reported the same identity
    properties: tuple[tuple[str, str], ...] = ()  # tool-specific extras worth keeping
    # The tool's text for this one result (not the rule's): it tells two results of one rule
    # at one place apart (Trivy's five missing EKS log types on one cluster).
    message: str | None = None
    # The other tools' reports of the same problem, kept when findings merge (normalizers.merge).
    evidence: tuple[Evidence, ...] = ()
    # Set after merging when a CVE of the finding is in CISA KEV; the gate and reports rank it first.
    kev: KnownExploited | None = None
    epss: ExploitPrediction | None = None  # set when an EPSS snapshot scores one of its CVEs
    outcome: Outcome = Outcome.FAIL
    fingerprint: str = ""

    @property
    def category(self) -> Category:
        return self.tool.category

    @property
    def is_problem(self) -> bool:
        """A failed check or a vulnerability: what gates, baselines and severity counts are about."""
        return self.outcome is Outcome.FAIL

    @property
    def package(self) -> PackageLocation | None:
        """The package the finding is about: its location's, or the image's package; None elsewhere."""
        location = self.location
        if isinstance(location, PackageLocation):
            return location
        return location.package if isinstance(location, ImageLocation) else None


def with_fingerprint(finding: Finding, fingerprint: str) -> Finding:
    """The finding with its identity set: `dataclasses.replace` would re-run `__init__` over every field, a
    tenth of a 50,000-finding run. Finding's `__init__` only stores its fields (it has no `__post_init__`),
    so a copy of them with the identity changed is the same value."""
    clone = object.__new__(Finding)
    clone.__dict__.update(finding.__dict__, fingerprint=fingerprint)
    return clone


@dataclass(frozen=True)
class Skipped:
    """A record the parser could not turn into a Finding, counted and reported, never dropped."""

    tool: str
    reason: str
    record: str | None = None  # a short pointer to the record, e.g. "Results[2].Vulnerabilities[5]"


@dataclass(frozen=True)
class Scope:
    """Where a scan applies. Identity (and so the ASFF Id) is scoped by it."""

    repository: str
    environment: str | None = None
    branch: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class Reconciliation:
    """What became of every record one report held: `raw == kept + merged + skipped`.

    `merged` are exact duplicates (same tool, rule, place and message) folded into a kept
    finding; `suppressed` are kept findings the tool marked inactive (a subset of `kept`);
    `skipped` are records that are not findings, counted per reason.
    """

    tool: str
    source: str
    raw: int
    kept: int
    merged: int = 0
    suppressed: int = 0
    skipped: int = 0
    skipped_reasons: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ParseResult:
    tool_id: str
    source: str  # the report path as given by the user
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()
    metrics: tuple[tuple[str, str], ...] = ()  # scan-level facts, e.g. Lynis' hardening index
    reconciliation: Reconciliation | None = None
