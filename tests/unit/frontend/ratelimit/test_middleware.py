"""The middleware over a limiter: synchronous decisions stay synchronous, refusals are 429s
that say when to come back, probes are never limited."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from monsterstack.core.asgi import send_response
from monsterstack.frontend.ratelimit import Decision, MemoryLimiter, Policy, RateLimitMiddleware


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send_response(send, 200, [], b"ok", content_type=b"text/plain")


class SyncOnly(MemoryLimiter):
    """In-process buckets that fail the test if the middleware ever awaits them."""

    async def take(self, client: str) -> Decision:
        raise AssertionError("an in-process decision was awaited")


async def test_in_process_buckets_decide_without_an_await_even_before_any_client() -> None:
    limiter = SyncOnly(Policy(rate=1, burst=2))
    assert len(limiter) == 0  # falsy: `if limiter` would have taken the slow path here
    app = RateLimitMiddleware(ok, limiter)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        codes = [(await c.get("/monster/x")).status_code for _ in range(3)]
        first = await c.get("/livez")
    assert codes == [200, 200, 429]
    assert first.status_code == 200 and "ratelimit-limit" not in first.headers


async def test_allowed_answers_carry_the_headers_and_refusals_say_when() -> None:
    app = RateLimitMiddleware(ok, MemoryLimiter(Policy(rate=0.5, burst=1)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        allowed, refused = await c.get("/"), await c.get("/")
    assert allowed.headers["ratelimit-remaining"] == "0" and allowed.text == "ok"
    assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
    assert refused.json()["error"] == "rate_limited"
