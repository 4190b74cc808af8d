"""The API docs both services serve: Swagger UI from the service itself, never from a CDN.

`/docs` is FastAPI's Swagger UI page pointed at assets under `/docs/assets/`, the files of the
`fastapi-offline` package (Swagger UI's own JS and CSS, 5.32.6 in its 1.7.7): the page works in
an air-gapped cluster, and its Content-Security-Policy names no host but the service's own.
The page's one inline script (the `SwaggerUIBundle({...})` call) is allowed by its SHA-256,
not by `'unsafe-inline'`.

`/docs`, `/openapi.json` and the assets are routes the metrics label by their templates
(FastAPI's own docs routes and mounts left `route="<unmatched>"`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from .asgi import Labelled

DOCS = "/docs"
OPENAPI = "/openapi.json"
ASSETS = "/docs/assets"
ASSETS_PACKAGE = ("fastapi_offline", "static")  # swagger-ui-bundle.js, swagger-ui.css, favicon

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_page(title: str) -> tuple[bytes, str]:
    """The Swagger UI page for a service titled `title`, and the CSP that lets it run."""
    page = get_swagger_ui_html(
        openapi_url=OPENAPI,
        title=html.escape(f"{title} - Swagger UI"),
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        # No online validator: its badge would be an image from another host.
        swagger_ui_parameters={"validatorUrl": None},
    ).body
    return bytes(page), docs_csp(bytes(page).decode())


def docs_csp(page: str) -> str:
    """The page's own policy: everything from the service, the inline script by its hash,
    images also as `data:` (the CSS's icons) and `blob:` (a picture shown by "Try it out")."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in _INLINE_SCRIPT.findall(page)
    )
    return (
        "default-src 'none'; img-src 'self' data: blob:; style-src 'self'; "
        f"script-src 'self' {hashes}; connect-src 'self'; form-action 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def add_docs(app: FastAPI) -> None:
    """`/docs`, `/openapi.json` and `/docs/assets/*` on an app built with `docs_url=None,
    redoc_url=None, openapi_url=None` (these replace FastAPI's own)."""
    page, csp = docs_page(app.title)

    @app.api_route(OPENAPI, methods=["GET", "HEAD"], include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())  # read when asked: add_error_handlers replaces it

    @app.api_route(DOCS, methods=["GET", "HEAD"], include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"content-security-policy": csp})

    assets = StaticFiles(packages=[ASSETS_PACKAGE])
    app.mount(ASSETS, Labelled(assets, ASSETS + "/{path}"), name="docs-assets")
