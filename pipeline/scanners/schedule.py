"""The order the scanners start in, and how many run at once.

A scan cannot finish before its slowest scanner, nor before the machine has done all the scanners' CPU
work: max(slowest alone, CPU seconds / cores). Starting everything at once shares the cores among all of
them, so the slowest finishes last and late. Instead the longest expected starts first, and at most one
scanner per core runs (fewer when memory is short), each next one starting as a slot frees: the short
ones fill the gaps beside the long one.

Expected seconds are the last scan's measured wall time (pipeline/scanners/durations.py), else the spec's
static estimate. A scanner that polls a server (`uses_core: false`: ZAP, SonarQube) takes no slot; it
starts at once, beside the others. The memory bound: MemAvailable (Linux) over the largest memory
estimate of the scanners that take a slot.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.scanners.base import ScannerSpec
from pipeline.scanners.durations import Measured

MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class Slot:
    name: str
    expected: float  # seconds
    measured: bool  # from the last scan, else the spec's estimate
    uses_core: bool


@dataclass(frozen=True)
class Schedule:
    order: tuple[Slot, ...]  # longest expected first
    slots: int  # scanners that take a core, at most this many at once
    cores: int
    memory_mb: int | None  # available when planned; None where unknown

    def lines(self) -> tuple[str, ...]:
        """The schedule as --debug shows it."""
        memory = f"{self.memory_mb} MB available" if self.memory_mb is not None else "memory unknown"
        head = f"schedule: {self.slots} at once ({self.cores} cores, {memory}), longest expected first"
        return (head, *(f"schedule: {index}. {slot.name} {slot.expected:.1f}s "
                        f"({'last run' if slot.measured else 'estimate'}{'' if slot.uses_core else ', no core'})"
                        for index, slot in enumerate(self.order, 1)))


def plan(specs: Iterable[ScannerSpec], history: Mapping[str, Measured], cores: int,
         memory_mb: int | None) -> Schedule:
    """Longest expected first (ties in the given order); slots bounded by cores and memory, at least one."""
    specs = tuple(specs)
    order = sorted((_slot(spec, history.get(spec.name)) for spec in specs), key=lambda slot: -slot.expected)
    bound = max(cores, 1)
    busy = [spec.memory_mb for spec in specs if spec.uses_core]
    if memory_mb is not None and busy:
        bound = min(bound, memory_mb // max(*busy, 1))
    return Schedule(tuple(order), max(bound, 1), cores, memory_mb)


def _slot(spec: ScannerSpec, measured: Measured | None) -> Slot:
    if measured is None:
        return Slot(spec.name, spec.expected_seconds, False, spec.uses_core)
    return Slot(spec.name, measured.wall, True, spec.uses_core)


def usable_cores() -> int:
    """The cores this process may run on (a CI runner's affinity mask), not the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_memory_mb(meminfo: Path = MEMINFO) -> int | None:
    """MemAvailable from /proc/meminfo; None where there is no such file or line."""
    try:
        lines = meminfo.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        key, _, value = line.partition(":")
        fields = value.split()
        if key == "MemAvailable" and fields and fields[0].isdigit():
            return int(fields[0]) // 1024
    return None
