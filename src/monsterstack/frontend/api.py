"""The JSON API: where a name's monster lives, and which replica answered."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.convertors import Convertor, register_url_convertor

from ..core.monster_request import parse
from ..core.service import ErrorBody
from ..generator import ALGORITHM_VERSION, DEFAULT_STYLE, MAX_SIZE, MIN_SIZE, Format, Theme
from .page import About
from .ratelimit import Limiter
from .visits import Visits


class AnyPath(Convertor[str]):
    """Starlette's `path`, newlines included: a name may hold any character."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())


def router(about: About, visits: Visits, limiter: Limiter | None, theme: Theme) -> APIRouter:
    routes = APIRouter()

    @routes.get(
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
        req = parse(raw, b"", DEFAULT_STYLE, theme, prefix=b"/api/monsters/")
        path = "/monster/" + quote(req.name, safe="")
        return {
            "name": req.name,
            "algorithm": ALGORITHM_VERSION,
            "default_size": 80,
            "sizes": {"min": MIN_SIZE, "max": MAX_SIZE},
            "images": {f.value: f"{path}.{f.value}" for f in Format},
            "etag": req.etag,
        }

    limits = None
    if limiter is not None:
        policy = limiter.policy
        limits = {"per_second": policy.rate, "burst": policy.burst, "store": limiter.kind}

    @routes.get("/api/info", summary="Which container served this, and the visits counter")
    async def api_info() -> dict[str, Any]:
        return {
            "hostname": about.hostname,
            "version": about.version,
            "algorithm": ALGORITHM_VERSION,
            "cache": about.cache,
            "visits": await visits.count(),
            "rate_limit": limits,
        }

    @routes.get("/favicon.ico", include_in_schema=False)
    async def favicon_ico() -> Response:
        # The stack's own monster, through the cache like any other picture.
        return RedirectResponse("/monster/monsterstack?size=32", status_code=301)

    return routes
