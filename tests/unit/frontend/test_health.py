"""The frontend's readiness, in process: it is ready when it can serve. The imagebackend and
Redis are reported (JSON, the monsterstack_dependency_up gauge), never a reason to be unready;
with the imagebackend down the page and cached pictures are 200, a new picture a clear 503."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from monsterstack.core import health
from monsterstack.frontend.app import create_app
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.imagebackend.app import create_app as create_imagebackend
from monsterstack.imagebackend.settings import ImagebackendSettings

JSON = {"Accept": "application/json"}


class Switchable(httpx.AsyncBaseTransport):
    """The real imagebackend in process, or, while `down`, a refused connection."""

    def __init__(self) -> None:
        self.backend = httpx.ASGITransport(create_imagebackend(ImagebackendSettings()))
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.backend.handle_async_request(request)


class Clock:
    """core.health's clock, moved on by the test: the one-second check period passes at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float = 1.1) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(health, "time", fake)
    return fake


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """`app` started (its lifespan, as the server runs it) and a client to it."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://frontend"
        ) as client:
            yield client
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


def gauge(metrics: str, dependency: str) -> float:
    prefix = f'monsterstack_dependency_up{{dependency="{dependency}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, metrics
    return float(lines[0].removeprefix(prefix))


async def test_imagebackend_down_reported_degraded_and_still_ready(clock: Clock) -> None:
    backend = Switchable()
    where = FrontendSettings().imagebackend_url
    app = create_app(FrontendSettings(rate_limit=0), backend_transport=backend)
    async with running(app) as client:
        up = await client.get("/readyz", headers=JSON)
        assert up.status_code == 200, up.text
        assert up.json()["dependencies"]["imagebackend"] == {
            "status": "up",
            "required": False,
            "detail": f"{where} answered 200",
        }
        assert gauge((await client.get("/metrics")).text, "imagebackend") == 1
        assert (await client.get("/monster/cached")).status_code == 200

        backend.down = True
        clock.advance()  # the next probe checks again
        down = await client.get("/healthz", headers=JSON)  # the course's probe: the same
        assert down.status_code == 200, down.text
        body = down.json()
        assert (body["status"], body["ready"], body["degraded"]) == (
            "ready",
            True,
            ["imagebackend"],
        )
        state = body["dependencies"]["imagebackend"]
        assert state["status"] == "degraded" and state["required"] is False
        assert state["detail"] == f"ConnectError at {where}"
        assert body["dependencies"]["cache"]["status"] == "up"
        text = (await client.get("/metrics")).text
        assert gauge(text, "imagebackend") == 0 and gauge(text, "cache") == 1

        assert (await client.get("/")).status_code == 200
        cached = await client.get("/monster/cached")
        assert cached.status_code == 200 and cached.content.startswith(b"\x89PNG")
        new = await client.get("/monster/never-drawn")
        assert new.status_code == 503
        assert new.headers["retry-after"] == "2" and new.headers["cache-control"] == "no-store"
        assert new.json()["error"] == "imagebackend_unavailable"
        assert "image backend is not answering" in new.json()["message"]

        backend.down = False
        clock.advance()
        back = (await client.get("/readyz", headers=JSON)).json()
        assert back["degraded"] == [] and back["dependencies"]["imagebackend"]["status"] == "up"
        assert (await client.get("/monster/never-drawn")).status_code == 200


async def test_a_scrape_reports_the_dependencies_without_any_probe() -> None:
    backend = Switchable()
    backend.down = True
    app = create_app(FrontendSettings(rate_limit=0), backend_transport=backend)
    async with running(app) as client:
        text = (await client.get("/metrics")).text
    assert "# TYPE monsterstack_dependency_up gauge" in text
    assert gauge(text, "imagebackend") == 0 and gauge(text, "cache") == 1
