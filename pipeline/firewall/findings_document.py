"""The firewall scanner's findings document: Tollgate's supply-chain JSON, read by normalizers/parsers/supply_chain.py.

```
{"format": "tollgate-supply-chain/1",
 "tool": {"name": "tollgate-firewall", "version": "0.1.0"},
 "offline": true,
 "manifests": ["requirements.txt", ...], "packages": 12,
 "findings": [{"rule_id": "TG-SC-TYPOSQUAT", "severity": "HIGH", "confidence": "HIGH",
               "title": "...", "detail": "...", "reference": null, "similar_packages": ["requests"],
               "package": {"name": "reqeusts", "ecosystem": "pypi", "version": null, "spec": "",
                           "manifest": "requirements.txt", "line": 3},
               "score": null | {"points": 50, "risk_level": "Red", "reasons": [{"rule", "points", "detail"}]}}],
 "not_checked": [{"manifest": "requirements.txt", "line": 7, "reason": "..."}],
 "notes": ["offline: ..."]}
```
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from normalizers import __version__
from pipeline.firewall.model import DeclaredPackage, Hit, ManifestProblem, RuleId
from pipeline.firewall.reputation import Score

FORMAT = "tollgate-supply-chain/1"
TOOL_NAME = "tollgate-firewall"


def finding_record(package: DeclaredPackage, hit: Hit, score: Score | None = None) -> dict[str, Any]:
    return {
        "rule_id": hit.rule.value,
        "severity": hit.severity.value,
        "confidence": hit.confidence.value,
        "title": hit.title,
        "detail": hit.detail,
        "reference": hit.reference,
        "similar_packages": list(hit.similar),
        "package": {"name": package.name, "ecosystem": package.ecosystem.value, "version": package.version,
                    "spec": package.spec, "manifest": package.manifest, "line": package.line},
        "score": None if score is None or hit.rule is not RuleId.REPUTATION else {
            "points": score.points, "risk_level": score.level.value,
            "reasons": [{"rule": r.rule, "points": r.points, "detail": r.detail} for r in score.reasons],
        },
    }


def build_report(*, manifests: Iterable[str], packages: int, findings: list[dict[str, Any]],
                 problems: Iterable[ManifestProblem], notes: Iterable[str], offline: bool) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "offline": offline,
        "manifests": sorted(set(manifests)),
        "packages": packages,
        "findings": findings,
        "not_checked": [{"manifest": p.manifest, "line": p.line, "reason": p.reason} for p in problems],
        "notes": list(notes),
    }
