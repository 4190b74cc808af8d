"""The frontend: the course's page, a JSON API with OpenAPI docs, and `/monster/{name}`
served through a two-tier cache, behind a per-client rate limiter.

`create_app` builds the parts (each I/O edge once: the imagebackend client, the Redis store),
hands them to the routes, and lists the middleware in one place, outermost first.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from importlib.resources import files

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from .. import __version__
from ..core.asgi import FastPath, Labelled, ObservabilityMiddleware, assemble
from ..core.debug import add_internal_error_handler
from ..core.docs import add_docs
from ..core.health import Health, watched
from ..core.metrics import DependencyMetrics, HttpMetrics
from ..core.monster_request import PREFIX, ROUTE
from ..core.service import add_error_handlers, add_monster_route, add_operational_routes
from ..generator import ALGORITHM_VERSION
from . import api, page
from .backend import ImageBackend
from .cache import MemoryCache, RedisCache
from .images import CacheMetrics, Images
from .monster import MonsterEndpoint
from .ratelimit import Limiter, MemoryLimiter, Policy, RateLimitMiddleware, SharedLimiter
from .redis_store import RedisStore
from .security import SecurityHeaders
from .settings import FrontendSettings
from .visits import Visits


def create_app(
    settings: FrontendSettings | None = None,
    *,
    hot: MemoryCache | None = None,
    redis: RedisStore | None = None,
    backend_transport: httpx.AsyncBaseTransport | None = None,
) -> ASGIApp:
    """The frontend as an ASGI app. `hot` (the in-process cache), `redis` and
    `backend_transport` replace the parts the settings would build."""
    settings = FrontendSettings() if settings is None else settings
    version = settings.version_label or __version__
    metrics = HttpMetrics("frontend", version, ALGORITHM_VERSION)
    if hot is None:
        hot = MemoryCache(settings.memory_cache_bytes)
    if redis is None and settings.redis_target is not None:
        redis = RedisStore(
            settings.redis_target, settings.redis_timeout, password=settings.redis_password_value
        )
    backend = ImageBackend(settings.imagebackend_url, settings.backend_timeout, backend_transport)
    images = Images(
        hot,
        None if redis is None else RedisCache(redis),
        backend,
        CacheMetrics(metrics),
        settings.backend_concurrency,
    )
    limiter = build_limiter(settings, redis, metrics)
    visits = Visits(redis)
    about = page.About(
        settings.app_title,
        version,
        socket.gethostname(),
        "memory" if redis is None else "memory+redis",
    )
    # Ready when it can serve: without the imagebackend or Redis the page and the cached
    # pictures still can, so their states are reported (JSON, gauge), never a reason to leave
    # the Service (issue 15: one slow imagebackend made every replica unready).
    health = Health(
        optional={
            "imagebackend": watched(backend.alive, 1.0),
            # A PING on every probe (REDIS_TIMEOUT bounds it): it also closes the circuit.
            "cache": watched(hot.ping if redis is None else redis.ping, 0.0),
        },
        report=DependencyMetrics(metrics),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        health.started = True
        yield
        health.start_draining()
        if limiter is not None:
            await limiter.close()
        await backend.close()
        hot.clear()
        if redis is not None:
            await redis.close()

    app = FastAPI(
        title=settings.app_title,
        version=version,
        description="The monsterstack frontend: a page, a JSON API, and cached monster pictures.",
        lifespan=lifespan,
        debug=False,  # no HTML traceback page: DEV details come from core.debug, secrets masked
        docs_url=None,  # add_docs serves them, assets included
        redoc_url=None,
        openapi_url=None,
    )
    static = StaticFiles(directory=str(files("monsterstack.frontend") / "static"))
    app.mount("/static", Labelled(static, "/static/{path}"), name="static")
    add_docs(app)
    add_error_handlers(app)
    add_internal_error_handler(app, dev=settings.context == "DEV")
    app.include_router(page.router(about, visits))
    endpoint = MonsterEndpoint(images, settings.theme)
    add_monster_route(
        app,
        endpoint,
        "The monster for a name, through the cache",
        {503: {"description": "The imagebackend is not answering (Retry-After)"}},
    )
    app.include_router(api.router(about, visits, limiter, settings.theme))
    add_operational_routes(
        app, health, metrics, "frontend", version, commit=settings.git_commit, theme=settings.theme
    )

    rate_limit = (
        []
        if limiter is None
        else [Middleware(RateLimitMiddleware, limiter=limiter, trusted=settings.trusted_networks)]
    )
    return assemble(
        app,
        [
            # Outermost: every response counted and labelled with the version.
            Middleware(ObservabilityMiddleware, metrics=metrics, version=version, health=health),
            Middleware(SecurityHeaders),  # on every answer, 429s included
            *rate_limit,
            # /monster off the framework's routing (documented by add_monster_route).
            Middleware(FastPath, prefix=PREFIX, route=ROUTE, endpoint=endpoint),
        ],
    )


def build_limiter(
    settings: FrontendSettings, redis: RedisStore | None, metrics: HttpMetrics
) -> Limiter | None:
    """None when RATE_LIMIT is 0; one budget across the replicas with Redis, else in-process."""
    if not settings.rate_limit:
        return None
    policy = Policy(settings.rate_limit, settings.rate_limit_burst)
    if redis is None:
        return MemoryLimiter(policy)
    fallbacks = Counter(
        "monsterstack_rate_limit_fallbacks",
        "Rate-limit decisions made in-process because Redis did not answer",
        registry=metrics.registry,
    )
    return SharedLimiter(redis, policy, fallbacks)


def app_from_env() -> ASGIApp:
    """The factory the server calls in each worker process."""
    from ..core.server import frozen
    from ..core.settings import load

    return frozen(create_app(load(FrontendSettings)))
