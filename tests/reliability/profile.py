"""How hard and how long the suite pushes: RELIABILITY_PROFILE=short (default, CI) or full.

short: the whole of tests/reliability in a few minutes on a 2-core machine (every test runs
in the normal `scripts/test`). full: `scripts/reliability`, the figures of docs/reliability.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    clients: int  # concurrent load clients
    sustained_s: float  # the sustained-load scenario's run
    steady_s: float  # load before and after each fault
    fault_s: float  # how long a dependency stays down
    slow_connections: int  # slowloris connections at once (beyond granian's 1,024 per worker)
    normal_clients: int  # well-behaved clients beside the slow ones
    miss_ratio: float = 0.2  # share of requests for names never asked before

    @property
    def pytest_timeout(self) -> int:
        return int(4 * (self.sustained_s + self.steady_s * 2 + self.fault_s * 2)) + 120


PROFILES = {
    "short": Profile(
        "short",
        clients=16,
        sustained_s=12,
        steady_s=3,
        fault_s=4,
        slow_connections=1100,
        normal_clients=4,
    ),
    "full": Profile(
        "full",
        clients=64,
        sustained_s=60,
        steady_s=10,
        fault_s=15,
        slow_connections=3000,
        normal_clients=8,
    ),
}


def current() -> Profile:
    name = os.environ.get("RELIABILITY_PROFILE", "short").strip().lower() or "short"
    if name not in PROFILES:
        raise ValueError(f"RELIABILITY_PROFILE must be one of {', '.join(PROFILES)}, got {name!r}")
    return PROFILES[name]


PROFILE = current()
