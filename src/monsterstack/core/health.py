"""Liveness and readiness, podinfo-style.

Live: the process answers. Ready: started, not draining, and every required dependency
check passes. Draining starts at SIGTERM (see core.server), which announces it to every worker
process by creating a flag file, so each worker's /readyz turns 503 before the server stops.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

DRAIN_FLAG_ENV = "MONSTERSTACK_DRAIN_FLAG"

Check = Callable[[], Awaitable[tuple[bool, str]]]


class throttled:
    """`check`, run at most once every `seconds`; the last result in between. Probes come
    every few seconds from every replica: one real check per second is plenty."""

    def __init__(self, check: Check, seconds: float) -> None:
        self.check, self.seconds = check, seconds
        self.at = -float("inf")
        self.result = (False, "not checked yet")

    async def __call__(self) -> tuple[bool, str]:
        if time.monotonic() - self.at > self.seconds:
            self.result = await self.check()
            self.at = time.monotonic()
        return self.result


@dataclass
class Health:
    started: bool = False
    required: dict[str, Check] = field(default_factory=dict)  # failing -> unready
    optional: dict[str, Check] = field(default_factory=dict)  # failing -> "degraded", still ready
    drain_flag: Path | None = field(
        default_factory=lambda: Path(p) if (p := os.environ.get(DRAIN_FLAG_ENV)) else None
    )
    _draining: bool = False
    _seen_draining: bool = False
    _seen_at: float = -1.0

    def start_draining(self) -> None:
        self._draining = True

    def draining_recently(self, max_age: float = 0.1) -> bool:
        """`draining`, looked up at most every `max_age` seconds: cheap enough for every
        response (the flag file is not stat'ed per request)."""
        now = time.monotonic()
        if not self._seen_draining and now - self._seen_at > max_age:
            self._seen_draining, self._seen_at = self.draining, now
        return self._seen_draining

    @property
    def draining(self) -> bool:
        return self._draining or (self.drain_flag is not None and self.drain_flag.exists())

    async def readiness(self) -> tuple[bool, dict[str, object]]:
        """(ready, details): details name each dependency and its state."""
        deps: dict[str, object] = {}
        ready = self.started and not self.draining
        for name, check in self.required.items():
            ok, detail = await check()
            deps[name] = {"status": "up" if ok else "down", "detail": detail}
            ready = ready and ok
        for name, check in self.optional.items():
            ok, detail = await check()
            deps[name] = {"status": "up" if ok else "degraded", "detail": detail}
        status = "ready" if ready else ("draining" if self.draining else "unready")
        return ready, {"status": status, "ready": ready, "dependencies": deps}
