"""The course's visits counter: one INCR in Redis per page view, shared by the replicas."""

from __future__ import annotations

from .redis_store import RedisStore, RedisUnavailable

VISITS_KEY = "monsterstack:visits"


class Visits:
    def __init__(self, store: RedisStore | None) -> None:
        self.store = store

    async def count(self) -> str:
        """The new count, or why there is none (the page shows it as it is)."""
        if self.store is None:
            return "not counted: no Redis configured"
        try:
            return str(await self.store.incr(VISITS_KEY))
        except RedisUnavailable:
            return "not counted: Redis is unavailable"
