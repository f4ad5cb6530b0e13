"""VEX as suppression (docs/vex.md): OpenVEX 0.2, CycloneDX and CSAF 2.0 VEX statements about a CVE in a package.

A `not_affected` or `fixed` statement for a finding's vulnerability (its id or an alias) on a
matching package suppresses the finding: it stays in every output, inactive, with the statement's
status, justification and document id as its suppression reason, so SARIF (`suppressions`), ASFF
(`RecordState: ARCHIVED` and `tollgate/SuppressionReason`), OCSF (`status_id` Suppressed), the gate
and the summary all show why. `affected` and `under_investigation` change nothing, and an
`affected` statement for the same finding outweighs a `not_affected` one (fail safe). A statement
that matches no finding is stale and reported.

Products are purls. A purl without a version matches every version; with one, that version only;
with a version range (`vers:` syntax: CycloneDX `affects[].versions[].range`, CSAF
`product_version_range` branches), the versions in the range, compared by `univers` with the rules
of the purl's ecosystem. A version that cannot be compared matches nothing (fail safe), and a range
that is not `vers:` is never read as "every version". When a finding has no purl (older Trivy
reports), its package name is compared with the purl's namespace and name.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from normalizers.model import Finding
from pipeline.errors import ConfigError
from pipeline.packages import parse_purl, purl_names

if TYPE_CHECKING:
    from univers.version_range import VersionRange

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


# CSAF 2.0 product_status groups -> the status they mean; `recommended` says nothing about being affected
CSAF_STATUSES = {
    "known_not_affected": VexStatus.NOT_AFFECTED,
    "fixed": VexStatus.FIXED,
    "first_fixed": VexStatus.FIXED,
    "known_affected": VexStatus.AFFECTED,
    "first_affected": VexStatus.AFFECTED,
    "last_affected": VexStatus.AFFECTED,
    "under_investigation": VexStatus.UNDER_INVESTIGATION,
}


@dataclass(frozen=True)
class VexProduct:
    purl: str
    versions: VersionRange | None = None  # a vers range; None: the purl's own version, or every version

    def covers(self, finding: Finding) -> bool:
        package = finding.package
        if package is None or not purl_names(self.purl, package):
            return False
        if self.versions is None:
            return True
        version_class: Any = self.versions.version_class  # the ecosystem's rules, from the vers scheme
        try:
            return bool(package.version) and version_class(package.version) in self.versions
        except (ValueError, TypeError):  # a version the ecosystem's rules cannot read: not covered
            return False


@dataclass(frozen=True)
class VexStatement:
    source: str  # the file it was read from
    document: str  # the document's id (OpenVEX @id, CycloneDX serialNumber), else the file
    index: int  # its position in the document, so messages point at it
    vulnerabilities: tuple[str, ...]  # the id and its aliases, upper case
    products: tuple[VexProduct, ...]
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
        if not {v.upper() for v in finding.vulnerability_ids} & set(self.vulnerabilities):
            return False
        return any(product.covers(finding) for product in self.products)


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
    if isinstance(document, dict) and (document.get("document") or {}).get("category") == "csaf_vex":
        return _csaf(document, str(path))
    raise ConfigError(f"VEX {path}: not an OpenVEX, CycloneDX VEX or CSAF VEX document")


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
        products = [product for target in entry.get("affects") or () if isinstance(target, dict)
                    for product in _cyclonedx_products(purls.get(target.get("ref")) or target.get("ref"),
                                                       target.get("versions"), where)]
        statements.append(_statement(where, source=source, doc_id=doc_id, index=index, ids=ids, products=products,
                                     status=status and status.value,
                                     justification=analysis.get("justification") or analysis.get("detail")))
    return statements


def _cyclonedx_products(purl: Any, versions: Any, where: str) -> list[VexProduct]:
    """The target's purl, narrowed to `versions[]` (each a `version` or a vers `range`) when it lists any."""
    if not isinstance(purl, str):
        return []
    entries = [entry for entry in versions or () if isinstance(entry, dict)]
    if not entries:
        return [VexProduct(purl)]
    products = []
    for entry in entries:
        if isinstance(entry.get("range"), str):
            products.append(VexProduct(_without_version(purl), _range(entry["range"], where)))
        elif isinstance(entry.get("version"), str):
            products.append(VexProduct(_with_version(purl, entry["version"])))
    return products


def _csaf(document: dict[str, Any], source: str) -> list[VexStatement]:
    """One statement per vulnerability, status and justification, over the products that have a purl."""
    doc_id = str((document["document"].get("tracking") or {}).get("id") or source)
    tree = document.get("product_tree") or {}
    products = _csaf_products(tree, source)
    groups = {g.get("group_id"): g.get("product_ids") or () for g in tree.get("product_groups") or ()
              if isinstance(g, dict)}
    statements = []
    for index, entry in enumerate(_list(document, "vulnerabilities", source)):
        where = f"VEX {source}: vulnerabilities[{index}]"
        ids = [entry.get("cve"), *(i.get("text") for i in entry.get("ids") or () if isinstance(i, dict))]
        reasons = _csaf_reasons(entry, groups)
        for key, ids_of_status in (entry.get("product_status") or {}).items():
            status = CSAF_STATUSES.get(key)
            if status is None:
                continue
            by_reason: dict[str | None, list[VexProduct]] = {}
            for product_id in ids_of_status or ():
                reason = reasons.get(product_id) if status is VexStatus.NOT_AFFECTED else None
                by_reason.setdefault(reason, []).extend(products.get(product_id, ()))
            statements += [_statement(where, source=source, doc_id=doc_id, index=index, ids=ids, products=covered,
                                      status=status.value, justification=reason, require_product=False)
                           for reason, covered in by_reason.items()]
    return statements


