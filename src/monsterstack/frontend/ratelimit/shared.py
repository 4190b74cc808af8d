"""One budget per client across every replica, without a Redis round trip per request.

Each replica decides a request from its own copy of the client's bucket, synchronously, and
reconciles with Redis in the background: every `interval` (50 ms) one script call reports the
tokens each client seen here within `fresh` (150 ms) took since the last report, and reads
back the shared bucket, which Redis refills with its own clock. A replica's copy never
refills by itself; only Redis's answer gives tokens back, so what every replica spends comes
out of one bucket. A copy synced within `fresh` decides; an older one is synced first.

- So a client that keeps asking costs no round trip, and its copies are about two intervals
  behind the others' takes (one to be reported, one to be read back; each interval is 50 ms
  of sleep plus the script's round trip); the first request after the client left this
  replica alone for 2 x `fresh` (a copy is kept synced for `fresh` after its last use, then
  is fresh for `fresh` more) costs one. Concurrent requests of one client share that trip.
- Replicas spending the same tokens between two syncs overdraw the bucket: Redis keeps the
  debt (its tokens go below zero) and the client is refused until it is paid back, so over
  time the rate holds exactly. The overdraft is bounded: each replica spends at most what its
  copy held at its last sync, so N replicas admit at most (N - 1) x burst too many, within
  one interval, all paid back at `rate` afterwards (so `Retry-After` may then exceed the
  window `RateLimit-Policy` names). A report that fails is not resent (it may have been
  counted): takes made while Redis fails are not paid back.
- Redis down (the store's circuit open): each replica decides alone from its own buckets,
  refilled locally, as `MemoryLimiter` does. The limit is per replica then, never off, and no
  request fails for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter

from ..coalesce import SingleFlight
from ..redis_store import RedisStore, RedisUnavailable
from .policy import MAX_TRACKED_CLIENTS, Decision, Policy, refill, spend

log = logging.getLogger("monsterstack.ratelimit")

SYNC_INTERVAL = 0.05  # seconds between two reports to Redis
FRESH_FOR = 0.15  # a copy synced longer ago than this is synced again before it decides
BATCH = 512  # clients per script call

# KEYS: the clients' buckets; ARGV: rate, burst, then the tokens each client took since the
# last report. Redis's clock refills, so every replica agrees on the time; state as strings,
# because Lua numbers come back from Redis truncated. Tokens may go below zero: the debt of
# replicas that spent the same tokens, paid back before the client gets more.
SYNC = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local out = {}
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - tonumber(ARGV[i + 2])
  local left = string.format('%.6f', tokens)
  redis.call('HSET', key, 'tokens', left, 'at', string.format('%.6f', now))
  redis.call('EXPIRE', key, math.max(1, math.ceil((burst - tokens) / rate) + 1))
  out[i] = left
end
return out
"""


@dataclass(slots=True)
class Bucket:
    key: str  # in Redis: a digest of the address, so Redis holds no client addresses
    tokens: float
    at: float  # when `tokens` was last set (a sync, or a local refill while Redis is down)
    synced: float = -math.inf  # the last sync's time
    used: float = -math.inf  # the last decision's time
    pending: int = 0  # tokens taken here since the last report


def redis_key(client: str) -> str:
    return "ratelimit:" + hashlib.sha256(client.encode()).hexdigest()[:32]


