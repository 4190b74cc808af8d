"""The picture cache's two tiers: an in-process LRU, and Redis shared by the replicas.

`MemoryCache` is the hot tier (and the whole cache when no Redis is configured), bounded in
bytes: a hot picture costs no I/O at all. `RedisCache` keeps pictures in Redis through the
frontend's one Redis edge (`RedisStore`), with a TTL; it raises `RedisUnavailable` when Redis
does not answer, and `Images` then serves without it. Pictures only: the rate limiter and the
visits counter talk to the same `RedisStore` directly.
"""

from __future__ import annotations

from collections import OrderedDict

from .redis_store import RedisStore

PICTURE_TTL = 7 * 24 * 3600  # a week: pictures never change, Redis's own LRU evicts first


class MemoryCache:
    """LRU bounded by the total size of the values (keys and overhead are small beside them)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> bytes | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return  # never evict everything for one oversized value
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= len(old)
        self._items[key] = value
        self.size += len(value)
        while self.size > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self.size -= len(evicted)

    async def ping(self) -> tuple[bool, str]:
        return True, f"in-process, {len(self._items)} items, {self.size} bytes"

    def clear(self) -> None:
        self._items.clear()
        self.size = 0


class RedisCache:
    """Pictures in Redis, each kept `ttl` seconds."""

    def __init__(self, store: RedisStore, ttl: int = PICTURE_TTL) -> None:
        self.store, self.ttl = store, ttl

    async def get(self, key: str) -> bytes | None:
        return await self.store.get(key)

    async def set(self, key: str, value: bytes) -> None:
        await self.store.set(key, value, self.ttl)
