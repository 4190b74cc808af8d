"""Per-client rate limiting: a token bucket per client address, shared through Redis.

Each client has a bucket of `burst` tokens that refills at `rate` tokens per second; a request
takes one, and a request that finds the bucket empty gets `429` with `Retry-After` (whole
seconds until a token is back) and the `RateLimit-*` headers of the IETF httpapi draft
(`Limit`, `Remaining`, `Reset`, `Policy`), which every limited response carries too.

With Redis, the bucket lives there and one Lua script reads, refills and takes atomically
with Redis's own clock, so the limit holds across every frontend replica. When Redis does not
answer, each replica falls back to its own in-process buckets: the limit gets looser (one per
replica) but never fails open entirely, and never fails a request.

The client is the TCP peer, or, when the peer is a trusted proxy (TRUSTED_PROXIES, e.g. the
ingress controller), the first untrusted address of X-Forwarded-For read from the right, so a
client cannot pick its own identity by sending the header itself.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from ..core.asgi import add_response_headers, error_body, send_refusal
from .cache import CacheError, RedisCache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Probes and scrapes come from the kubelet and Prometheus, many times a minute: never limited.
EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})
MAX_TRACKED_CLIENTS = 65536  # in-process buckets kept (least recently seen evicted first)


@dataclass(frozen=True, slots=True)
class Policy:
    rate: float  # tokens per second
    burst: int  # bucket size: requests allowed at once

    @property
    def window(self) -> int:
        """Seconds for an empty bucket to fill up again."""
        return max(1, math.ceil(self.burst / self.rate))

    @property
    def limit_header(self) -> bytes:
        return _digits(self.burst)

    @property
    def policy_header(self) -> bytes:
        return _policy_header(self.burst, self.window)


@functools.cache
def _policy_header(burst: int, window: int) -> bytes:
    return f"{burst};w={window}".encode()


_SMALL = [str(i).encode() for i in range(4096)]  # header values, made once: every answer has two


def _digits(n: int) -> bytes:
    return _SMALL[n] if n < 4096 else str(n).encode()


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    tokens: float  # left after this request

    def headers(self, policy: Policy) -> list[tuple[bytes, bytes]]:
        remaining = max(0, math.floor(self.tokens))
        reset = max(0, math.ceil((policy.burst - self.tokens) / policy.rate))
        out = [
            (b"ratelimit-limit", policy.limit_header),
            (b"ratelimit-remaining", _digits(remaining)),
            (b"ratelimit-reset", _digits(reset)),
            (b"ratelimit-policy", policy.policy_header),
        ]
        if not self.allowed:
            out.append((b"retry-after", _digits(self.retry_after(policy))))
        return out

    def retry_after(self, policy: Policy) -> int:
        """Whole seconds until one token is back (at least 1: Retry-After has no fractions)."""
        return max(1, math.ceil((1 - self.tokens) / policy.rate))


def refill(tokens: float, elapsed: float, policy: Policy) -> float:
    return min(float(policy.burst), tokens + max(0.0, elapsed) * policy.rate)


class Limiter(Protocol):
    kind: str
    policy: Policy

    async def take(self, client: str) -> Decision: ...


class MemoryLimiter:
    """Buckets in this process, bounded in number (the least recently seen are dropped)."""

    kind = "memory"

    def __init__(self, policy: Policy, max_clients: int = MAX_TRACKED_CLIENTS) -> None:
        self.policy = policy
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take_now(self, client: str, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        tokens, then = self._buckets.pop(client, (float(self.policy.burst), now))
        tokens = refill(tokens, now - then, self.policy)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)  # a dropped client comes back with a full bucket
        return Decision(allowed, tokens)

    async def take(self, client: str) -> Decision:
        return self.take_now(client)


# KEYS[1] the client's bucket; ARGV rate (tokens/s), burst. Redis's clock, so every replica
# agrees on the time; state as strings, because Lua numbers come back from Redis truncated.
TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
local left = string.format('%.6f', tokens)
redis.call('HSET', KEYS[1], 'tokens', left, 'at', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, left}
"""


class RedisLimiter:
    """Buckets in Redis, shared by every replica; this process's own when Redis is down."""

    kind = "redis"

    def __init__(self, redis: RedisCache, policy: Policy, fallbacks: Counter | None = None):
        self.redis = redis
        self.policy = policy
        self.local = MemoryLimiter(policy)
        self.fallbacks = fallbacks
        self.args = (repr(policy.rate), str(policy.burst))

    async def take(self, client: str) -> Decision:
        # The address is hashed: Redis holds no client addresses.
        key = "ratelimit:" + hashlib.sha256(client.encode()).hexdigest()[:32]
        try:
            allowed, tokens = await self.redis.script(TOKEN_BUCKET, [key], self.args)
        except CacheError:
            if self.fallbacks is not None:
                self.fallbacks.inc()
            return self.local.take_now(client)
        return Decision(bool(int(allowed)), float(tokens))


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The peer, or the nearest untrusted hop of X-Forwarded-For when the peer is trusted."""
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if not trusted or not _is_trusted(address, trusted):
        return address
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k.lower() == b"x-forwarded-for")
    for hop in reversed(forwarded.decode("latin-1").split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed chain: trust nothing beyond the last good hop
        address = hop
        if not _is_trusted(hop, trusted):
            return hop
    return address


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


class RateLimitMiddleware:
    """429 for clients over their budget; the RateLimit-* headers on every limited response."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        trusted: tuple[Network, ...] = (),
    ) -> None:
        self.app, self.limiter, self.policy, self.trusted = app, limiter, limiter.policy, trusted
        self.local = limiter if isinstance(limiter, MemoryLimiter) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted)
        # In-process buckets answer synchronously: no coroutine on the hot path.
        local = self.local
        decision = local.take_now(client) if local else await self.limiter.take(client)
        headers = decision.headers(self.policy)
        if not decision.allowed:
            head = scope["method"] == "HEAD"
            await send_refusal(send, 429, self._body(decision), headers, head=head)
            return
        # Added by the outer ObservabilityMiddleware, which rewrites the headers anyway: one
        # wrapper of `send` fewer per request (measured: the limiter cost 16% of a hit's rate).
        add_response_headers(scope, headers)
        await self.app(scope, receive, send)

    def _body(self, decision: Decision) -> bytes:
        p = self.policy
        return error_body(
            "rate_limited",
            f"too many requests from your address: {p.rate:g} per second with bursts of "
            f"{p.burst} are allowed; retry in {decision.retry_after(p)} s",
            limit={"rate_per_second": p.rate, "burst": p.burst},
        )
