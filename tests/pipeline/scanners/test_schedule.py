"""The scan's schedule: longest expected first, bounded by cores and memory, from the last run's durations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.scanners import durations, schedule
from pipeline.scanners.base import ScannerSpec
from pipeline.scanners.durations import Measured


def spec(name: str, expected: float, memory_mb: int = 300, uses_core: bool = True) -> ScannerSpec:
    return ScannerSpec(name=name, title=name, category=Category.SAST, tool_ids=(ToolId.SARIF,), install="-",
                       timeout=60, homepage="https://example.com", expected_seconds=expected, memory_mb=memory_mb,
                       uses_core=uses_core)


SPECS = (spec("quick", 1), spec("slow", 5), spec("middle", 3), spec("zap", 300, uses_core=False))


def test_the_longest_expected_starts_first_and_a_measurement_beats_the_estimate() -> None:
    planned = schedule.plan(SPECS, {}, cores=2, memory_mb=None)
    assert [slot.name for slot in planned.order] == ["zap", "slow", "middle", "quick"]
    measured = schedule.plan(SPECS, {"quick": Measured(wall=9, cpu=8)}, cores=2, memory_mb=None)
    assert [slot.name for slot in measured.order] == ["zap", "quick", "slow", "middle"]
    assert [slot.measured for slot in measured.order] == [False, True, False, False]


def test_ties_keep_the_given_order() -> None:
    planned = schedule.plan((spec("b", 2), spec("a", 2), spec("c", 2)), {}, cores=4, memory_mb=None)
    assert [slot.name for slot in planned.order] == ["b", "a", "c"]


@pytest.mark.parametrize(("cores", "memory_mb", "slots"), [
    (2, None, 2),  # one per core
    (8, 1000, 3),  # 1000 MB over the largest estimate that takes a core (300 MB; the ZAP poller's 5000 not)
    (8, 100, 1),  # short of memory: still one at a time, never none
    (0, None, 1),
])
def test_slots_are_bounded_by_cores_and_memory(cores: int, memory_mb: int | None, slots: int) -> None:
    specs = (*SPECS, spec("poller", 10, memory_mb=5000, uses_core=False))
    assert schedule.plan(specs, {}, cores=cores, memory_mb=memory_mb).slots == slots


def test_the_schedule_reads_as_lines() -> None:
    planned = schedule.plan(SPECS, {"slow": Measured(wall=4.25, cpu=4)}, cores=2, memory_mb=2048)
    assert planned.lines() == (
        "schedule: 2 at once (2 cores, 2048 MB available), longest expected first",
        "schedule: 1. zap 300.0s (estimate, no core)",
        "schedule: 2. slow 4.2s (last run)",
        "schedule: 3. middle 3.0s (estimate)",
        "schedule: 4. quick 1.0s (estimate)",
    )


def test_machine_facts_are_read_where_they_exist(tmp_path: Path) -> None:
    assert schedule.usable_cores() >= 1
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683772 kB\nMemAvailable:   2097152 kB\n", encoding="ascii")
    assert schedule.available_memory_mb(meminfo) == 2048
    meminfo.write_text("MemTotal:       24683772 kB\n", encoding="ascii")
    assert schedule.available_memory_mb(meminfo) is None
    assert schedule.available_memory_mb(tmp_path / "absent") is None


def test_durations_round_trip_and_a_scan_keeps_the_figures_of_scanners_it_did_not_run(tmp_path: Path) -> None:
    path = tmp_path / "scan" / "durations.json"
    assert durations.load(path) == durations.History({})  # no history yet: no warning either
    assert durations.save(path, {}, [("semgrep", Measured(2.5, 3.25)), ("bandit", Measured(0.5, 0.25))]) is None
    first = durations.load(path)
    assert first.warning is None
    assert dict(first.measured) == {"semgrep": Measured(2.5, 3.25), "bandit": Measured(0.5, 0.25)}
    durations.save(path, first.measured, [("bandit", Measured(1.0, 0.75))])
    assert dict(durations.load(path).measured) == {"semgrep": Measured(2.5, 3.25), "bandit": Measured(1.0, 0.75)}


def test_the_file_lives_in_the_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOLLGATE_DATA_DIR", str(tmp_path))
    assert durations.durations_path() == tmp_path / "scan" / "durations.json"
    monkeypatch.delenv("TOLLGATE_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert durations.durations_path() == tmp_path / "xdg" / "tollgate" / "scan" / "durations.json"


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe", b"[]", b'{"version": 2, "scanners": {}}', b'{"version": 1}',
    b'{"version": 1, "scanners": {"semgrep": {"wall": -1, "cpu": 1}}}',
    b'{"version": 1, "scanners": {"semgrep": {"wall": "fast", "cpu": 1}}}',
    b'{"version": 1, "scanners": {"semgrep": {"wall": NaN, "cpu": 1}}}',
    b'{"version": 1, "scanners": {"semgrep": {"wall": true, "cpu": 1}}}',
    b'{"version": 1, "scanners": {"semgrep": 3}}',
])
def test_a_corrupt_file_is_ignored_with_a_warning(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "durations.json"
    path.write_bytes(content)
    history = durations.load(path)
    assert history.measured == {}
    assert history.warning is not None
    assert history.warning.startswith(f"{path}: ignored (")


def test_a_cache_folder_that_cannot_be_written_is_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    warning = durations.save(blocker / "scan" / "durations.json", {}, [("semgrep", Measured(1, 1))])
    assert warning is not None
    assert "scanner durations not saved" in warning


def test_the_saved_file_is_small_sorted_json(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    durations.save(path, {}, [("semgrep", Measured(2.00049, 1))])
    assert json.loads(path.read_text(encoding="utf-8")) == {"version": 1,
                                                            "scanners": {"semgrep": {"wall": 2.0, "cpu": 1.0}}}
