from __future__ import annotations

from monsterstack.frontend.cache import MemoryCache


def test_memory_cache_is_an_lru_bounded_in_bytes() -> None:
    cache = MemoryCache(max_bytes=100)
    for i in range(5):
        cache.put(f"k{i}", bytes(30))
    assert cache.size <= 100 and len(cache) == 3
    assert cache.get("k0") is None  # oldest evicted
    assert cache.get("k4") == bytes(30)


def test_memory_cache_touch_on_read_keeps_hot_items() -> None:
    cache = MemoryCache(max_bytes=90)
    for key in ("a", "b", "c"):
        cache.put(key, bytes(30))
    cache.get("a")  # a is now the most recent
    cache.put("d", bytes(30))
    assert cache.get("a") is not None and cache.get("b") is None


def test_memory_cache_replacing_a_key_keeps_the_size_right() -> None:
    cache = MemoryCache(max_bytes=1000)
    cache.put("a", bytes(100))
    cache.put("a", bytes(10))
    assert cache.size == 10


def test_a_value_larger_than_the_bound_is_not_stored() -> None:
    cache = MemoryCache(max_bytes=10)
    cache.put("small", bytes(5))
    cache.put("huge", bytes(50))
    assert cache.get("huge") is None and cache.get("small") is not None


def test_an_empty_cache_is_falsy_which_is_why_callers_test_for_none() -> None:
    # MemoryCache defines __len__: `cache or default` would throw an injected empty one away
    # (tests/integration/frontend/test_app.py checks that create_app keeps it).
    assert not MemoryCache(10)
