"""The course's page: a form, a name, its monster, which container answered, the visits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.monster_request import BadParameter
from ..generator import ALGORITHM_VERSION, MAX_NAME_BYTES, MAX_SIZE, MIN_SIZE, normalise_name
from .visits import Visits

DEFAULT_NAME = "John Doe"  # the course's default
PAGE_SIZES = (80, 128, 256, 512)
PAGE_SIZE = 256
MAX_FORM_BYTES = 8192

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


@dataclass(frozen=True)
class About:
    """What the page and the API say about the replica that answered."""

    title: str
    version: str
    hostname: str
    cache: str  # "memory", or "memory+redis"


def _slug(name: str) -> str:
    return re.sub(r"[^\w-]+", "-", name).strip("-")[:60] or "monster"


def size_field(value: str) -> int:
    """The form's size: ASCII digits only (isdigit() alone admits '²', which int() refuses),
    at most 4 of them (int() refuses thousands, and no size has more); else the default."""
    digits = value.isascii() and value.isdigit() and len(value) <= 4
    return int(value) if digits else PAGE_SIZE


async def read_form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise StarletteHTTPException(413, f"forms are limited to {MAX_FORM_BYTES} bytes")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise BadParameter("name", "undecodable form", 400) from None


def router(about: About, visits: Visits) -> APIRouter:
    template = Environment(
        loader=PackageLoader("monsterstack.frontend", "templates"),
        autoescape=select_autoescape(default=True),
    ).get_template("index.html")

    async def page(name: str, size: int) -> HTMLResponse:
        name = normalise_name(name) or DEFAULT_NAME
        error, status = None, 200
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            name, error, status = DEFAULT_NAME, f"names are limited to {MAX_NAME_BYTES} bytes", 422
        size = size if size in PAGE_SIZES else PAGE_SIZE
        # With the format's suffix: `.` and `..` stay names, `bob.svg` stays whole.
        path = "/monster/" + quote(name, safe="")
        html = template.render(
            title=about.title,
            version=about.version,
            algorithm=ALGORITHM_VERSION,
            name=name,
            size=size,
            sizes=PAGE_SIZES,
            image_url=f"{path}.png?size={size}",
            svg_url=f"{path}.svg?size={size}",
            filename=_slug(name),
            hostname=about.hostname,
            visits=await visits.count(),
            cache=about.cache,
            error=error,
        )
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    routes = APIRouter()

    @routes.get(
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

    @routes.post(
        "/",
        response_class=HTMLResponse,
        summary="The course's form post (field `name`)",
        responses=PAGE_422,
    )
    async def index_post(request: Request) -> HTMLResponse:
        form = await read_form(request)
        return await page(form.get("name", DEFAULT_NAME), size_field(form.get("size", "")))

    return routes
