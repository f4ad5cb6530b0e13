"""What the scan may use of the machine: cores and memory, within a container's cgroup limits.

The cgroup trees here are written for these tests, in the layout the kernel mounts (cgroup v2's
unified hierarchy, v1's one folder per controller), with the values a runtime writes there.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.scanners import machine

GIB = 1024 ** 3
MEMINFO = "MemTotal:       24683772 kB\nMemAvailable:   2097152 kB\n"  # 2048 MB available


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="ascii")
    return root


def affinity() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def test_without_a_cgroup_the_machine_figures_stand(tmp_path: Path) -> None:
    meminfo = tree(tmp_path, {"meminfo": MEMINFO}) / "meminfo"
    absent = tmp_path / "absent"
    assert machine.usable_cores(absent, absent) == affinity() >= 1
    assert machine.available_memory_mb(meminfo, absent, absent) == 2048
    (tmp_path / "meminfo").write_text("MemTotal:       24683772 kB\n", encoding="ascii")
    assert machine.available_memory_mb(meminfo, absent, absent) is None
    assert machine.available_memory_mb(absent, absent, absent) is None


def test_cgroup_v2_quota_and_memory_limit_bound_the_figures(tmp_path: Path) -> None:
    """A Kubernetes pod: 1.5 CPUs and 1 GiB on its own group, 600 MiB charged of which 100 MiB is page cache."""
    root = tree(tmp_path / "cgroup", {
        "kubepods/pod1/cpu.max": "150000 100000\n",
        "kubepods/pod1/memory.max": f"{GIB}\n",
        "kubepods/pod1/memory.current": f"{600 * 1024 ** 2}\n",
        "kubepods/pod1/memory.stat": f"anon 1\ninactive_file {100 * 1024 ** 2}\nactive_file 5\n",
        "kubepods/cpu.max": "max 100000\n",
        "kubepods/memory.max": "max\n",
    })
    proc = tree(tmp_path, {"proc": "0::/kubepods/pod1\n"}) / "proc"
    meminfo = tree(tmp_path, {"meminfo": MEMINFO}) / "meminfo"
    assert machine.usable_cores(proc, root) == min(affinity(), 2)  # 1.5 CPUs keep two scanners busy
    assert machine.available_memory_mb(meminfo, proc, root) == 1024 - 600 + 100


def test_a_limit_on_an_ancestor_applies_and_the_least_wins(tmp_path: Path) -> None:
    root = tree(tmp_path / "cgroup", {
        "ci/job/cpu.max": "max 100000\n",
        "ci/cpu.max": "100000 100000\n",
        "ci/job/memory.max": f"{4 * GIB}\n", "ci/job/memory.current": "0\n",
        "ci/memory.max": f"{GIB}\n", "ci/memory.current": f"{GIB // 2}\n",
    })
    proc = tree(tmp_path, {"proc": "0::/ci/job\n"}) / "proc"
    meminfo = tree(tmp_path, {"meminfo": MEMINFO}) / "meminfo"
    assert machine.usable_cores(proc, root) == 1
    assert machine.available_memory_mb(meminfo, proc, root) == 512


def test_inside_a_cgroup_namespace_the_group_is_the_mount_root(tmp_path: Path) -> None:
    """Docker's default on cgroup v2: /proc/self/cgroup says `0::/`, and the limits are at the mount's root."""
    root = tree(tmp_path / "cgroup", {"cpu.max": "200000 100000\n", "memory.max": f"{GIB}\n",
                                      "memory.current": "0\n"})
    proc = tree(tmp_path, {"proc": "0::/\n"}) / "proc"
    meminfo = tree(tmp_path, {"meminfo": MEMINFO}) / "meminfo"
    assert machine.usable_cores(proc, root) == min(affinity(), 2)
    assert machine.available_memory_mb(meminfo, proc, root) == 1024


def test_cgroup_v1_controllers_and_their_no_limit_values(tmp_path: Path) -> None:
    """v1 mounts one folder per controller; -1 is no quota, and a limit near 2**63 is no memory limit."""
    root = tree(tmp_path / "cgroup", {
        "cpu/docker/abc/cpu.cfs_quota_us": "300000\n", "cpu/docker/abc/cpu.cfs_period_us": "100000\n",
        "cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n",
        "memory/docker/abc/memory.limit_in_bytes": f"{2 * GIB}\n",
        "memory/docker/abc/memory.usage_in_bytes": f"{GIB}\n",
        "memory/docker/abc/memory.stat": f"cache 9\ntotal_inactive_file {256 * 1024 ** 2}\n",
        "memory/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.usage_in_bytes": f"{GIB}\n",
    })
    proc = tree(tmp_path, {"proc": "5:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n"}) / "proc"
    meminfo = tree(tmp_path, {"meminfo": MEMINFO}) / "meminfo"
    assert machine.usable_cores(proc, root) == min(affinity(), 3)
    assert machine.available_memory_mb(meminfo, proc, root) == 1024 + 256
    unlimited = tree(tmp_path, {"unlimited": "5:memory:/\n"}) / "unlimited"
    assert machine.available_memory_mb(meminfo, unlimited, root) == 2048, "the root's no-limit value is no limit"


def test_the_figures_of_this_machine_are_sane() -> None:
    assert 1 <= machine.usable_cores() <= affinity()
    memory = machine.available_memory_mb()
    assert memory is None or memory > 0
