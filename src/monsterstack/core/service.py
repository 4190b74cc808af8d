"""What both services' FastAPI apps share: the documented /monster route, the operational
routes (liveness, readiness, version, metrics), and JSON errors."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from ..generator import ALGORITHM_VERSION, DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, Format, Style, Theme
from .health import Health
from .metrics import HttpMetrics
from .monster_request import FIX, BadParameter

SizeParam = Annotated[int, Query(ge=MIN_SIZE, le=MAX_SIZE)]


class ErrorBody(BaseModel):
    """Every 4xx/5xx body of both services: a code, and a message that says the fix."""

    error: str = Field(description="machine-readable code, e.g. `invalid_parameter`")
    message: str = Field(description="what is wrong and how to fix it")
    field: str | None = Field(None, description="the parameter at fault, if one is")
    got: str | int | None = Field(None, description="the value received (shortened)")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


MONSTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {f.media_type: {} for f in Format},
        "description": "The avatar. Strong ETag, one-year immutable Cache-Control.",
    },
    304: {"description": "The client's copy (If-None-Match) is current"},
    400: _error("The name or the query string is not valid UTF-8"),
    422: _error("A parameter is out of range; the body names it and the fix"),
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

    documented = {**MONSTER_RESPONSES}
    for status, doc in (responses or {}).items():  # the service's own errors are JSON too
        error = int(status) >= 400 and "content" not in doc and "model" not in doc
        documented[status] = {"model": ErrorBody, **doc} if error else doc
    for method in ("GET", "HEAD"):  # one route each: an operationId names one operation
        app.api_route(
            "/monster/{name:path}",
            methods=[method],
            response_class=Response,
            responses=documented,
            summary=summary,
            operation_id=f"monster_{method.lower()}",
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

    unready: dict[int | str, dict[str, Any]] = {
        503: {"description": "Not ready: starting, draining, or a required dependency is down"}
    }

    @app.get("/readyz", summary="Readiness, with each dependency's state", responses=unready)
    @app.get("/healthz", summary="Readiness, as the course's probe asks it", responses=unready)
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
        await health.dependencies()  # a scrape sees their states now, probed or not
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)


ERRORS = {
    404: ("not_found", "no such route: see /docs for what this service answers"),
    405: ("method_not_allowed", "method not allowed on this route: see /docs"),
    413: ("too_large", "the request body is too large"),
}


def add_error_handlers(app: FastAPI) -> None:
    """Every error is JSON that names what to fix, never an HTML debug page or a 500; the
    OpenAPI says so (FastAPI's own 422 schema, which these handlers replace, is not served)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            schemas = spec.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                ref = "#/components/schemas/HTTPValidationError"
                body = json.dumps(spec).replace(ref, "#/components/schemas/ErrorBody")
                spec = json.loads(body)
                schemas = spec["components"]["schemas"]
                del schemas["HTTPValidationError"]
                schemas.pop("ValidationError", None)
                schemas["ErrorBody"] = ErrorBody.model_json_schema()
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

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
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error, message = ERRORS.get(exc.status_code, ("http_error", str(exc.detail)))
        response = json_error(exc.status_code, error, message)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Allow: every method of every route at this path (RFC 9110)
            response.headers["allow"] = ", ".join(allowed_methods(app, request.scope))
        return response


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """The methods the routes matching this path answer (the router's own 405 names only the
    first route it tried, e.g. GET for a path that also answers POST)."""
    methods: set[str] = set()
    for route in app.router.routes:
        if route.matches(scope)[0] is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)
