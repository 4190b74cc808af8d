"""The Redis edge: its circuit breaker with nothing listening, and each call against a real
redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monsterstack.frontend.redis_store import RedisStore, RedisUnavailable
from tests.servers import RedisProcess, redis_server


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisProcess]:
    with redis_server(tmp_path) as server:
        yield server


@pytest.mark.parametrize("op", ["get", "set", "incr", "script"])
async def test_redis_down_fails_fast_after_the_first_error(op: str) -> None:
    store = RedisStore("redis://127.0.0.1:1/0", timeout=0.2, retry_after=30)
    calls = {
        "get": lambda: store.get("k"),
        "set": lambda: store.set("k", b"v", 10),
        "incr": lambda: store.incr("k"),
        "script": lambda: store.script("return 1", [], []),
    }
    assert store.available()
    with pytest.raises(RedisUnavailable):
        await calls[op]()
    assert "ConnectionError" in store.last_error
    assert not store.available()
    with pytest.raises(RedisUnavailable, match="retrying soon"):  # open: no new attempt
        await calls[op]()
    await store.close()


async def test_every_call_against_a_real_redis(redis: RedisProcess) -> None:
    store = RedisStore(redis.url, timeout=1.0)
    try:
        assert await store.ping() == (True, "redis answers")
        await store.set("picture", b"\x89PNG", ttl=60)
        assert await store.get("picture") == b"\x89PNG"
        assert await store.get("absent") is None
        assert [await store.incr("visits") for _ in range(3)] == [1, 2, 3]
        summed = "return tonumber(ARGV[1]) + tonumber(ARGV[2])"
        assert await store.script(summed, [], ["2", "40"]) == 42
        assert await store.client.ttl("picture") in range(55, 61)
    finally:
        await store.close()


async def test_a_restarted_redis_is_used_again_once_the_circuit_closes(
    redis: RedisProcess,
) -> None:
    store = RedisStore(redis.url, timeout=0.5, retry_after=0.2)
    try:
        assert await store.incr("n") == 1
        redis.kill()
        with pytest.raises(RedisUnavailable):
            await store.incr("n")
        redis.restart()
        ok, _ = await store.ping()  # what readiness does: closes the circuit when it answers
        assert ok and store.available()
        assert await store.incr("n") == 1  # a new, empty Redis
    finally:
        await store.close()
