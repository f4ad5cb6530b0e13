"""What this process may use of the machine: its cores and its memory, as the scan's schedule sees them.

A container's limits are not the machine's: a CI runner in Kubernetes (GitLab's, Actions Runner
Controller's) or CodeBuild sees all of the host's cores and memory, while its control group holds it to
a CPU quota and a memory limit. Scheduling by the host's figures would start every scanner at once and
let the kernel kill them for memory. So both figures are the least of the machine's and of every limit
on this process's control group and its ancestors, in cgroup v2 and v1 alike.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

MEMINFO = Path("/proc/meminfo")
PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
_V2 = ""  # the unified hierarchy's key in /proc/self/cgroup's controller lists
_UNLIMITED_V1 = 1 << 62  # cgroup v1 writes "no limit" as the largest page-aligned 64-bit number


def usable_cores(proc_cgroup: Path = PROC_CGROUP, root: Path = CGROUP_ROOT) -> int:
    """The cores this process may run on (a CI runner's affinity mask), not the machine's count, within its
    CPU quota, rounded up: a quota of 1.5 CPUs keeps two scanners busy."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quotas = [math.ceil(quota) for quota in _cpu_quotas(proc_cgroup, root)]
    return max(min([cores, *quotas]), 1)


def available_memory_mb(meminfo: Path = MEMINFO, proc_cgroup: Path = PROC_CGROUP,
                        root: Path = CGROUP_ROOT) -> int | None:
    """MemAvailable from /proc/meminfo, or less where a memory limit leaves less; None where neither is known."""
    figures = [figure for figure in (_mem_available(meminfo), *_memory_room(proc_cgroup, root)) if figure is not None]
    return min(figures) // (1024 * 1024) if figures else None


def _mem_available(meminfo: Path) -> int | None:
    for line in _lines(meminfo):
        key, _, value = line.partition(":")
        fields = value.split()
        if key == "MemAvailable" and fields and fields[0].isdigit():
            return int(fields[0]) * 1024
    return None


def _cpu_quotas(proc_cgroup: Path, root: Path) -> Iterator[float]:
    """CPUs allowed by each quota set on this process's control group or an ancestor."""
    for folder, v2 in _limit_folders(proc_cgroup, root, "cpu"):
        if v2:
            quota, _, period = _read(folder / "cpu.max").partition(" ")
        else:
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if _natural(quota) and _natural(period):  # "max" (v2) and -1 (v1) set no quota
            yield int(quota) / int(period)


def _memory_room(proc_cgroup: Path, root: Path) -> Iterator[int]:
    """Bytes each memory limit on this control group or an ancestor leaves: the limit less what is charged to
    it, the page cache it would drop first (inactive files) counting as room, as MemAvailable counts it."""
    for folder, v2 in _limit_folders(proc_cgroup, root, "memory"):
        limit, used = ((_read(folder / "memory.max"), _read(folder / "memory.current")) if v2 else
                       (_read(folder / "memory.limit_in_bytes"), _read(folder / "memory.usage_in_bytes")))
        if not _natural(limit) or not used.isdigit() or (not v2 and int(limit) >= _UNLIMITED_V1):
            continue  # "max" (v2), no controller here, or v1's "no limit"
        inactive = _stat(folder / "memory.stat", "inactive_file" if v2 else "total_inactive_file")
        yield max(int(limit) - int(used) + min(inactive, int(used)), 0)


def _limit_folders(proc_cgroup: Path, root: Path, controller: str) -> Iterator[tuple[Path, bool]]:
    """The folders of this process's control group and its ancestors for `controller`, with whether they are
    cgroup v2's. Inside a cgroup namespace the group is the mount's root, and its path there is `/`."""
    for key, path in _memberships(proc_cgroup):
        v2 = key == _V2
        if not v2 and controller not in key.split(","):
            continue
        base = root if v2 else root / controller
        parts = PurePosixPath(path).parts[1:]
        for depth in range(len(parts), -1, -1):
            folder = base.joinpath(*parts[:depth])
            if folder.is_dir():
                yield folder, v2


def _memberships(proc_cgroup: Path) -> Iterator[tuple[str, str]]:
    """(controllers, path) per line of /proc/self/cgroup, `hierarchy-ID:controllers:path`."""
    for line in _lines(proc_cgroup):
        _, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if path.startswith("/"):
            yield controllers, path


def _stat(path: Path, key: str) -> int:
    for line in _lines(path):
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _natural(text: str) -> bool:
    return text.isdigit() and int(text) > 0


def _read(path: Path) -> str:
    lines = _lines(path)
    return lines[0].strip() if lines else ""


def _lines(path: Path) -> list[str]:
    """The file's lines; none where it is missing or unreadable (not Linux, no such controller)."""
    try:
        return path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
