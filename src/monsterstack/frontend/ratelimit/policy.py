"""The token bucket: its policy, its decisions and their headers, and in-process buckets.

Each client has a bucket of `burst` tokens that refills at `rate` tokens per second; a request
takes one, and a request that finds the bucket empty gets `429` with `Retry-After` (whole
seconds until a token is back) and the `RateLimit-*` headers of the IETF httpapi draft
(`Limit`, `Remaining`, `Reset`, `Policy`), which every limited response carries too.
"""

from __future__ import annotations

import functools
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

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


def spend(tokens: float) -> Decision:
    """One token taken from a bucket holding `tokens`, if it has one: what is left."""
    if tokens >= 1.0:
        return Decision(True, tokens - 1.0)
    return Decision(False, tokens)


class Limiter(Protocol):
    kind: str
    policy: Policy

    def take_now(self, client: str) -> Decision | None:
        """The decision, when it can be made without I/O (the hot path); else None, and the
        caller awaits `take`."""

    async def take(self, client: str) -> Decision: ...

    async def close(self) -> None: ...


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
        decision = spend(refill(tokens, now - then, self.policy))
        self._buckets[client] = (decision.tokens, now)
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)  # a dropped client comes back with a full bucket
        return decision

    async def take(self, client: str) -> Decision:
        return self.take_now(client)

    async def close(self) -> None:
        self._buckets.clear()
