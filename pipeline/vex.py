"""VEX as suppression (docs/vex.md): OpenVEX 0.2 and CycloneDX VEX statements about a CVE in a package.

A `not_affected` or `fixed` statement for a finding's vulnerability (its id or an alias) on a
matching package suppresses the finding: it stays in every output, inactive, with the statement's
status, justification and document id as its suppression reason, so SARIF (`suppressions`), ASFF
(`RecordState: ARCHIVED` and `tollgate/SuppressionReason`), OCSF (`status_id` Suppressed), the gate
and the summary all show why. `affected` and `under_investigation` change nothing, and an
`affected` statement for the same finding outweighs a `not_affected` one (fail safe). A statement
that matches no finding is stale and reported.

Products are purls. A purl without a version matches every version; with one, that version only.
When a finding has no purl (older Trivy reports), its package name is compared with the purl's
namespace and name. Version ranges (CycloneDX `affects[].versions[].range`) are not read.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from normalizers.model import Finding
from pipeline.errors import ConfigError
from pipeline.packages import parse_purl, purl_names

OPENVEX_CONTEXT_PREFIX = "https://openvex.dev/ns"
REASON_PREFIX = "VEX "  # every suppression reason this module writes starts so; reports list them apart


class VexStatus(str, enum.Enum):
    NOT_AFFECTED = "not_affected"
    FIXED = "fixed"
    AFFECTED = "affected"
    UNDER_INVESTIGATION = "under_investigation"


SUPPRESSING = frozenset({VexStatus.NOT_AFFECTED, VexStatus.FIXED})
# CycloneDX analysis.state -> the OpenVEX status it means
CYCLONEDX_STATES = {
    "not_affected": VexStatus.NOT_AFFECTED,
    "false_positive": VexStatus.NOT_AFFECTED,
    "resolved": VexStatus.FIXED,
    "resolved_with_pedigree": VexStatus.FIXED,
    "exploitable": VexStatus.AFFECTED,
    "in_triage": VexStatus.UNDER_INVESTIGATION,
}


@dataclass(frozen=True)
class VexStatement:
    source: str  # the file it was read from
    document: str  # the document's id (OpenVEX @id, CycloneDX serialNumber), else the file
    index: int  # its position in the document, so messages point at it
    vulnerabilities: tuple[str, ...]  # the id and its aliases, upper case
    products: tuple[str, ...]  # purls
    status: VexStatus
    justification: str | None = None

    @property
    def label(self) -> str:
        return f"{self.source}: statement {self.index} ({self.vulnerabilities[0]}, {self.status.value})"

    @property
    def reason(self) -> str:
        why = f": {self.justification}" if self.justification else ""
        return f"{REASON_PREFIX}{self.status.value}{why} ({self.document})"

    def matches(self, finding: Finding) -> bool:
        package = finding.package
        if package is None or not {v.upper() for v in finding.vulnerability_ids} & set(self.vulnerabilities):
            return False
        return any(purl_names(product, package) for product in self.products)


@dataclass(frozen=True)
class VexOutcome:
    findings: tuple[Finding, ...]
    suppressed: int
    stale: tuple[VexStatement, ...]


def load_vex(paths: Iterable[str | Path]) -> tuple[VexStatement, ...]:
    """Every statement of every document; an unreadable or unknown document is a ConfigError."""
    return tuple(statement for path in paths for statement in _read(Path(path)))


def apply_vex(findings: Sequence[Finding], statements: Sequence[VexStatement]) -> VexOutcome:
    matched: set[int] = set()
    result: list[Finding] = []
    suppressed = 0
    for finding in findings:
        applicable = [(i, s) for i, s in enumerate(statements) if s.matches(finding)]
        matched.update(i for i, _ in applicable)
        affected = any(s.status is VexStatus.AFFECTED for _, s in applicable)
        suppressing = next((s for _, s in applicable if s.status in SUPPRESSING), None)
        if finding.active and suppressing is not None and not affected:
            result.append(dataclasses.replace(finding, active=False, suppression_reason=suppressing.reason))
            suppressed += 1
        else:
            result.append(finding)
    stale = tuple(s for i, s in enumerate(statements) if i not in matched)
    return VexOutcome(tuple(result), suppressed, stale)


def _read(path: Path) -> list[VexStatement]:
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"VEX {path}: cannot read it ({exc.strerror})") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"VEX {path}: not JSON ({exc})") from None
    if isinstance(document, dict) and str(document.get("@context", "")).startswith(OPENVEX_CONTEXT_PREFIX):
        return _openvex(document, str(path))
    if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
        return _cyclonedx(document, str(path))
    raise ConfigError(f"VEX {path}: not an OpenVEX or CycloneDX VEX document")


def _openvex(document: dict[str, Any], source: str) -> list[VexStatement]:
    doc_id = str(document.get("@id") or source)
    statements = []
    for index, entry in enumerate(_list(document, "statements", source)):
        where = f"VEX {source}: statements[{index}]"
        vulnerability = entry.get("vulnerability")
        if isinstance(vulnerability, str):
            vulnerability = {"name": vulnerability}
        if not isinstance(vulnerability, dict):
            raise ConfigError(f"{where}: no vulnerability")
        ids = [vulnerability.get("name"), vulnerability.get("@id"), *(vulnerability.get("aliases") or ())]
        products = [p for product in entry.get("products") or () for p in _openvex_products(product)]
        statements.append(_statement(where, source=source, doc_id=doc_id, index=index, ids=ids, products=products,
                                     status=entry.get("status"),
                                     justification=entry.get("justification") or entry.get("impact_statement")))
    return statements


def _openvex_products(product: Any) -> list[str]:
    """A product's purl and its subcomponents' (OpenVEX 0.2 objects, or 0.0.x strings)."""
    if isinstance(product, str):
        return [product]
    if not isinstance(product, dict):
        return []
    own = [product.get("@id"), (product.get("identifiers") or {}).get("purl")]
    subcomponents = [p for sub in product.get("subcomponents") or () for p in _openvex_products(sub)]
    return [p for p in own if isinstance(p, str) and p.startswith("pkg:")] + subcomponents


def _cyclonedx(document: dict[str, Any], source: str) -> list[VexStatement]:
    doc_id = str(document.get("serialNumber") or source)
    purls = {c.get("bom-ref"): c.get("purl") for c in _components(document.get("components") or ())}
    statements = []
    for index, entry in enumerate(_list(document, "vulnerabilities", source)):
        where = f"VEX {source}: vulnerabilities[{index}]"
        analysis = entry.get("analysis") or {}
        status = CYCLONEDX_STATES.get(str(analysis.get("state")))
        ids = [entry.get("id"), *(r.get("id") for r in entry.get("references") or () if isinstance(r, dict))]
        refs = [target.get("ref") for target in entry.get("affects") or () if isinstance(target, dict)]
        products = [purls.get(ref) or ref for ref in refs]
        statements.append(_statement(where, source=source, doc_id=doc_id, index=index, ids=ids, products=products,
                                     status=status and status.value,
                                     justification=analysis.get("justification") or analysis.get("detail")))
    return statements


def _components(components: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for component in components:
        if isinstance(component, dict):
            yield component
            yield from _components(component.get("components") or ())


def _list(document: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    entries = document.get(key)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"VEX {source}: {key} is not a list of objects")
    return entries


def _statement(where: str, *, source: str, doc_id: str, index: int, ids: list[Any], products: list[Any],
               status: Any, justification: Any) -> VexStatement:
    vulnerabilities = tuple(dict.fromkeys(str(v).strip().upper() for v in ids if isinstance(v, str) and v.strip()))
    if not vulnerabilities:
        raise ConfigError(f"{where}: names no vulnerability")
    try:
        parsed = VexStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in VexStatus)
        raise ConfigError(f"{where}: status {status!r} is not one of {allowed}") from None
    purls = tuple(p for p in products if isinstance(p, str) and parse_purl(p) is not None)
    if not purls:
        raise ConfigError(f"{where}: names no product as a purl")
    return VexStatement(source, doc_id, index, vulnerabilities, purls, parsed,
                        str(justification) if justification else None)
