"""The scan's schedule: longest expected first, bounded by cores and memory, from the last run's durations."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from normalizers.model import Category
from normalizers.tool_id import ToolId
from pipeline.flows.scan import dispatch
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
    (2, None, 4),  # cores / MIN_SHARE: what half-idle scanners could fill
    (8, 1000, 3),  # 1000 MB over the largest estimate that takes a core (300 MB; the ZAP poller's 5000 not)
    (8, 100, 1),  # short of memory: still one at a time, never none
    (0, None, 2),
])
def test_slots_are_bounded_by_cores_and_memory(cores: int, memory_mb: int | None, slots: int) -> None:
    specs = (*SPECS, spec("poller", 10, memory_mb=5000, uses_core=False))
    assert schedule.plan(specs, {}, cores=cores, memory_mb=memory_mb).slots == slots


def test_a_scanner_starts_while_the_running_ones_leave_part_of_a_core_idle() -> None:
    def running(plan: schedule.Schedule, *names: str) -> list[schedule.Slot]:
        return [slot for slot in plan.order if slot.name in names]

    unknown = schedule.plan(SPECS, {}, cores=2, memory_mb=None)  # no history: one core each
    assert unknown.room(running(unknown, "zap", "slow")) and not unknown.room(running(unknown, "slow", "middle"))
    waiting = {"slow": Measured(wall=4, cpu=3), "middle": Measured(wall=2, cpu=1.5)}  # each idles a quarter core
    measured = schedule.plan(SPECS, waiting, cores=2, memory_mb=None)
    assert measured.room(running(measured, "slow", "middle"))
    assert not measured.room(running(measured, "slow", "middle", "quick"))
    stretched = schedule.plan(SPECS, {"slow": Measured(wall=10, cpu=0.1)}, cores=1, memory_mb=None)
    assert [slot.share for slot in stretched.order if slot.name == "slow"] == [schedule.MIN_SHARE]
    short_of_memory = schedule.plan(SPECS, waiting, cores=2, memory_mb=600)  # two of 300 MB
    assert not short_of_memory.room(running(short_of_memory, "slow", "middle"))


def peak_concurrency(planned: schedule.Schedule, hold_first: bool) -> tuple[list[str], int]:
    """(what dispatch returned, the most scanners running at once); with `hold_first`, the first one runs
    until a second one has started (or 10 s, so a schedule that never starts it cannot hang the test)."""
    lock, counts, two_running = threading.Lock(), {"now": 0, "peak": 0}, threading.Event()

    def run(name: str) -> str:
        with lock:
            counts["now"] += 1
            counts["peak"] = max(counts["peak"], counts["now"])
            if counts["now"] == 2:
                two_running.set()
        if hold_first and name == planned.order[0].name:
            two_running.wait(timeout=10)
        with lock:
            counts["now"] -= 1
        return name

    return dispatch(planned, run), counts["peak"]  # type: ignore[arg-type]


def test_dispatch_runs_one_per_core_without_history_and_a_second_beside_one_that_waits() -> None:
    specs = (spec("slow", 5), spec("quick", 1))
    assert peak_concurrency(schedule.plan(specs, {}, cores=1, memory_mb=None), hold_first=False) == (
        ["slow", "quick"], 1)
    waits = schedule.plan(specs, {"slow": Measured(wall=4, cpu=2)}, cores=1, memory_mb=None)
    assert peak_concurrency(waits, hold_first=True) == (["slow", "quick"], 2)


def test_meanwhile_runs_once_while_the_first_scanners_run_and_before_the_next_start() -> None:
    """The scan's own preparations (its report templates) overlap the scanners instead of following them."""
    planned = schedule.plan((spec("slow", 5), spec("quick", 1)), {}, cores=1, memory_mb=None)
    slow_started, release, events = threading.Event(), threading.Event(), []

    def run(name: str) -> str:
        events.append(f"start {name}")
        if name == "slow":
            slow_started.set()
            assert release.wait(10), "meanwhile never ran"
        return name

    def meanwhile() -> None:
        assert slow_started.wait(10), "meanwhile ran before the first scanner started"
        events.append("meanwhile")
        release.set()

    assert dispatch(planned, run, meanwhile) == ["slow", "quick"]  # type: ignore[arg-type]
    assert events == ["start slow", "meanwhile", "start quick"]


def test_the_schedule_reads_as_lines() -> None:
    planned = schedule.plan(SPECS, {"slow": Measured(wall=4, cpu=3)}, cores=2, memory_mb=2048)
    assert planned.lines() == (
        "schedule: 2 cores of CPU shares, at most 4 at once (2048 MB available), longest expected first",
        "schedule: 1. zap 300.0s (estimate, no core)",
        "schedule: 2. slow 4.0s (last run, 0.75 core)",
        "schedule: 3. middle 3.0s (estimate, 1.00 core)",
        "schedule: 4. quick 1.0s (estimate, 1.00 core)",
    )


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
