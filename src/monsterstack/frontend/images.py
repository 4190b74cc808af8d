"""Pictures through the cache: in-process tier, then Redis, then one coalesced backend call.

Integrity first: a picture is cached only when the backend's ETag is the one this request
expects (same algorithm version, same parameters, same name digest), so a backend of another
version during a rollout, or a mixed-up response, can never be stored under the wrong key.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from ..core.metrics import LATENCY_BUCKETS, HttpMetrics
from ..core.monster_request import MonsterRequest
from ..generator import ALGORITHM_VERSION, DEFAULT_THEME
from .backend import BackendUnavailable, ImageBackend
from .cache import Cache, CacheError
from .coalesce import SingleFlight

__all__ = ["BackendBusy", "BackendUnavailable", "Images", "cache_key"]


class BackendBusy(BackendUnavailable):
    """Too many imagebackend calls in flight already: answered at once, not queued."""


def cache_key(req: MonsterRequest) -> str:
    """Algorithm version + normalised parameters + SHA-256 of the name: never the name.

    A theme other than the default is a parameter too (the default adds nothing, so a
    release without themes and one with them share the `classic` pictures in Redis)."""
    theme = "" if req.theme == DEFAULT_THEME else f"{req.theme.value}:"
    return (
        f"monster:v{ALGORITHM_VERSION}:{req.style.value}:{req.fmt.value}:"
        f"{req.width}x{req.height}:{theme}{req.digest}"
    )


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
        cache: Cache,
        backend: ImageBackend,
        metrics: CacheMetrics,
        max_flights: int = 64,
    ) -> None:
        self.cache, self.backend, self.metrics = cache, backend, metrics
        self.max_flights = max_flights
        self.flights: SingleFlight[tuple[bytes, str | None]] = SingleFlight()

    def get_local(self, key: str) -> bytes | None:
        """The in-process hit, synchronously: the hot path's only work on a hit."""
        value = self.cache.get_local(key)
        if value is not None:
            self.metrics.lookups.labels("hit_memory").inc()
        return value

    async def get(self, req: MonsterRequest, key: str) -> tuple[bytes, str]:
        """(bytes, etag) of the picture; BackendUnavailable when it cannot be had."""
        value = self.get_local(key)
        if value is not None:
            return value, req.etag
        try:
            value = await self.cache.get(key)
        except CacheError:
            self.metrics.errors.labels("get").inc()
        if value is not None:
            self.metrics.lookups.labels("hit_shared").inc()
            return value, req.etag
        self.metrics.lookups.labels("miss").inc()
        if key not in self.flights and len(self.flights) >= self.max_flights:
            self.metrics.rejected.inc()
            raise BackendBusy(f"{len(self.flights)} imagebackend calls in flight")
        (body, tag), shared = await self.flights.do(key, lambda: self._fetch_and_store(req, key))
        if shared:
            self.metrics.coalesced.inc()
        return body, tag or req.etag

    async def _fetch_and_store(self, req: MonsterRequest, key: str) -> tuple[bytes, str | None]:
        start = time.perf_counter()
        try:
            body, tag = await self.backend.fetch(req)
        except BackendUnavailable:
            self.metrics.backend.labels("error").observe(time.perf_counter() - start)
            raise
        self.metrics.backend.labels("ok").observe(time.perf_counter() - start)
        if tag != req.etag:
            return body, tag  # not the picture this key names: serve it, never cache it
        try:
            await self.cache.set(key, body)
        except CacheError:
            self.metrics.errors.labels("set").inc()
        return body, tag
