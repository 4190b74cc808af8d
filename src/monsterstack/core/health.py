"""Liveness and readiness, podinfo-style.

Live: the process answers. Ready: started, not draining, and every *required* dependency
check passes. A dependency the service can serve without is *optional*: its state is
reported (the readiness JSON says "degraded", `report` feeds a gauge) but never flips
readiness. The frontend's imagebackend and Redis are optional: without them it still serves
the page and the cached pictures, and a readiness tied to them would take every replica out
of its Service at once, a partial outage made total.

Draining starts at SIGTERM (see core.server), which announces it to every worker process by
creating a flag file, so each worker's /readyz turns 503 before the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

DRAIN_FLAG_ENV = "MONSTERSTACK_DRAIN_FLAG"

Check = Callable[[], Awaitable[tuple[bool, str]]]
Report = Callable[[str, bool], None]


class watched:
    """`check`, run at most once every `seconds` in a task of its own; the last result in
    between. A caller waits for a run in progress at most `patience` seconds, then gets the
    last result: a hung dependency (its check may take its whole timeout) never holds up a
    readiness answer, whose probe has its own deadline (2 s in deploy/base)."""

    def __init__(self, check: Check, seconds: float, patience: float = 0.25) -> None:
        self.check, self.seconds, self.patience = check, seconds, patience
        self.at = -float("inf")
        self.result = (False, "not checked yet")
        self.running: asyncio.Task[None] | None = None

    async def __call__(self) -> tuple[bool, str]:
        if self.running is None and time.monotonic() - self.at > self.seconds:
            self.running = asyncio.create_task(self._run())
        if self.running is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.running), self.patience)
        return self.result

    async def _run(self) -> None:
        try:
            self.result = await self.check()
        except Exception as exc:  # a check that raises is a failed check, never a 500
            self.result = (False, f"{type(exc).__name__} while checking")
        finally:
            self.at = time.monotonic()
            self.running = None


@dataclass
class Health:
    started: bool = False
    required: dict[str, Check] = field(default_factory=dict)  # failing -> unready
    optional: dict[str, Check] = field(default_factory=dict)  # failing -> "degraded", ready
    report: Report | None = None  # told each dependency's state at every check (a gauge)
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

    async def dependencies(self) -> dict[str, tuple[bool, str]]:
        """Every dependency checked (at once), each result told to `report`."""
        checks = {**self.required, **self.optional}
        results = await asyncio.gather(*(check() for check in checks.values()))
        states = dict(zip(checks, results, strict=True))
        if self.report is not None:
            for name, (ok, _) in states.items():
                self.report(name, ok)
        return states

    async def readiness(self) -> tuple[bool, dict[str, object]]:
        """(ready, details): details name each dependency, its state and whether it is
        required; `degraded` lists the optional ones down."""
        deps: dict[str, object] = {}
        degraded: list[str] = []
        ready = self.started and not self.draining
        for name, (ok, detail) in (await self.dependencies()).items():
            required = name in self.required
            if required:
                ready = ready and ok
            elif not ok:
                degraded.append(name)
            status = "up" if ok else ("down" if required else "degraded")
            deps[name] = {"status": status, "required": required, "detail": detail}
        status = "ready" if ready else ("draining" if self.draining else "unready")
        return ready, {"status": status, "ready": ready, "degraded": degraded, "dependencies": deps}
