"""Pure ASGI pieces shared by the services: the observability middleware and JSON errors."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .health import Health
from .metrics import HttpMetrics

VERSION_HEADER = b"x-monsterstack-version"
UNMATCHED = "<unmatched>"  # the route label of requests no route matched (bounded cardinality)


class ObservabilityMiddleware:
    """Adds the version header to every response and counts every request.

    Requests are labelled by the route template that served them (`/monster/{name}`), which
    the router leaves in scope["route"], never by the raw path.
    """

    def __init__(
        self, app: ASGIApp, metrics: HttpMetrics, version: str, health: Health | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.version = (VERSION_HEADER, version.encode())
        self.health = health
        self.in_flight = metrics.in_flight.labels(metrics.service)
        # (method, route, status) -> its request counter and latency histogram, looked up
        # once: as many as the metric's own series.
        self.series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_version(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), self.version]
                if self.health is not None and self.health.draining_recently():
                    # Draining: this connection's last answer, so that no client sends another
                    # request on it just as the server closes it (seen: 1 in ~2,000 lost).
                    message["headers"].append((b"connection", b"close"))
            await send(message)

        self.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_version)
        finally:
            self.in_flight.dec()
            key = (scope["method"], template(scope), status)
            series = self.series.get(key)
            if series is None:
                m = self.metrics
                method, route, code = key
                series = self.series[key] = (
                    m.requests.labels(m.service, m.version, method, route, str(code)),
                    m.latency.labels(m.service, m.version, method, route),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - start)


def assemble(app: ASGIApp, middleware: Sequence[Middleware]) -> ASGIApp:
    """`app` inside `middleware`, the first one outermost (as Starlette's `middleware=[...]`);
    outside the framework, so that a FastPath among them skips it."""
    for cls, args, kwargs in reversed(middleware):
        app = cls(app, *args, **kwargs)
    return app


_CONVERTER = re.compile(r":[a-z]+}")


def template(scope: Scope) -> str:
    """The route template that matched, without converters: `/monster/{name}`."""
    path = getattr(scope.get("route"), "path", None)
    return _CONVERTER.sub("}", path) if path else UNMATCHED


def error_body(error: str, message: str, **fields: Any) -> bytes:
    """The JSON body of every 4xx/5xx: a machine-readable code and a message saying the fix."""
    return json.dumps({"error": error, "message": message, **fields}, ensure_ascii=False).encode()


async def send_response(
    send: Send,
    status: int,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes = b"",
    *,
    head: bool = False,
    content_type: bytes | None = None,
) -> None:
    """One complete response. For HEAD, the headers of the full response and no body."""
    out = list(headers)
    if content_type:
        out.append((b"content-type", content_type))
    if status != 304:
        out.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": b"" if head or status == 304 else body})


async def send_refusal(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    head: bool = False,
) -> None:
    """A 429/503 that asks the client to come back (`headers` carry its Retry-After): a JSON
    body from `error_body`, never cached."""
    await send_response(
        send,
        status,
        [*headers, (b"cache-control", b"no-store")],
        body,
        head=head,
        content_type=b"application/json",
    )


async def send_json(send: Send, status: int, payload: dict[str, Any], head: bool = False) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    await send_response(send, status, [], body, head=head, content_type=b"application/json")


@dataclass(frozen=True)
class RouteMarker:
    """Stands in scope["route"] for requests served outside the framework's router."""

    path: str


class Labelled:
    """An app mounted under a prefix (static files), its requests labelled `route` in the
    metrics: FastAPI's router leaves scope["route"] unset for a mount."""

    def __init__(self, app: ASGIApp, route: str) -> None:
        self.app, self.marker = app, RouteMarker(route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.marker
        await self.app(scope, receive, send)


class FastPath:
    """Serves GET/HEAD under one path prefix with a plain ASGI endpoint, the rest with `app`.

    The hot route then skips the framework's routing, dependency injection and validation
    layers (measured in benchmarks/README.md); everything else keeps them.
    """

    def __init__(self, app: ASGIApp, prefix: bytes, route: str, endpoint: ASGIApp) -> None:
        self.app, self.prefix, self.endpoint = app, prefix, endpoint
        self.marker = RouteMarker(route)
        self.text_prefix = prefix.decode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith(self.text_prefix)
        ):
            scope["route"] = self.marker
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)
