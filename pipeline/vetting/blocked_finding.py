"""A BLOCKED verdict as Tollgate findings, imported into Security Hub by the existing publisher.

The verdict's hits become the firewall scanner's findings document (findings_document), which
the supply-chain parser reads back: one path from a firewall hit to a Finding, whether the hit
came from a repository scan or from a vetting. Each blocked version is its own publish scope
(`codeartifact/DOMAIN/ECOSYSTEM/NAME/VERSION`), so publishing one never archives another's findings.
"""

from __future__ import annotations

from typing import Any

import orjson

from normalizers.model import Finding, Scope
from normalizers.parsers.base import ParseOptions
from normalizers.parsing import parse_report
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId
from pipeline.firewall.engine import Verdict
from pipeline.firewall.findings_document import build_report, finding_record
from pipeline.publish.securityhub import PublishOutcome, PublishRequest, PublishSettings, publish
from pipeline.vetting.model import PackageVersion

MANIFEST = "codeartifact-vetting-request"  # where the package was declared: the vetting request itself


def vetting_scope(domain: str, package: PackageVersion) -> Scope:
    return Scope(repository=f"codeartifact/{domain}/{package.ecosystem.value}/{package.name}/{package.version}")


def verdict_records(verdict: Verdict) -> list[dict[str, Any]]:
    """The verdict's hits as findings-document records: what the check hands to the block step."""
    return [finding_record(verdict.package, hit, verdict.score) for hit in verdict.all_hits()]


def blocked_findings(records: list[dict[str, Any]]) -> tuple[Finding, ...]:
    """Records back to Findings through the supply-chain parser (redaction and identity included)."""
    document = build_report(manifests=[MANIFEST], packages=1, findings=records, problems=(), notes=(),
                            offline=False)
    result = parse_report(Report("vetting", orjson.dumps(document)), ParseOptions(), ToolId.SUPPLY_CHAIN)
    if result.skipped:  # a record the parser refuses is a bug of the check step: never dropped silently
        raise ValueError(f"{len(result.skipped)} of {len(records)} blocked findings could not be read back: "
                         f"{result.skipped[0].reason}")
    return result.findings


def publish_blocked(records: list[dict[str, Any]], package: PackageVersion, domain: str, *,
                    settings: PublishSettings, account: str | None, session: Any = None) -> PublishOutcome:
    request = PublishRequest(findings=blocked_findings(records), scope=vetting_scope(domain, package),
                             categories=frozenset({"supply-chain"}), account=account)
    return publish(request, settings, session=session)