def _csaf_products(tree: dict[str, Any], source: str) -> dict[str, list[VexProduct]]:
    """product_id -> its purl products: full_product_names, branches (with their version or range) and
    relationships (a product that is a component of another is that component)."""
    found: dict[str, list[VexProduct]] = {}

    def add(product: Any, version: str | None, versions: VersionRange | None) -> None:
        if not isinstance(product, dict) or not isinstance(product.get("product_id"), str):
            return
        helper = product.get("product_identification_helper") or {}
        purls = [helper.get("purl"), *(helper.get("purls") or ())]  # CSAF 2.0 has one; 2.1 a list
        for purl in (p for p in purls if isinstance(p, str)):
            parsed = parse_purl(purl)
            if parsed is None:
                continue
            if versions is not None:
                entry = VexProduct(_without_version(purl), versions)
            else:
                entry = VexProduct(_with_version(purl, version) if version and not parsed.version else purl)
            found.setdefault(product["product_id"], []).append(entry)

    def walk(branches: Any, version: str | None, versions: VersionRange | None, unreadable: bool) -> None:
        for branch in branches or ():
            if not isinstance(branch, dict):
                continue
            name, category = str(branch.get("name") or ""), branch.get("category")
            here, here_range, here_unreadable = version, versions, unreadable
            if category == "product_version":
                here = name
            elif category == "product_version_range":
                # Only vers is read; any other range notation is never taken for "every version".
                here_unreadable = not name.startswith("vers:")
                here_range = None if here_unreadable else _range(name, f"VEX {source}: branch {name!r}")
            if not here_unreadable:
                add(branch.get("product"), here, here_range)
            walk(branch.get("branches"), here, here_range, here_unreadable)

    for product in tree.get("full_product_names") or ():
        add(product, None, None)
    walk(tree.get("branches"), None, None, False)
    for relation in tree.get("relationships") or ():
        if isinstance(relation, dict) and isinstance(relation.get("full_product_name"), dict):
            component = found.get(str(relation.get("product_reference")), [])
            found.setdefault(str(relation["full_product_name"].get("product_id")), []).extend(component)
    return found


def _csaf_reasons(entry: dict[str, Any], groups: dict[Any, Any]) -> dict[str, str]:
    """product_id -> why it is not affected: the flag's justification label, with the impact threat's details."""
    reasons: dict[str, list[str]] = {}

    def products_of(item: dict[str, Any]) -> list[str]:
        return [*(item.get("product_ids") or ()), *(p for g in item.get("group_ids") or () for p in groups.get(g, ()))]

    for flag in entry.get("flags") or ():
        if isinstance(flag, dict) and flag.get("label"):
            for product_id in products_of(flag):
                reasons.setdefault(product_id, []).append(str(flag["label"]))
    for threat in entry.get("threats") or ():
        if isinstance(threat, dict) and threat.get("category") == "impact" and threat.get("details"):
            for product_id in products_of(threat):
                reasons.setdefault(product_id, []).append(str(threat["details"]))
    return {product_id: ": ".join(texts) for product_id, texts in reasons.items()}


def _range(text: str, where: str) -> VersionRange:
    from univers.version_range import VersionRange  # noqa: PLC0415 - lazy: 90 ms, only for documents with ranges

    try:
        return VersionRange.from_string(text)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {text!r} is not a vers range ({exc})") from None


def _without_version(purl: str) -> str:
    parsed = parse_purl(purl)
    return purl if parsed is None or parsed.version is None else parsed._replace(version=None).to_string()


def _with_version(purl: str, version: str) -> str:
    parsed = parse_purl(purl)
    return purl if parsed is None else parsed._replace(version=version).to_string()


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
               status: Any, justification: Any, require_product: bool = True) -> VexStatement:
    """A CSAF statement may cover no product with a purl (CPE-only products): it then matches nothing and
    is reported stale, rather than refusing a valid document."""
    vulnerabilities = tuple(dict.fromkeys(str(v).strip().upper() for v in ids if isinstance(v, str) and v.strip()))
    if not vulnerabilities:
        raise ConfigError(f"{where}: names no vulnerability")
    try:
        parsed = VexStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in VexStatus)
        raise ConfigError(f"{where}: status {status!r} is not one of {allowed}") from None
    purls = tuple(dict.fromkeys(VexProduct(p) if isinstance(p, str) else p for p in products
                                if isinstance(p, VexProduct) or (isinstance(p, str) and parse_purl(p) is not None)))
    if not purls and require_product:
        raise ConfigError(f"{where}: names no product as a purl")
    return VexStatement(source, doc_id, index, vulnerabilities, purls, parsed,
                        str(justification) if justification else None)
