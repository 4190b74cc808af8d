"""The middleware: 429 for clients over their budget, the RateLimit-* headers on the rest."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...core.asgi import error_body, send_refusal
from .clients import Network, client_address
from .policy import Decision, Limiter

# Probes and scrapes come from the kubelet and Prometheus, many times a minute: never limited.
EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})


class RateLimitMiddleware:
    """429 for clients over their budget; the RateLimit-* headers on every limited response."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        trusted: tuple[Network, ...] = (),
    ) -> None:
        self.app, self.limiter, self.policy, self.trusted = app, limiter, limiter.policy, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted)
        # Decided without I/O when the limiter can (always in-process; a shared limiter when
        # its copy of this client's bucket is fresh); else one await.
        decision = self.limiter.take_now(client)
        if decision is None:
            decision = await self.limiter.take(client)
        headers = decision.headers(self.policy)
        if not decision.allowed:
            head = scope["method"] == "HEAD"
            await send_refusal(send, 429, self._body(decision), headers, head=head)
            return

        # One wrapper of `send` per request: with the decision made without I/O, the production
        # path measured 40 % of nginx with it (benchmarks/README.md).
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _body(self, decision: Decision) -> bytes:
        p = self.policy
        return error_body(
            "rate_limited",
            f"too many requests from your address: {p.rate:g} per second with bursts of "
            f"{p.burst} are allowed; retry in {decision.retry_after(p)} s",
            limit={"rate_per_second": p.rate, "burst": p.burst},
        )
