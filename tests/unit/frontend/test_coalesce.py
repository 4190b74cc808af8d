from __future__ import annotations

import asyncio

import pytest

from monsterstack.frontend.coalesce import SingleFlight


async def test_concurrent_callers_share_one_call() -> None:
    flights: SingleFlight[int] = SingleFlight()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*(flights.do("k", work) for _ in range(10)))
    assert calls == 1
    assert [r for r, _ in results] == [42] * 10
    assert sum(shared for _, shared in results) == 9
    assert len(flights) == 0  # landed


async def test_different_keys_fly_separately_and_failures_reach_every_caller() -> None:
    flights: SingleFlight[int] = SingleFlight()

    async def boom() -> int:
        await asyncio.sleep(0.01)
        raise RuntimeError("backend down")

    results = await asyncio.gather(
        *(flights.do("k", boom) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert len(flights) == 0
    ok = await flights.do("other", lambda: asyncio.sleep(0, result=7))
    assert ok == (7, False)


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    flights: SingleFlight[str] = SingleFlight()

    async def slow() -> str:
        await asyncio.sleep(0.1)
        return "done"

    first = asyncio.create_task(flights.do("k", slow))
    second = asyncio.create_task(flights.do("k", slow))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == ("done", True)
    with pytest.raises(asyncio.CancelledError):
        await first
