"""The imagebackend: a dnmonster-compatible monster avatar service.

`GET /monster/{name}?size=80` answers a PNG, as dnmonster does, so the course's clients work
unchanged; `format`, `style`, `width`/`height` and the `.svg`/`.webp` suffixes add to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
from fastapi import FastAPI
from prometheus_client import Histogram
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..core.asgi import (
    FastPath,
    ObservabilityMiddleware,
    assemble,
    error_body,
    send_refusal,
    send_response,
)
from ..core.docs import add_docs
from ..core.health import Health
from ..core.metrics import HttpMetrics
from ..core.monster_request import FIX, PREFIX, ROUTE, answer_early
from ..core.service import add_error_handlers, add_monster_route, add_operational_routes
from ..generator import ALGORITHM_VERSION, DEFAULT_SIZE, render
from .settings import ImagebackendSettings


class MonsterEndpoint:
    """GET/HEAD /monster/{name}: parse, answer 304 when the client's copy is current, render."""

    def __init__(self, settings: ImagebackendSettings, render_seconds: Histogram) -> None:
        self.default_style = settings.default_style
        self.theme = settings.theme
        self.inline_max = settings.inline_render_max_pixels
        self.render_threads = settings.render_threads
        self.render_queue = settings.render_queue
        self.large_renders = 0  # drawing or waiting for the render thread
        self.render_seconds = render_seconds
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the worker's event loop (anyio objects belong to one loop).
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.render_threads)
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = await answer_early(scope, send, self.default_style, self.theme)
        if req is None:
            return

        timer = self.render_seconds.labels(req.fmt.value, req.style.value)

        def draw() -> bytes:
            with timer.time():  # the drawing and encoding only, not the wait for a thread
                return render(
                    req.name,
                    fmt=req.fmt,
                    style=req.style,
                    width=req.width,
                    height=req.height,
                    theme=req.theme,
                )

        head = scope["method"] == "HEAD"
        if req.width * req.height <= self.inline_max:
            body = draw()
        elif self.large_renders >= self.render_threads + self.render_queue:
            await send_refusal(
                send,
                503,
                error_body(
                    "busy",
                    f"{self.render_queue} large pictures are already waiting to be drawn; "
                    "retry in a second (pictures up to "
                    f"{self.inline_max} pixels are drawn at once)",
                ),
                [(b"retry-after", b"1")],
                head=head,
            )
            return
        else:  # a big render in the render thread, so small requests keep flowing meanwhile
            # Counted here, not read from the limiter: the limiter is only taken after a
            # checkpoint, so requests arriving together would all see it free.
            self.large_renders += 1
            try:
                body = await anyio.to_thread.run_sync(draw, limiter=self.limiter)
            finally:
                self.large_renders -= 1
        headers, content_type = req.headers(), req.content_type
        await send_response(send, 200, headers, body, head=head, content_type=content_type)


def create_app(settings: ImagebackendSettings | None = None) -> ASGIApp:
    settings = settings or ImagebackendSettings()
    version = settings.version_label or __version__
    health = Health()
    metrics = HttpMetrics("imagebackend", version, ALGORITHM_VERSION)
    render_seconds = Histogram(
        "monsterstack_render_duration_seconds",
        "Time to draw and encode one avatar",
        ["format", "style"],
        buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
        registry=metrics.registry,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        render("warm-up", DEFAULT_SIZE)  # first render loads the codecs; not on a user's request
        health.started = True
        yield
        health.start_draining()

    endpoint = MonsterEndpoint(settings, render_seconds)
    app = FastAPI(
        title="monsterstack imagebackend",
        version=version,
        description="Deterministic monster avatars. dnmonster-compatible: "
        "`GET /monster/{name}?size=80` answers a PNG.",
        lifespan=lifespan,
        docs_url=None,  # add_docs serves them, assets included
        redoc_url=None,
        openapi_url=None,
    )

    add_docs(app)
    add_error_handlers(app)
    add_monster_route(app, endpoint, "The monster for a name")
    add_operational_routes(
        app,
        health,
        metrics,
        "imagebackend",
        version,
        commit=settings.git_commit,
        theme=settings.theme,
    )

    @app.get("/", summary="What this service answers")
    async def index() -> dict[str, object]:
        return {
            "service": "monsterstack imagebackend",
            "version": version,
            "algorithm": ALGORITHM_VERSION,
            "try": "/monster/your-name?size=80",
            "docs": "/docs",
            "parameters": FIX,
        }

    return assemble(
        app,
        [
            # Outermost: every response counted and labelled with the version.
            Middleware(ObservabilityMiddleware, metrics=metrics, version=version, health=health),
            # /monster off the framework's routing (documented by add_monster_route).
            Middleware(FastPath, prefix=PREFIX, route=ROUTE, endpoint=endpoint),
        ],
    )


def app_from_env() -> ASGIApp:
    """The factory the server calls in each worker process."""
    from ..core.server import frozen
    from ..core.settings import load

    return frozen(create_app(load(ImagebackendSettings)))
