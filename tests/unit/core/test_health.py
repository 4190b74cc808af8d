"""core.health: optional dependencies are reported and never flip readiness; checks are
cached and a hung one never holds up an answer."""

from __future__ import annotations

import asyncio
import time

from monsterstack.core.health import Health, watched


class Dependency:
    """A check whose answer the test sets; counts its calls; `delay` makes it slow."""

    def __init__(self, ok: bool = True, delay: float = 0.0) -> None:
        self.ok, self.delay, self.calls = ok, delay, 0

    async def __call__(self) -> tuple[bool, str]:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return self.ok, "answers" if self.ok else "refused"


async def test_an_optional_dependency_down_is_degraded_and_still_ready() -> None:
    seen: list[tuple[str, bool]] = []
    health = Health(
        started=True,
        optional={"imagebackend": Dependency(ok=False), "cache": Dependency()},
        report=lambda name, up: seen.append((name, up)),
    )
    ready, details = await health.readiness()
    assert ready is True and details["status"] == "ready"
    assert details["degraded"] == ["imagebackend"]
    assert details["dependencies"] == {
        "imagebackend": {"status": "degraded", "required": False, "detail": "refused"},
        "cache": {"status": "up", "required": False, "detail": "answers"},
    }
    assert sorted(seen) == [("cache", True), ("imagebackend", False)]


async def test_a_required_dependency_down_is_unready() -> None:
    health = Health(started=True, required={"db": Dependency(ok=False)})
    ready, details = await health.readiness()
    assert ready is False and details["status"] == "unready" and details["degraded"] == []
    assert details["dependencies"] == {
        "db": {"status": "down", "required": True, "detail": "refused"}
    }


async def test_not_started_or_draining_is_unready_whatever_the_dependencies() -> None:
    health = Health(optional={"cache": Dependency()})
    assert (await health.readiness())[1]["status"] == "unready"
    health.started = True
    health.start_draining()
    ready, details = await health.readiness()
    assert ready is False and details["status"] == "draining"


async def test_a_watched_check_runs_at_most_once_per_period() -> None:
    dep = Dependency()
    check = watched(dep, seconds=60)
    assert await check() == (True, "answers")
    dep.ok = False
    assert await check() == (True, "answers")  # cached
    assert dep.calls == 1
    check.at -= 61  # the period has passed
    assert await check() == (False, "refused")
    assert dep.calls == 2


async def test_a_hung_check_answers_within_its_patience_with_the_last_result() -> None:
    dep = Dependency(ok=True, delay=0)
    check = watched(dep, seconds=0, patience=0.05)
    assert await check() == (True, "answers")
    dep.ok, dep.delay = False, 0.5  # hung: answers, refused, only after 0.5 s
    started = time.monotonic()
    assert await check() == (True, "answers")  # the last result, not a wait
    assert await check() == (True, "answers")  # the same run still going: not a second one
    assert time.monotonic() - started < 0.3
    assert dep.calls == 2
    await asyncio.sleep(0.6)
    assert await check() == (False, "refused")  # the run's result once it ended


async def test_nothing_checked_yet_is_a_failure_and_a_raising_check_too() -> None:
    async def broken() -> tuple[bool, str]:
        raise RuntimeError("bug")

    slow = watched(Dependency(delay=1.0), seconds=1, patience=0.01)
    assert await slow() == (False, "not checked yet")
    assert await watched(broken, seconds=1)() == (False, "RuntimeError while checking")
    assert slow.running is not None
    slow.running.cancel()
