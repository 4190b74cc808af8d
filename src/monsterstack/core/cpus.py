"""How many CPUs this process may really use: the default number of worker processes.

`os.cpu_count()` counts the machine's CPUs, not the process's: in a container limited to one
CPU on a 32-core node it says 32, and 32 workers would fight over one CPU's quota. This reads
the two limits Linux applies: the affinity mask (`taskset`, cpusets) and the cgroup CPU quota
(a Kubernetes `limits.cpu`, `docker run --cpus`), and keeps the smaller.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def cgroup_quota(root: Path = CGROUP) -> float | None:
    """CPUs allowed by the cgroup's quota (1.5 for `limits.cpu: 1500m`), None if unlimited
    or unreadable. cgroup v2 (`cpu.max`: "QUOTA PERIOD" or "max PERIOD"), else v1."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        q = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        p = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if q <= 0 or p <= 0 else q / p


def usable_cores(root: Path = CGROUP) -> int:
    """The CPUs in this process's affinity mask, capped by the cgroup quota rounded up (a
    quota of 1.5 CPUs can keep 2 processes busy part of the time), at least 1."""
    cores = len(os.sched_getaffinity(0))
    quota = cgroup_quota(root)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)
