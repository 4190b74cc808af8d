"""The frontend: the course's page (a form, a name, its monster, the container info), a JSON
API with OpenAPI docs, and `/monster/{name}` served through the cache.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import AsyncIterator
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from prometheus_client import Counter
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..core.asgi import error_body, send_refusal, send_response
from ..core.debug import add_internal_error_handler
from ..core.health import Health
from ..core.metrics import HttpMetrics
from ..core.monster_request import BadParameter, answer_early, parse
from ..core.service import (
    ErrorBody,
    add_error_handlers,
    add_monster_route,
    add_operational_routes,
    wrap,
)
from ..generator import (
    ALGORITHM_VERSION,
    DEFAULT_STYLE,
    DEFAULT_THEME,
    MAX_NAME_BYTES,
    MAX_SIZE,
    MIN_SIZE,
    Format,
    Theme,
    normalise_name,
)
from .backend import BackendUnavailable, ImageBackend
from .cache import Cache, CacheError, RedisCache, TieredCache, build_cache
from .images import BackendBusy, CacheMetrics, Images, cache_key
from .ratelimit import Limiter, MemoryLimiter, Policy, RateLimitMiddleware, RedisLimiter
from .settings import FrontendSettings

DEFAULT_NAME = "John Doe"  # the course's default
PAGE_SIZES = (80, 128, 256, 512)
PAGE_SIZE = 256
MAX_FORM_BYTES = 8192
VISITS_KEY = "monsterstack:visits"

CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The Swagger UI page loads its assets from a CDN (FastAPI's default), so /docs gets its own.
DOCS_CSP = (
    "default-src 'none'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src https://cdn.jsdelivr.net; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


class SecurityHeaders:
    """Security headers on every response; the strict CSP on all but the docs page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] == "/docs" else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


UNAVAILABLE = (
    "imagebackend_unavailable",
    "the image backend is not answering; the picture will be back shortly",
)
BUSY = ("busy", "too many new pictures are being drawn right now; retry in a second")


class CachedMonsterEndpoint:
    """GET/HEAD /monster/{name}: 304, or the picture through the cache, or a clear 503."""

    def __init__(self, images: Images, theme: Theme = DEFAULT_THEME) -> None:
        self.images = images
        self.theme = theme

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        req = await answer_early(scope, send, DEFAULT_STYLE, self.theme)
        if req is None:
            return
        head = scope["method"] == "HEAD"
        key = cache_key(req)
        body = self.images.get_local(key)
        tag = req.etag
        if body is None:
            try:
                body, tag = await self.images.get(req, key)
            except BackendUnavailable as exc:
                busy = isinstance(exc, BackendBusy)
                await send_refusal(
                    send,
                    503,
                    error_body(*(BUSY if busy else UNAVAILABLE)),
                    [(b"retry-after", b"1" if busy else b"2")],
                    head=head,
                )
                return
        headers = req.headers()
        if tag != req.etag:  # served from a backend of another version: say so, honestly
            headers = [(k, tag.encode() if k == b"etag" else v) for k, v in headers]
        await send_response(
            send, 200, headers, body, head=head, content_type=req.fmt.media_type.encode()
        )


