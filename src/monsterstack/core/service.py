"""What both services' FastAPI apps share: the documented /monster route, the operational
routes (liveness, readiness, version, metrics), JSON errors, and the outer middleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from ..generator import ALGORITHM_VERSION, DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, Format, Style, Theme
from .asgi import FastPath, ObservabilityMiddleware
from .health import Health
from .metrics import HttpMetrics
from .monster_request import FIX, PREFIX, ROUTE, BadParameter

SizeParam = Annotated[int, Query(ge=MIN_SIZE, le=MAX_SIZE)]

MONSTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {f.media_type: {} for f in Format},
        "description": "The avatar. Strong ETag, one-year immutable Cache-Control.",
    },
    304: {"description": "The client's copy (If-None-Match) is current"},
    400: {"description": "The name or the query string is not valid UTF-8"},
    422: {"description": "A parameter is out of range; the body names it and the fix"},
}


class Delegate(Response):
    """A framework response that lets a plain ASGI endpoint answer."""

    def __init__(self, endpoint: ASGIApp) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint(scope, receive, send)


def json_error(status: int, error: str, message: str, **fields: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **fields}, status_code=status)


def add_monster_route(
    app: FastAPI,
    endpoint: ASGIApp,
    summary: str,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> None:
    """Documents GET/HEAD /monster/{name}. The request itself is served by `endpoint` on
    the fast path (core.asgi.FastPath), which applies these same rules to the raw request."""

    async def monster(
        name: str,
        size: SizeParam = DEFAULT_SIZE,
        width: SizeParam | None = None,
        height: SizeParam | None = None,
        format: Format | None = None,
        style: Style | None = None,
        theme: Theme | None = None,
    ) -> Response:
        """Any string is a name (UTF-8, up to 512 bytes; it may contain `/`).
        `.png`, `.svg` or `.webp` at its end picks the format.

        `size` makes a square; dnmonster's `width` and `height` override a side, and the
        monster is centred on a transparent background. `theme` recolours it (default: the
        service's THEME, `classic` unless set).
        """
        return Delegate(endpoint)

    app.api_route(
        "/monster/{name:path}",
        methods=["GET", "HEAD"],
        response_class=Response,
        responses={**MONSTER_RESPONSES, **(responses or {})},
        summary=summary,
    )(monster)


def add_operational_routes(
    app: FastAPI,
    health: Health,
    metrics: HttpMetrics,
    service: str,
    version: str,
    *,
    commit: str = "unknown",
    theme: Theme | None = None,
) -> None:
    @app.get("/livez", summary="Liveness: the process answers")
    async def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", summary="Readiness, with each dependency's state")
    @app.get("/healthz", summary="Readiness, as the course's probe asks it")
    async def readyz() -> JSONResponse:
        ready, details = await health.readiness()
        return JSONResponse(details, status_code=200 if ready else 503)

    about: dict[str, object] = {
        "service": service,
        "version": version,
        "algorithm": ALGORITHM_VERSION,
        "commit": commit,
    }
    if theme is not None:
        about["theme"] = theme.value

    @app.get("/version", summary="Version, build commit, drawing algorithm and colour theme")
    async def version_info() -> dict[str, object]:
        return about

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)


ERRORS = {
    404: ("not_found", "no such route: see /docs for what this service answers"),
    405: ("method_not_allowed", "method not allowed on this route: see /docs"),
    413: ("too_large", "the request body is too large"),
}


def add_error_handlers(app: FastAPI) -> None:
    """Every error is JSON that names what to fix, never an HTML debug page or a 500."""

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> Response:
        err = exc.errors()[0]
        field = str(err["loc"][-1])
        if field not in FIX:
            return json_error(422, "invalid_request", str(err.get("msg")), field=field)
        return JSONResponse(BadParameter(field, err.get("input")).body(), status_code=422)

    @app.exception_handler(BadParameter)
    async def on_bad_parameter(_: Request, exc: BadParameter) -> Response:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> Response:
        error, message = ERRORS.get(exc.status_code, ("http_error", str(exc.detail)))
        return json_error(exc.status_code, error, message)


def wrap(
    app: FastAPI,
    endpoint: ASGIApp,
    metrics: HttpMetrics,
    version: str,
    inner: Callable[[ASGIApp], ASGIApp] | None = None,
) -> ASGIApp:
    """The app as served: /monster on the fast path, the rest through FastAPI, all observed."""
    served: ASGIApp = FastPath(app, PREFIX, ROUTE, endpoint)
    if inner is not None:
        served = inner(served)
    return ObservabilityMiddleware(served, metrics=metrics, version=version)
