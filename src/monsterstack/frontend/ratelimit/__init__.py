"""Per-client rate limiting: a token bucket per client address.

`MemoryLimiter` keeps the buckets in this process (no Redis configured); `SharedLimiter`
makes one budget per client across every replica through Redis, deciding each request
locally and reconciling in the background (its module states the promise in numbers).
"""

from .clients import Network, client_address, parse_networks
from .middleware import EXEMPT_PATHS, RateLimitMiddleware
from .policy import MAX_TRACKED_CLIENTS, Decision, Limiter, MemoryLimiter, Policy, refill
from .shared import SharedLimiter

__all__ = [
    "EXEMPT_PATHS",
    "MAX_TRACKED_CLIENTS",
    "Decision",
    "Limiter",
    "MemoryLimiter",
    "Network",
    "Policy",
    "RateLimitMiddleware",
    "SharedLimiter",
    "client_address",
    "parse_networks",
    "refill",
]
