"""The order the scanners start in, and how many run at once.

A scan cannot finish before its slowest scanner, nor before the machine has done all the scanners' CPU
work: max(slowest alone, CPU seconds / cores). Starting everything at once shares the cores among all of
them, so the slowest finishes last and late. Instead the longest expected starts first, and the next one
starts when a core is partly idle: while the CPU shares of the running scanners add up to less than the
cores. A scanner's share is its CPU seconds over its wall seconds in the last scan (a scanner that waits
on a server or the disk leaves part of its core to another), clamped to [MIN_SHARE, cores]; without a
measurement it is one core. So with no history this is one scanner per core; the short ones fill the
gaps beside the long one.

Expected seconds are the last scan's measured wall time (pipeline/scanners/durations.py), else the spec's
static estimate. A scanner that polls a server (`uses_core: false`: ZAP, SonarQube) takes no share; it
starts at once, beside the others. The memory bound caps how many run at once: the memory available
(pipeline/scanners/machine.py: MemAvailable, or less within a container's limit) over the largest memory
estimate of the scanners that take a core.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.scanners.base import ScannerSpec
from pipeline.scanners.durations import Measured

# A share below this would let too many start at once on one stretched measurement; at most cores / MIN_SHARE run.
MIN_SHARE = 0.5


@dataclass(frozen=True)
class Slot:
    name: str
    expected: float  # seconds
    measured: bool  # from the last scan, else the spec's estimate
    uses_core: bool
    share: float  # the cores it keeps busy while it runs; 0 when it takes none


@dataclass(frozen=True)
class Schedule:
    order: tuple[Slot, ...]  # longest expected first
    slots: int  # scanners that take a core, at most this many at once (the memory bound)
    cores: int
    memory_mb: int | None  # available when planned; None where unknown

    def room(self, running: Iterable[Slot]) -> bool:
        """Whether one more scanner that takes a core may start beside `running`: the running ones' shares
        leave part of a core idle, within the memory bound. Nothing running always leaves room."""
        busy = [slot for slot in running if slot.uses_core]
        return not busy or (len(busy) < self.slots and sum(slot.share for slot in busy) < self.cores)

    def lines(self) -> tuple[str, ...]:
        """The schedule as --debug shows it."""
        memory = f"{self.memory_mb} MB available" if self.memory_mb is not None else "memory unknown"
        head = (f"schedule: {self.cores} cores of CPU shares, at most {self.slots} at once ({memory}), "
                "longest expected first")
        return (head, *(f"schedule: {index}. {slot.name} {slot.expected:.1f}s "
                        f"({'last run' if slot.measured else 'estimate'}, "
                        f"{f'{slot.share:.2f} core' if slot.uses_core else 'no core'})"
                        for index, slot in enumerate(self.order, 1)))


def plan(specs: Iterable[ScannerSpec], history: Mapping[str, Measured], cores: int,
         memory_mb: int | None) -> Schedule:
    """Longest expected first (ties in the given order); slots bounded by cores and memory, at least one."""
    specs = tuple(specs)
    cores = max(cores, 1)
    order = sorted((_slot(spec, history.get(spec.name), cores) for spec in specs), key=lambda slot: -slot.expected)
    bound = int(cores / MIN_SHARE)
    busy = [spec.memory_mb for spec in specs if spec.uses_core]
    if memory_mb is not None and busy:
        bound = min(bound, memory_mb // max(*busy, 1))
    return Schedule(tuple(order), max(bound, 1), cores, memory_mb)


def _slot(spec: ScannerSpec, measured: Measured | None, cores: int) -> Slot:
    if not spec.uses_core:
        share = 0.0
    elif measured is None or measured.wall <= 0:
        share = 1.0
    else:
        share = min(max(measured.cpu / measured.wall, MIN_SHARE), float(cores))
    expected = spec.expected_seconds if measured is None else measured.wall
    return Slot(spec.name, expected, measured is not None, spec.uses_core, share)