class AnyPath(Convertor[str]):
    """Starlette's `path`, newlines included: a name may hold any character."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())

# The page is HTML, whatever went wrong; a query the framework refuses is JSON like elsewhere.
PAGE_422: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "A name over 512 bytes (the page, saying so) or a size out of range",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}},
        },
    }
}


def _slug(name: str) -> str:
    return re.sub(r"[^\w-]+", "-", name).strip("-")[:60] or "monster"


def create_app(
    settings: FrontendSettings | None = None,
    *,
    cache: Cache | None = None,
    backend_transport: httpx.AsyncBaseTransport | None = None,
) -> ASGIApp:
    """The frontend as an ASGI app. `cache` and `backend_transport` replace the I/O edges."""
    settings = settings or FrontendSettings()
    version = settings.version_label or __version__
    hostname = socket.gethostname()
    metrics = HttpMetrics("frontend", version, ALGORITHM_VERSION)
    cache = cache or build_cache(
        settings.redis_target,
        settings.memory_cache_bytes,
        settings.redis_timeout,
        password=settings.redis_password_value,
    )
    backend = ImageBackend(settings.imagebackend_url, settings.backend_timeout, backend_transport)
    limiter = (
        build_limiter(cache, Policy(settings.rate_limit, settings.rate_limit_burst), metrics)
        if settings.rate_limit  # 0: off
        else None
    )
    images = Images(cache, backend, CacheMetrics(metrics), settings.backend_concurrency)
    endpoint = CachedMonsterEndpoint(images, settings.theme)
    templates = Environment(
        loader=PackageLoader("monsterstack.frontend", "templates"),
        autoescape=select_autoescape(default=True),
    )
    page_template = templates.get_template("index.html")

    backend_state: dict[str, Any] = {"at": 0.0, "result": (False, "not checked yet")}

    async def backend_check() -> tuple[bool, str]:
        # Probes come every few seconds from every replica: one real check per second is plenty.
        if time.monotonic() - backend_state["at"] > 1.0:
            backend_state["result"] = await backend.alive()
            backend_state["at"] = time.monotonic()
        result: tuple[bool, str] = backend_state["result"]
        return result

    health = Health(required={"imagebackend": backend_check}, optional={"cache": cache.ping})

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        health.started = True
        yield
        health.start_draining()
        await backend.close()
        await cache.close()

    app = FastAPI(
        title=settings.app_title,
        version=version,
        description="The monsterstack frontend: a page, a JSON API, and cached monster pictures.",
        lifespan=lifespan,
        debug=False,  # no HTML traceback page: DEV details come from core.debug, secrets masked
        docs_url="/docs",
        redoc_url=None,
    )
    app.mount(
        "/static",
        StaticFiles(directory=str(files("monsterstack.frontend") / "static")),
        name="static",
    )

    add_error_handlers(app)
    add_internal_error_handler(app, dev=settings.context == "DEV")

    async def visits() -> str:
        try:
            count = await cache.incr(VISITS_KEY)
        except CacheError:
            return "not counted: Redis is unavailable"
        return "not counted: no Redis configured" if count is None else str(count)

    async def page(name: str, size: int, status: int = 200) -> HTMLResponse:
        name = normalise_name(name) or DEFAULT_NAME
        error = None
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            name, error, status = DEFAULT_NAME, f"names are limited to {MAX_NAME_BYTES} bytes", 422
        size = size if size in PAGE_SIZES else PAGE_SIZE
        # With the format's suffix: `.` and `..` stay names, `bob.svg` stays whole.
        path = "/monster/" + quote(name, safe="")
        html = page_template.render(
            title=settings.app_title,
            version=version,
            algorithm=ALGORITHM_VERSION,
            name=name,
            size=size,
            sizes=PAGE_SIZES,
            image_url=f"{path}.png?size={size}",
            svg_url=f"{path}.svg?size={size}",
            filename=_slug(name),
            hostname=hostname,
            visits=await visits(),
            cache=cache.kind,
            error=error,
        )
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    @app.get(
        "/",
        response_class=HTMLResponse,
        summary="The page (a plain form GET works too)",
        responses=PAGE_422,
    )
    async def index(
        name: Annotated[str, Query(max_length=2048)] = DEFAULT_NAME,
        size: Annotated[int, Query(ge=MIN_SIZE, le=MAX_SIZE)] = PAGE_SIZE,
    ) -> HTMLResponse:
        return await page(name, size)

    @app.post(
        "/",
        response_class=HTMLResponse,
        summary="The course's form post (field `name`)",
        responses=PAGE_422,
    )
    async def index_post(request: Request) -> HTMLResponse:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise StarletteHTTPException(413, f"forms are limited to {MAX_FORM_BYTES} bytes")
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            raise BadParameter("name", "undecodable form", 400) from None
        size = form.get("size", "")
        # isdigit() alone admits '²', which int() refuses: ASCII digits only.
        # At most 4 digits: int() refuses thousands of them (ValueError), and no size has more.
        digits = size.isascii() and size.isdigit() and len(size) <= 4
        chosen = int(size) if digits else PAGE_SIZE
        return await page(form.get("name", DEFAULT_NAME), chosen)

    add_monster_route(
        app,
        endpoint,
        "The monster for a name, through the cache",
        {503: {"description": "The imagebackend is not answering (Retry-After)"}},
    )

    @app.get(
        "/api/monsters/{name:anypath}",
        summary="Where a name's monster lives, in every format",
        responses={
            400: {"model": ErrorBody, "description": "The name is not valid UTF-8"},
            422: {"model": ErrorBody, "description": "The name is longer than 512 bytes"},
        },
    )
    async def api_monster(request: Request, name: str) -> dict[str, Any]:
        # The name from the raw path, decoded once and strictly, as /monster does: the framework
        # would have turned bytes that are not UTF-8 into U+FFFD and answered for that name.
        raw = request.scope.get("raw_path") or quote(request.scope["path"], safe="/").encode()
        req = parse(raw, b"", DEFAULT_STYLE, settings.theme, prefix=b"/api/monsters/")
        path = "/monster/" + quote(req.name, safe="")
        return {
            "name": req.name,
            "algorithm": ALGORITHM_VERSION,
            "default_size": 80,
            "sizes": {"min": MIN_SIZE, "max": MAX_SIZE},
            "images": {f.value: f"{path}.{f.value}" for f in Format},
            "etag": req.etag,
        }

    @app.get("/api/info", summary="Which container served this, and the visits counter")
    async def api_info() -> dict[str, Any]:
        return {
            "hostname": hostname,
            "version": version,
            "algorithm": ALGORITHM_VERSION,
            "cache": cache.kind,
            "visits": await visits(),
            "rate_limit": None
            if limiter is None
            else {
                "per_second": limiter.policy.rate,
                "burst": limiter.policy.burst,
                "store": limiter.kind,
            },
        }

    add_operational_routes(
        app,
        health,
        metrics,
        "frontend",
        version,
        commit=settings.git_commit,
        theme=settings.theme,
    )

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon_ico() -> Response:
        # The stack's own monster, through the cache like any other picture.
        return RedirectResponse("/monster/monsterstack?size=32", status_code=301)

    if limiter is None:
        return wrap(app, endpoint, metrics, version, health, inner=SecurityHeaders)
    limited, trusted = limiter, settings.trusted_networks

    def outer(served: ASGIApp) -> ASGIApp:
        # Security headers outermost, so a 429 carries them too.
        return SecurityHeaders(RateLimitMiddleware(served, limited, trusted))

    return wrap(app, endpoint, metrics, version, health, inner=outer)


def build_limiter(cache: Cache, policy: Policy, metrics: HttpMetrics) -> Limiter:
    """Buckets in Redis when the cache has a Redis tier (shared by replicas), else in-process."""
    shared = cache.shared if isinstance(cache, TieredCache) else cache
    if not isinstance(shared, RedisCache):
        return MemoryLimiter(policy)
    fallbacks = Counter(
        "monsterstack_rate_limit_fallbacks",
        "Rate-limit decisions made in-process because Redis did not answer",
        registry=metrics.registry,
    )
    return RedisLimiter(shared, policy, fallbacks)


def app_from_env() -> ASGIApp:
    """The factory the server calls in each worker process."""
    from ..core.server import frozen
    from ..core.settings import load

    return frozen(create_app(load(FrontendSettings)))
