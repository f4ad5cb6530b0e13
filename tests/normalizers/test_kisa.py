"""The KISA Unix 2026 item table: complete, consistent with Lynis and the host checks, and its verdicts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from normalizers import kisa
from pipeline.scanners.lynis import checks_script

LYNIS_INCLUDE = Path("/usr/share/lynis/include")


def test_the_table_has_the_67_items_in_order_by_area() -> None:
    table = kisa.table()
    assert [item.id for item in table.items] == [f"U-{n:02d}" for n in range(1, 68)]
    areas = [item.area for item in table.items]
    assert areas == sorted(areas, key=kisa.AREAS_ORDER.index)  # the guide numbers area by area
    assert set(areas) == set(kisa.AREAS_ORDER) and all(item.importance in ("high", "medium", "low")
                                                       for item in table.items)


def test_the_crosswalk_cites_each_old_number_once() -> None:
    old = [number for item in kisa.table().items for number in item.old]
    assert all(re.fullmatch(r"U-\d{2}", n) and 1 <= int(n[2:]) <= 72 for n in old)
    assert len(old) == len(set(old))
    assert kisa.table().item("U-05").old == ("U-44",)  # "no UID 0 but root" moved from U-44 to U-05


def test_every_native_check_is_in_the_script_and_every_item_is_checked() -> None:
    script = checks_script()
    natives = [check for item in kisa.table().items for check in item.native]
    for check in natives:
        assert re.search(rf"(^|[\s(]){re.escape(check)}(\s|$)", script, re.MULTILINE), check
    assert all(item.native for item in kisa.table().items)


def test_every_lynis_test_in_the_table_is_one_lynis_registers() -> None:
    if not LYNIS_INCLUDE.is_dir():
        pytest.skip("Lynis is not installed (apt-get install -y --no-install-recommends lynis)")
    registered = set(re.findall(r"Register --test-no ([A-Z]+-\d+)",
                                " ".join(p.read_text(errors="replace") for p in LYNIS_INCLUDE.glob("tests_*"))))
    used = {ref.test for item in kisa.table().items for ref in item.lynis}
    assert used - registered == set()


def test_a_record_of_a_shared_test_is_claimed_by_its_pattern() -> None:
    table = kisa.table()
    root = table.item_for_lynis("SSH-7408", "Consider hardening SSH configuration PermitRootLogin (set YES to NO)")
    assert root is not None and root.id == "U-01"
    assert table.item_for_lynis("SSH-7408", "Consider hardening SSH AllowTcpForwarding (YES to NO)") is None
    assert table.item_for_lynis("auth-9286", "Configure maximum password age") == table.item("U-02")
    assert table.item_for_lynis("NETW-3200", "Determine if protocol 'dccp' is really needed") is None


def test_verdicts_fail_on_a_citation_and_pass_on_a_check_or_a_test_that_ran() -> None:
    verdicts = kisa.verdicts(
        [("uid-zero", "pass"), ("password-max-age", "pass"), ("password-min-age", "fail"),
         ("mail-relay", "na"), ("mail-server-version", "manual")],
        cited={"U-62"}, lynis_tests_run=["TIME-3104"])
    assert (verdicts["U-05"], verdicts["U-02"], verdicts["U-62"]) == ("pass", "fail", "fail")
    assert (verdicts["U-47"], verdicts["U-45"], verdicts["U-65"]) == ("na", "manual", "pass")
    assert verdicts["U-59"] == "unchecked" and len(verdicts) == 67
