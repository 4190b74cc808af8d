"""The shared limiter against a real redis-server: local decisions, one budget across replicas
once they have synced, the overdraft of replicas spending the same tokens and its repayment,
and each replica on its own while Redis is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter

from monsterstack.frontend.ratelimit import Policy, SharedLimiter
from monsterstack.frontend.ratelimit.shared import redis_key
from monsterstack.frontend.redis_store import RedisStore
from tests.servers import RedisProcess, redis_server

# One token every 20 s: nothing refills during a test, so counts are exact.
POLICY = Policy(rate=0.05, burst=4)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisProcess]:
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
async def replicas(redis: RedisProcess) -> AsyncIterator[list[SharedLimiter]]:
    """Three limiters, each with its own connection pool: three frontend replicas."""
    stores = [RedisStore(redis.url, timeout=1.0, retry_after=30) for _ in range(3)]
    limiters = [SharedLimiter(s, POLICY, fallback_counter()) for s in stores]
    yield limiters
    for limiter, store in zip(limiters, stores, strict=True):
        await limiter.close()
        await store.close()


def fallback_counter() -> Counter:
    return Counter("fallbacks", "in-process decisions", registry=CollectorRegistry())


async def take(limiter: SharedLimiter, client: str) -> tuple[bool, float]:
    decision = limiter.take_now(client) or await limiter.take(client)
    return decision.allowed, decision.tokens


async def test_a_new_client_is_synced_then_decided_without_io(
    replicas: list[SharedLimiter],
) -> None:
    a = replicas[0]
    assert a.take_now("c") is None  # never seen here: `take` syncs first
    assert await take(a, "c") == (True, 3.0)
    decided = a.take_now("c")  # fresh: synchronous, no round trip
    assert decided is not None and (decided.allowed, decided.tokens) == (True, 2.0)


async def test_once_synced_every_replica_spends_one_budget(
    replicas: list[SharedLimiter],
) -> None:
    answers = []
    for n in range(6):
        replica = replicas[n % 3]
        answers.append(await take(replica, "c"))
        # What the background loops do every 50 ms. A replica's report reaches the others at
        # their next sync: two rounds, and every copy holds every take.
        for r in replicas * 2:
            await r.sync()
    assert [allowed for allowed, _ in answers] == [True] * 4 + [False] * 2
    assert [tokens for _, tokens in answers[:4]] == pytest.approx([3, 2, 1, 0], abs=0.01)


async def test_replicas_spending_the_same_tokens_leave_a_debt_that_is_paid_back(
    replicas: list[SharedLimiter], redis: RedisProcess
) -> None:
    for r in replicas:  # every replica has a fresh copy of the full bucket
        await r.take("c")
        await r.sync()
    # Between two syncs each replica spends what its copy holds: at most (N - 1) x burst too
    # many in all, here at most 12 of a burst of 4.
    admitted = 3
    for r in replicas:
        while (d := r.take_now("c")) is not None and d.allowed:
            admitted += 1
    assert POLICY.burst < admitted <= POLICY.burst * len(replicas)
    for _ in range(2):  # the second round brings every copy what the others reported
        for r in replicas:
            await r.sync()
    debt = POLICY.burst - admitted
    refused = replicas[0].take_now("c")
    assert refused is not None and not refused.allowed
    assert refused.tokens == pytest.approx(debt, abs=0.01)
    # Retry-After counts the debt: every token overspent is paid back at the rate first.
    assert refused.retry_after(POLICY) == pytest.approx((1 - debt) / POLICY.rate, abs=1)
    async with redis_client(redis) as client:
        held = float(await client.hget(redis_key("c"), "tokens"))
    assert held == pytest.approx(debt, abs=0.01)


async def test_the_background_loop_reports_takes_within_a_few_intervals(
    replicas: list[SharedLimiter], redis: RedisProcess
) -> None:
    a, address = replicas[0], "198.51.100.7"
    await take(a, address)
    for _ in range(2):
        assert a.take_now(address) is not None
    await asyncio.sleep(a.interval * 4)
    async with redis_client(redis) as client:
        held = float(await client.hget(redis_key(address), "tokens"))
    assert held == pytest.approx(1.0, abs=0.01)
    assert address.encode() not in b"".join(await client_keys(redis))  # addresses are hashed


async def test_close_reports_what_was_taken_since_the_last_sync(redis: RedisProcess) -> None:
    store = RedisStore(redis.url, timeout=1.0)
    limiter = SharedLimiter(store, POLICY, interval=3600)  # the loop never reports
    await take(limiter, "c")
    limiter.take_now("c")
    await limiter.close()
    await store.close()
    async with redis_client(redis) as client:
        assert float(await client.hget(redis_key("c"), "tokens")) == pytest.approx(2.0, abs=0.01)


async def test_redis_down_each_replica_decides_alone_at_once(
    replicas: list[SharedLimiter], redis: RedisProcess
) -> None:
    redis.kill()
    a, b = replicas[0], replicas[1]
    for limiter in (a, b):
        # The first call finds Redis gone (and opens the circuit); from then on every
        # decision is synchronous, from this replica's own full bucket.
        answers = [await take(limiter, "c") for _ in range(POLICY.burst + 2)]
        assert [allowed for allowed, _ in answers] == [True] * 4 + [False] * 2
        assert limiter.take_now("c") is not None
    assert a.fallbacks is not None and a.fallbacks._value.get() == POLICY.burst + 3
    await a.sync()  # a report to a Redis that is gone: nothing raised


def redis_client(redis: RedisProcess):  # type: ignore[no-untyped-def]
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(redis.url)


async def client_keys(redis: RedisProcess) -> list[bytes]:
    async with redis_client(redis) as client:
        return list(await client.keys("*"))