class SharedLimiter:
    """Local decisions, reconciled through Redis every `interval` (see the module's promise)."""

    kind = "redis"

    def __init__(
        self,
        store: RedisStore,
        policy: Policy,
        fallbacks: Counter | None = None,
        *,
        interval: float = SYNC_INTERVAL,
        fresh: float = FRESH_FOR,
        max_clients: int = MAX_TRACKED_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.policy, self.fallbacks = store, policy, fallbacks
        self.interval, self.fresh, self.clock = interval, fresh, clock
        self.max_clients = max_clients
        self.args = (repr(policy.rate), str(policy.burst))
        # Least recently used first: the clients to sync are the end of it.
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._flights: SingleFlight[bool] = SingleFlight()

    def __len__(self) -> int:
        return len(self._buckets)

    def take_now(self, client: str) -> Decision | None:
        bucket = self._buckets.get(client)
        now = self.clock()
        if bucket is not None and now - bucket.synced <= self.fresh:
            return self._take(client, bucket, now)
        if self.store.available():
            return None  # not fresh: `take` syncs it first
        return self._take_alone(client, bucket, now)

    async def take(self, client: str) -> Decision:
        """The decision after syncing this client's bucket: one round trip, shared by the
        requests of this client that arrive meanwhile."""
        synced, _ = await self._flights.do(client, lambda: self._sync_one(client))
        if not synced:
            return self._take_alone(client, self._buckets.get(client), self.clock())
        bucket = self._buckets.get(client)
        if bucket is None:  # evicted meanwhile by a flood of other clients: decide alone
            return self._take_alone(client, None, self.clock())
        return self._take(client, bucket, self.clock())

    async def _sync_one(self, client: str) -> bool:
        bucket = self._buckets.get(client)
        sent = 0
        if bucket is not None:
            sent, bucket.pending = bucket.pending, 0
        key = bucket.key if bucket is not None else redis_key(client)
        asked = self.clock()
        try:
            [tokens] = await self.store.script(SYNC, [key], [*self.args, str(sent)])
        except RedisUnavailable:
            return False
        bucket = self._buckets.get(client) or self._track(client, Bucket(key, 0.0, 0.0))
        self._synced(bucket, float(tokens), asked)
        return True

    def _take(self, client: str, bucket: Bucket, now: float) -> Decision:
        if self._task is None and not self._closed:  # the first request starts the loop
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._buckets.move_to_end(client)
        bucket.used = now
        decision = spend(bucket.tokens)
        bucket.tokens = decision.tokens
        bucket.pending += decision.allowed
        return decision

    def _take_alone(self, client: str, bucket: Bucket | None, now: float) -> Decision:
        """Redis is not answering: this replica's own bucket, refilled here."""
        if self.fallbacks is not None:
            self.fallbacks.inc()
        if bucket is None:
            bucket = self._track(client, Bucket(redis_key(client), float(self.policy.burst), now))
        decision = spend(refill(bucket.tokens, now - bucket.at, self.policy))
        # What is taken alone is not reported: the Redis that comes back may be another one
        # (restarted, empty), and a report lost on its way might have been counted already.
        bucket.tokens, bucket.at, bucket.used, bucket.pending = decision.tokens, now, now, 0
        self._buckets.move_to_end(client)
        return decision

    def _track(self, client: str, bucket: Bucket) -> Bucket:
        self._buckets[client] = bucket
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)  # comes back through a sync
        return bucket

    def _synced(self, bucket: Bucket, tokens: float, asked: float) -> None:
        """Redis's answer to a sync sent at `asked`, unless a later one came first."""
        if asked < bucket.synced:
            return
        # Takes made here while the answer was on its way are not in it yet.
        bucket.tokens = tokens - bucket.pending
        bucket.at = bucket.synced = asked

    def _active(self) -> list[Bucket]:
        """The buckets of the clients seen here within `fresh`, most recent first."""
        since = self.clock() - self.fresh
        active = []
        for bucket in reversed(self._buckets.values()):
            if bucket.used < since:
                break
            active.append(bucket)
        return active

    async def sync(self) -> None:
        """Reports what each client seen here within `fresh` took since the last report, and
        reads its bucket back."""
        active = self._active()
        for start in range(0, len(active), BATCH):
            batch = active[start : start + BATCH]
            sent = []
            for bucket in batch:
                sent.append(str(bucket.pending))
                bucket.pending = 0
            asked = self.clock()
            try:
                left = await self.store.script(SYNC, [b.key for b in batch], [*self.args, *sent])
            except RedisUnavailable:
                # Not resent: a report lost on its way may have been counted already. The
                # copies go stale, and decide alone while the circuit is open.
                return
            for bucket, tokens in zip(batch, left, strict=True):
                self._synced(bucket, float(tokens), asked)

    async def _run(self) -> None:
        me = asyncio.current_task()
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sync()
            except Exception:  # a bug must not stop the loop: the copies would all go stale
                log.exception("rate limit sync failed")
            # redis-py may turn a cancellation that arrives mid-call into its own error,
            # which `sync` takes as Redis being down: a cancelled loop stops here all the same.
            if me is not None and me.cancelling():
                return

    async def close(self) -> None:
        """Stops syncing (for good), after a last report of what was taken here."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        with contextlib.suppress(RedisUnavailable):
            await self.sync()
