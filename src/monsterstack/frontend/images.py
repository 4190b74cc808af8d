"""Pictures through the cache: in-process tier, then Redis, then one coalesced backend call.

The hot tier is consulted once per request (`hot`, synchronously: a hit does no I/O); a miss
goes on with `fetch` (Redis, then the backend), which never looks at the hot tier again.

Integrity first: a picture is cached only when the backend's ETag is the one this request
expects (same algorithm version, same parameters, same name digest), so a backend of another
version during a rollout, or a mixed-up response, can never be stored under the wrong key.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from ..core.metrics import LATENCY_BUCKETS, HttpMetrics
from ..core.monster_request import MonsterRequest
from .backend import BackendUnavailable, ImageBackend
from .cache import MemoryCache, RedisCache
from .coalesce import SingleFlight
from .redis_store import RedisUnavailable

__all__ = ["BackendBusy", "BackendUnavailable", "Images"]


class BackendBusy(BackendUnavailable):
    """Too many imagebackend calls in flight already: answered at once, not queued."""


class CacheMetrics:
    def __init__(self, metrics: HttpMetrics) -> None:
        r = metrics.registry
        self.lookups = Counter(
            "monsterstack_cache_lookups",
            "Picture cache lookups by result (hit_memory, hit_shared, miss)",
            ["result"],
            registry=r,
        )
        self.errors = Counter(
            "monsterstack_cache_errors",
            "Cache operations that failed (the picture was served uncached)",
            ["operation"],
            registry=r,
        )
        self.backend = Histogram(
            "monsterstack_backend_request_duration_seconds",
            "Imagebackend calls, by outcome",
            ["outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.coalesced = Counter(
            "monsterstack_backend_coalesced",
            "Cache misses answered by another request's backend call",
            registry=r,
        )
        self.rejected = Counter(
            "monsterstack_backend_rejected",
            "Cache misses refused with 503 because BACKEND_CONCURRENCY calls were in flight",
            registry=r,
        )
        # Touch the label sets so dashboards see zeros, not gaps, before the first event.
        for result in ("hit_memory", "hit_shared", "miss"):
            self.lookups.labels(result)
        for op in ("get", "set"):
            self.errors.labels(op)


class Images:
    def __init__(
        self,
        hot: MemoryCache,
        shared: RedisCache | None,
        backend: ImageBackend,
        metrics: CacheMetrics,
        max_flights: int = 64,
    ) -> None:
        self.hot, self.shared, self.backend, self.metrics = hot, shared, backend, metrics
        self.max_flights = max_flights
        self.flights: SingleFlight[tuple[bytes, str | None]] = SingleFlight()
        lookups = metrics.lookups
        self._hit_memory = lookups.labels("hit_memory")
        self._hit_shared = lookups.labels("hit_shared")
        self._miss = lookups.labels("miss")

    def hot_hit(self, req: MonsterRequest) -> bytes | None:
        """The in-process hit, synchronously: the hot path's only work on a hit."""
        value = self.hot.get(req.key)
        if value is not None:
            self._hit_memory.inc()
        return value

    async def fetch(self, req: MonsterRequest) -> tuple[bytes, str]:
        """(bytes, etag) of a picture the hot tier does not hold: from Redis, else from the
        backend (one call for concurrent misses); BackendUnavailable when it cannot be had."""
        key = req.key
        value = None
        if self.shared is not None:
            try:
                value = await self.shared.get(key)
            except RedisUnavailable:
                self.metrics.errors.labels("get").inc()
        if value is not None:
            self._hit_shared.inc()
            self.hot.put(key, value)
            return value, req.etag
        self._miss.inc()
        if key not in self.flights and len(self.flights) >= self.max_flights:
            self.metrics.rejected.inc()
            raise BackendBusy(f"{len(self.flights)} imagebackend calls in flight")
        (body, tag), shared = await self.flights.do(key, lambda: self._fetch_and_store(req))
        if shared:
            self.metrics.coalesced.inc()
        return body, tag or req.etag

    async def _fetch_and_store(self, req: MonsterRequest) -> tuple[bytes, str | None]:
        start = time.perf_counter()
        try:
            body, tag = await self.backend.fetch(req)
        except BackendUnavailable:
            self.metrics.backend.labels("error").observe(time.perf_counter() - start)
            raise
        self.metrics.backend.labels("ok").observe(time.perf_counter() - start)
        if tag != req.etag:
            return body, tag  # not the picture this key names: serve it, never cache it
        self.hot.put(req.key, body)
        if self.shared is not None:
            try:
                await self.shared.set(req.key, body)
            except RedisUnavailable:
                self.metrics.errors.labels("set").inc()
        return body, tag
