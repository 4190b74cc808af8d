"""How many CPUs this process may really use: the default number of worker processes.

`os.cpu_count()` counts the machine's CPUs, not the process's: in a container limited to one
CPU on a 32-core node it says 32, and 32 workers would fight over one CPU's quota. This reads
the two limits Linux applies: the affinity mask (`taskset`, cpusets) and the cgroup CPU quota
(a Kubernetes `limits.cpu`, `docker run --cpus`, systemd's `CPUQuota=`), and keeps the
smaller. A quota on the process's own cgroup or on any cgroup above it counts.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
MAX_WORKERS = 64  # the most the services accept (WORKERS)


def _quota_v2(directory: Path) -> float | None:
    try:
        quota, period = (directory / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _own_cgroup(proc_cgroup: Path) -> str:
    """The process's cgroup v2 path ("0::/kubepods/pod1/ctr" -> "kubepods/pod1/ctr")."""
    try:
        for line in proc_cgroup.read_text().splitlines():
            if line.startswith("0::"):
                return line[3:].strip("/")
    except OSError:
        pass
    return ""


def cgroup_quota(
    root: Path = CGROUP, proc_cgroup: Path = Path("/proc/self/cgroup")
) -> float | None:
    """CPUs allowed by the tightest quota from the process's cgroup up to the root (1.5 for
    `limits.cpu: 1500m`), None if unlimited or unreadable. cgroup v2 (`cpu.max`: "QUOTA PERIOD"
    or "max PERIOD"), else v1 (`cpu/cpu.cfs_quota_us`, -1 for none)."""
    quotas = []
    directory = root / _own_cgroup(proc_cgroup)
    while True:
        quota = _quota_v2(directory)
        if quota is not None:
            quotas.append(quota)
        if directory == root or root not in directory.parents:
            break
        directory = directory.parent
    if quotas:
        return min(quotas)
    try:
        q = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        p = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if q <= 0 or p <= 0 else q / p


def usable_cores(root: Path = CGROUP, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs in this process's affinity mask (all of them where the OS has no affinity),
    capped by the cgroup quota rounded up (a quota of 1.5 CPUs can keep 2 processes busy part
    of the time), between 1 and MAX_WORKERS."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    quota = cgroup_quota(root, proc_cgroup)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, min(cores, MAX_WORKERS))
