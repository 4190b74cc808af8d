from __future__ import annotations

import pytest

from monsterstack.frontend.cache import MemoryCache, RedisCache, TieredCache, build_cache


async def test_memory_cache_is_an_lru_bounded_in_bytes() -> None:
    cache = MemoryCache(max_bytes=100)
    for i in range(5):
        await cache.set(f"k{i}", bytes(30))
    assert cache.size <= 100 and len(cache) == 3
    assert await cache.get("k0") is None  # oldest evicted
    assert await cache.get("k4") == bytes(30)


async def test_memory_cache_touch_on_read_keeps_hot_items() -> None:
    cache = MemoryCache(max_bytes=90)
    for key in ("a", "b", "c"):
        await cache.set(key, bytes(30))
    cache.get_local("a")  # a is now the most recent
    await cache.set("d", bytes(30))
    assert cache.get_local("a") is not None and cache.get_local("b") is None


async def test_memory_cache_replacing_a_key_keeps_the_size_right() -> None:
    cache = MemoryCache(max_bytes=1000)
    await cache.set("a", bytes(100))
    await cache.set("a", bytes(10))
    assert cache.size == 10


async def test_a_value_larger_than_the_bound_is_not_stored() -> None:
    cache = MemoryCache(max_bytes=10)
    await cache.set("small", bytes(5))
    await cache.set("huge", bytes(50))
    assert cache.get_local("huge") is None and cache.get_local("small") is not None


async def test_memory_cache_has_no_shared_counter() -> None:
    assert await MemoryCache(10).incr("visits") is None


def test_build_cache_picks_the_tier() -> None:
    assert isinstance(build_cache(None, 10, 0.1), MemoryCache)
    tiered = build_cache("redis://127.0.0.1:1/0", 10, 0.1)
    assert isinstance(tiered, TieredCache) and isinstance(tiered.shared, RedisCache)


@pytest.mark.parametrize("op", ["get", "set", "incr"])
async def test_redis_down_fails_fast_after_the_first_error(op: str) -> None:
    from monsterstack.frontend.cache import CacheError

    cache = RedisCache("redis://127.0.0.1:1/0", timeout=0.2, retry_after=30)
    calls = {
        "get": lambda: cache.get("k"),
        "set": lambda: cache.set("k", b"v"),
        "incr": lambda: cache.incr("k"),
    }
    with pytest.raises(CacheError):
        await calls[op]()
    assert "ConnectionError" in cache.last_error
    with pytest.raises(CacheError, match="retrying soon"):  # the circuit is open: no new attempt
        await calls[op]()
    await cache.close()
