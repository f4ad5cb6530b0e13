"""CISA's Known Exploited Vulnerabilities (KEV): which findings are being exploited now (docs/kev.md).

The catalog is read from the copy `tollgate db update` last fetched when there is one, else from
the snapshot bundled in `normalizers/tables/kev/` (CC0; its README says where and when it was
taken). Either way the catalog's version and age travel with it, so a report can say how fresh
its KEV marks are. A finding is marked when any of its CVE ids is in the catalog.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from normalizers.data_dir import data_dir
from normalizers.identity import primary_vulnerability_id
from normalizers.model import Finding, KnownExploited

if TYPE_CHECKING:
    import jsonschema

CATALOG_FILE = "known_exploited_vulnerabilities.json"
SCHEMA_FILE = "known_exploited_vulnerabilities_schema.json"
BUNDLED = "bundled snapshot"


class KevCatalogError(ValueError):
    """A catalog that is not CISA's KEV JSON: refused whole, never half-read."""


@dataclass(frozen=True)
class KevCatalog:
    version: str
    released: date
    source: str  # BUNDLED, or the path of a fetched copy
    entries: Mapping[str, KnownExploited]

    def age_days(self, today: date) -> int:
        return (today - self.released).days

    def notice(self, today: date) -> str:
        return (f"CISA KEV catalog {self.version} ({self.source}, released {self.released.isoformat()}, "
                f"{self.age_days(today)} days old)")


def refreshed_path() -> Path:
    """Where `tollgate db update` keeps the fetched catalog: $TOLLGATE_DATA_DIR, else the user cache."""
    return data_dir() / "kev" / CATALOG_FILE


def load_catalog() -> KevCatalog:
    """The fetched copy when there is a readable one, else the bundled snapshot."""
    fetched = refreshed_path()
    if fetched.is_file():
        try:
            return parse_catalog(fetched.read_bytes(), str(fetched))
        except KevCatalogError:
            pass  # `db update` validates before it writes; a damaged copy falls back to the snapshot
    return bundled_catalog()


@cache
def bundled_catalog() -> KevCatalog:
    data = resources.files("normalizers.tables.kev").joinpath(CATALOG_FILE).read_bytes()
    # Checked against the schema by the suite, not on every run: that costs more than normalizing a small report.
    return parse_catalog(data, BUNDLED, validate=False)


@cache
def _schema_validator() -> jsonschema.protocols.Validator:
    import jsonschema  # noqa: PLC0415 - lazy: 60 ms of imports that only a fetched catalog needs

    schema = orjson.loads(resources.files("normalizers.tables.kev").joinpath(SCHEMA_FILE).read_bytes())
    return jsonschema.validators.validator_for(schema)(schema)


def parse_catalog(data: bytes, source: str, *, validate: bool = True) -> KevCatalog:
    """CISA's JSON, checked against the catalog's own schema."""
    try:
        document: Any = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise KevCatalogError(f"{source}: not JSON ({exc})") from None
    error = next(iter(_schema_validator().iter_errors(document)), None) if validate else None
    if error is not None:
        raise KevCatalogError(f"{source}: not a KEV catalog ({error.json_path}: {error.message})")
    entries = {entry["cveID"].upper(): _entry(entry) for entry in document["vulnerabilities"]}
    released = datetime.fromisoformat(document["dateReleased"].replace("Z", "+00:00")[:10]).date()
    return KevCatalog(document["catalogVersion"], released, source, entries)


def _entry(entry: dict[str, Any]) -> KnownExploited:
    return KnownExploited(cve=entry["cveID"].upper(), date_added=entry["dateAdded"], due_date=entry["dueDate"],
                          ransomware=entry.get("knownRansomwareCampaignUse") == "Known")


def mark_known_exploited(findings: Iterable[Finding], catalog: KevCatalog) -> list[Finding]:
    """Each finding with a CVE in the catalog carries that entry; the finding's primary CVE wins."""
    return [_marked(finding, catalog) for finding in findings]


def _marked(finding: Finding, catalog: KevCatalog) -> Finding:
    if not finding.vulnerability_ids:
        return finding
    primary = primary_vulnerability_id(finding)
    ids = [primary, *(v.upper() for v in finding.vulnerability_ids)]
    entry = next((catalog.entries[v] for v in ids if v in catalog.entries), None)
    return finding if entry is None or entry == finding.kev else dataclasses.replace(finding, kev=entry)
