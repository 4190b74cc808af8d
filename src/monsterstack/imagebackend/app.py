"""The imagebackend: a dnmonster-compatible monster avatar service.

`GET /monster/{name}?size=80` answers a PNG, as dnmonster does, so the course's clients work
unchanged; `format`, `style`, `width`/`height` and the `.svg`/`.webp` suffixes add to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..core.asgi import (
    FastPath,
    ObservabilityMiddleware,
    error_body,
    send_json,
    send_response,
)
from ..core.health import Health
from ..core.metrics import HttpMetrics
from ..core.monster_request import FIX, PREFIX, ROUTE, BadParameter, if_none_match, parse
from ..generator import ALGORITHM_VERSION, DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, Format, Style, render
from .settings import ImagebackendSettings

SizeParam = Annotated[int, Query(ge=MIN_SIZE, le=MAX_SIZE)]


def _json_error(status: int, error: str, message: str, **fields: Any) -> Response:
    return Response(error_body(error, message, **fields), status, media_type="application/json")


class MonsterEndpoint:
    """GET/HEAD /monster/{name}: parse, answer 304 when the client's copy is current, render."""

    def __init__(self, settings: ImagebackendSettings, render_seconds: Histogram) -> None:
        self.default_style = settings.default_style
        self.inline_max = settings.inline_render_max_pixels
        self.render_seconds = render_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"
        try:
            req = parse(
                scope.get("raw_path") or scope["path"].encode(),
                scope["query_string"],
                self.default_style,
            )
        except BadParameter as bad:
            await send_json(send, bad.status, bad.body(), head)
            return
        headers = req.headers()
        client_tag = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if if_none_match(client_tag, req.etag):
            await send_response(send, 304, headers)
            return

        def draw() -> bytes:
            return render(
                req.name, fmt=req.fmt, style=req.style, width=req.width, height=req.height
            )

        with self.render_seconds.labels(req.fmt.value, req.style.value).time():
            if req.width * req.height <= self.inline_max:
                body = draw()
            else:  # a big render in a thread, so small requests keep flowing meanwhile
                body = await anyio.to_thread.run_sync(draw)
        await send_response(
            send, 200, headers, body, head=head, content_type=req.fmt.media_type.encode()
        )


class _Delegate(Response):
    """A framework response that lets an ASGI endpoint answer (the documented route)."""

    def __init__(self, endpoint: MonsterEndpoint) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint(scope, receive, send)


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

    app = FastAPI(
        title="monsterstack imagebackend",
        version=version,
        description="Deterministic monster avatars. dnmonster-compatible: "
        "`GET /monster/{name}?size=80` answers a PNG.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> Response:
        err = exc.errors()[0]
        field = str(err["loc"][-1])
        if field not in FIX:
            return _json_error(422, "invalid_request", str(err.get("msg")), field=field)
        return JSONResponse(BadParameter(field, err.get("input")).body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            msg = "no such route: see / for the routes this service answers"
            return _json_error(404, "not_found", msg, path=request.url.path[:200])
        if exc.status_code == 405:
            msg = "method not allowed here: use GET (or HEAD)"
            return _json_error(405, "method_not_allowed", msg)
        return _json_error(exc.status_code, "http_error", str(exc.detail))

    endpoint = MonsterEndpoint(settings, render_seconds)

    @app.api_route(
        "/monster/{name:path}",
        methods=["GET", "HEAD"],
        response_class=Response,
        responses={
            200: {
                "content": {f.media_type: {} for f in Format},
                "description": "The avatar. ETag + one-year immutable Cache-Control.",
            },
            304: {"description": "The client's copy (If-None-Match) is current"},
            400: {"description": "The name or query is not valid UTF-8"},
            422: {"description": "A parameter is out of range; the body names it and the fix"},
        },
        summary="The monster for a name",
    )
    async def monster(
        request: Request,
        name: str,
        size: SizeParam = DEFAULT_SIZE,
        width: SizeParam | None = None,
        height: SizeParam | None = None,
        format: Format | None = None,
        style: Style | None = None,
    ) -> Response:
        """Any string is a name. `.png`, `.svg` or `.webp` at its end picks the format.

        `size` makes a square; dnmonster's `width` and `height` override a side, and the
        monster is centred on a transparent background. (Served by MonsterEndpoint, which
        applies exactly these rules to the raw request.)
        """
        return _Delegate(endpoint)

    @app.get("/livez", summary="Liveness: the process answers")
    async def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", summary="Readiness: started and not draining")
    @app.get("/healthz", include_in_schema=False)
    async def readyz() -> Response:
        ready, details = await health.readiness()
        return JSONResponse(details, status_code=200 if ready else 503)

    @app.get("/version", summary="Version, drawing algorithm")
    async def version_info() -> dict[str, object]:
        return {"service": "imagebackend", "version": version, "algorithm": ALGORITHM_VERSION}

    @app.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

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

    app.state.health = health
    app.state.settings = settings
    fast = FastPath(app, PREFIX, ROUTE, endpoint)
    return ObservabilityMiddleware(fast, metrics=metrics, version=version)


def app_from_env() -> ASGIApp:
    """The factory the server calls in each worker process."""
    from ..core.settings import load

    return create_app(load(ImagebackendSettings))
