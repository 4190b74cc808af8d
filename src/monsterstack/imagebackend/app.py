"""The imagebackend: a dnmonster-compatible monster avatar service.

`GET /monster/{name}?size=80` answers a PNG, as dnmonster does, so the course's clients work
unchanged; `format`, `style`, `width`/`height` and the `.svg`/`.webp` suffixes add to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..core.asgi import ObservabilityMiddleware, error_body
from ..core.health import Health
from ..core.metrics import HttpMetrics
from ..generator import (
    ALGORITHM_VERSION,
    DEFAULT_SIZE,
    MAX_NAME_BYTES,
    MAX_SIZE,
    MIN_SIZE,
    Format,
    Style,
    etag,
    normalise_name,
    render,
)
from .settings import ImagebackendSettings

CACHE_CONTROL = "public, max-age=31536000, immutable"

# What each parameter accepts, said the way a user can act on it.
FIX = {
    "size": f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} (pixels), e.g. size=80",
    "width": f"width must be an integer from {MIN_SIZE} to {MAX_SIZE} (pixels)",
    "height": f"height must be an integer from {MIN_SIZE} to {MAX_SIZE} (pixels)",
    "format": "format must be one of: " + ", ".join(f.value for f in Format),
    "style": "style must be one of: " + ", ".join(s.value for s in Style),
    "name": f"name must be valid UTF-8 and at most {MAX_NAME_BYTES} bytes once encoded",
}

SizeParam = Annotated[int, Query(ge=MIN_SIZE, le=MAX_SIZE)]


class BadParameter(Exception):
    def __init__(self, field: str, got: object, status: int = 422) -> None:
        self.field, self.got, self.status = field, got, status


def _json_error(status: int, error: str, message: str, **fields: Any) -> Response:
    return Response(error_body(error, message, **fields), status, media_type="application/json")


def _bad_parameter(field: str, got: object, status: int = 422) -> Response:
    shown = got if isinstance(got, str | int | None) else repr(got)
    if isinstance(shown, str) and len(shown) > 64:
        shown = shown[:64] + "…"
    return _json_error(status, "invalid_parameter", FIX[field], field=field, got=shown)


def split_format(raw_name: str, fmt: Format | None) -> tuple[str, Format | None]:
    """`name.svg` -> ("name", svg). A suffix and a different `format=` disagree: refused."""
    stem, dot, suffix = raw_name.rpartition(".")
    if dot and suffix.lower() in Format.__members__.values():
        by_suffix = Format(suffix.lower())
        if fmt is not None and fmt is not by_suffix:
            raise BadParameter("format", f"{fmt.value} (suffix says {by_suffix.value})")
        return stem, by_suffix
    return raw_name, fmt


def decode_path_name(raw_path: bytes, prefix: bytes = b"/monster/") -> str:
    """The name as the client sent it, refusing bytes that are not UTF-8 (never guessing)."""
    raw = unquote_to_bytes(raw_path.split(b"?", 1)[0][len(prefix) :])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParameter("name", raw[:64].decode("utf-8", "backslashreplace"), 400) from None


def if_none_match(header: str | None, tag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in header.split(","))


def create_app(settings: ImagebackendSettings | None = None) -> FastAPI:
    settings = settings or ImagebackendSettings()
    version = settings.version_label or __version__
    health = Health()
    metrics = HttpMetrics("imagebackend", version, ALGORITHM_VERSION)
    from prometheus_client import Histogram

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
        return _bad_parameter(field, err.get("input"))

    @app.exception_handler(BadParameter)
    async def on_bad_parameter(_: Request, exc: BadParameter) -> Response:
        return _bad_parameter(exc.field, exc.got, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            msg = "no such route: see / for the routes this service answers"
            return _json_error(404, "not_found", msg, path=request.url.path[:200])
        if exc.status_code == 405:
            msg = "method not allowed here: use GET (or HEAD)"
            return _json_error(405, "method_not_allowed", msg)
        return _json_error(exc.status_code, "http_error", str(exc.detail))

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
            400: {"description": "The name in the path is not valid UTF-8"},
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
        monster is centred on a transparent background.
        """
        name = decode_path_name(request.scope.get("raw_path") or name.encode())
        name, fmt = split_format(name, format)
        fmt = fmt or Format.PNG
        if len(normalise_name(name).encode("utf-8")) > MAX_NAME_BYTES:
            raise BadParameter("name", f"{len(name.encode())} bytes")
        w, h = width or size, height or size
        chosen = style or settings.default_style
        tag = etag(name, w, h, fmt, chosen)
        headers = {
            "ETag": tag,
            "Cache-Control": CACHE_CONTROL,
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        }
        if fmt is Format.SVG:  # an SVG opened on its own must not be able to run anything
            headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        if if_none_match(request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
        with render_seconds.labels(fmt.value, chosen.value).time():
            if w * h <= settings.inline_render_max_pixels:
                body = render(name, fmt=fmt, style=chosen, width=w, height=h)
            else:
                body = await anyio.to_thread.run_sync(
                    lambda: render(name, fmt=fmt, style=chosen, width=w, height=h)
                )
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=fmt.media_type)
        return Response(body, 200, headers=headers, media_type=fmt.media_type)

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
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, version=version)
    return app


def app_from_env() -> FastAPI:
    """The factory the server calls in each worker process."""
    from ..core.settings import load

    return create_app(load(ImagebackendSettings))
