"""KISA's Unix server items (2026 edition, U-01..U-67): which item a host check speaks to.

The table is data (normalizers/tables/kisa_unix_2026.yml, reasoning in docs/host-audit.md): each
item's area, importance, the Lynis tests that cover it and the ids of Tollgate's own read-only
checks (pipeline/scanners/host_checks.sh). Two questions are answered here, nowhere else:
- which item a Lynis record cites (`item_for_lynis`: its test, and for a shared test such as
  SSH-7408, the pattern its message or details match);
- what an item's verdict is on one host (`verdicts`): `fail` when any record cites it, else
  `pass` when a check of it passed or one of its Lynis tests ran, `manual` when a check says it
  needs a person, `na` when every check found the thing absent, else `unchecked`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from normalizers.tables import load_table

AREAS_ORDER = ("accounts", "files-and-permissions", "services", "patches-and-logs")
RESULTS = ("pass", "fail", "manual", "na")
VERDICTS = ("fail", "pass", "manual", "na", "unchecked")
ITEM_PROPERTY = "kisa.item"  # the Finding property naming the item a host finding cites
_ITEM_ID = re.compile(r"^U-\d{2}$")


@dataclass(frozen=True)
class LynisRef:
    test: str
    match: re.Pattern[str] | None = None  # None: every record of the test

    def claims(self, test_id: str, text: str) -> bool:
        return test_id.upper() == self.test and (self.match is None or bool(self.match.search(text)))


@dataclass(frozen=True)
class Item:
    id: str  # "U-01"
    title: str
    area: str  # one of AREAS_ORDER
    importance: str  # high | medium | low
    intent: str
    old: tuple[str, ...]  # the 2021 edition's numbers
    lynis: tuple[LynisRef, ...]
    native: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    edition: str
    source: str
    areas: Mapping[str, str]  # area id -> its title
    items: tuple[Item, ...]

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.id == item_id)

    def item_for_lynis(self, test_id: str, text: str) -> Item | None:
        """The item a Lynis record (test id; message and details as `text`) cites, if any."""
        return next((item for item in self.items if any(ref.claims(test_id, text) for ref in item.lynis)), None)

    def item_for_check(self, check: str) -> Item | None:
        return next((item for item in self.items if check in item.native), None)


@cache
def table() -> Table:
    document = load_table("normalizers.tables", "kisa_unix_2026.yml")
    return _checked(Table(
        edition=str(document["source"]["edition"]),
        source=str(document["source"]["title"]),
        areas={str(k): str(v) for k, v in document["areas"].items()},
        items=tuple(_item(entry) for entry in document["items"]),
    ))


def _item(entry: Mapping[str, object]) -> Item:
    def refs(value: object) -> tuple[LynisRef, ...]:
        found = []
        for ref in value or ():  # type: ignore[attr-defined]
            if isinstance(ref, str):
                found.append(LynisRef(ref.upper()))
            else:
                found.append(LynisRef(str(ref["test"]).upper(), re.compile(str(ref["match"]), re.IGNORECASE)))
        return tuple(found)

    return Item(
        id=str(entry["id"]), title=str(entry["title"]), area=str(entry["area"]),
        importance=str(entry["importance"]), intent=str(entry["intent"]),
        old=tuple(str(o) for o in entry.get("old") or ()),  # type: ignore[attr-defined]
        lynis=refs(entry.get("lynis")), native=tuple(str(n) for n in entry.get("native") or ()),  # type: ignore[attr-defined]
    )


def _checked(found: Table) -> Table:
    """A broken table is a bug: refuse it at load rather than cite the wrong item."""
    ids = [item.id for item in found.items]
    problems = [f"bad id {i}" for i in ids if not _ITEM_ID.match(i)]
    problems += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    problems += [f"{item.id}: unknown area {item.area}" for item in found.items if item.area not in AREAS_ORDER]
    natives = [check for item in found.items for check in item.native]
    problems += [f"check {c} is in several items" for c in sorted({c for c in natives if natives.count(c) > 1})]
    whole = [ref.test for item in found.items for ref in item.lynis if ref.match is None]
    problems += [f"Lynis test {t} is in several items" for t in sorted({t for t in whole if whole.count(t) > 1})]
    if set(found.areas) != set(AREAS_ORDER) or problems:
        raise ValueError(f"kisa_unix_2026.yml: {'; '.join(problems) or 'areas differ from ' + str(AREAS_ORDER)}")
    return found


def verdicts(check_results: Iterable[tuple[str, str]], cited: Iterable[str],
             lynis_tests_run: Iterable[str]) -> dict[str, str]:
    """item id -> verdict on one host, from the native checks' (check, result) pairs, the items
    that findings cite, and the Lynis tests that ran (`tests_executed`)."""
    t = table()
    per_item: dict[str, set[str]] = {}
    for check, result in check_results:
        item = t.item_for_check(check)
        if item is not None:
            per_item.setdefault(item.id, set()).add(result)
    ran = {test.upper() for test in lynis_tests_run}
    for item in t.items:
        if any(ref.test in ran for ref in item.lynis):
            per_item.setdefault(item.id, set()).add("pass")
    failed = set(cited)
    out = {}
    for item in t.items:
        results = per_item.get(item.id, set())
        if item.id in failed or "fail" in results:
            out[item.id] = "fail"
        else:
            out[item.id] = next((v for v in ("pass", "manual", "na") if v in results), "unchecked")
    return out


def requirement(properties: Iterable[tuple[str, str]]) -> str | None:
    """The guideline item a finding cites, as a compliance requirement (`KISA Unix 2026 U-13`), if any."""
    item = dict(properties).get(ITEM_PROPERTY)
    return f"KISA Unix {table().edition.split()[0]} {item}" if item else None  # the edition's year, not its note
