"""/docs on both services: Swagger UI from the service itself, no other host named anywhere in
the page, its assets or its CSP, and its routes labelled in the metrics. (In Chromium with no
network: tests/e2e/test_docs.py.)"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from monsterstack.core.docs import docs_csp
from monsterstack.frontend.app import create_app as create_frontend
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.imagebackend.app import create_app as create_imagebackend

# Anything that names a host: a scheme, or a protocol-relative URL.
ABSOLUTE = re.compile(r"[a-z][a-z0-9+.-]*://|(?<![:/])//[^/\s]", re.IGNORECASE)
# What a CSP source list may hold here: keywords, hashes, and these two schemes.
LOCAL_SOURCES = re.compile(r"'(?:none|self|sha256-[A-Za-z0-9+/]+=*)'|data:|blob:")


@pytest.fixture(params=["frontend", "imagebackend"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    app = (
        create_frontend(FrontendSettings(rate_limit=0, app_title="Monstres <de> test"))
        if request.param == "frontend"
        else create_imagebackend()
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=f"http://{request.param}"
    ) as c:
        yield c


def _references(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', page)


async def test_the_page_and_its_assets_name_no_other_host(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    page = response.text
    assert "SwaggerUIBundle(" in page
    assert not ABSOLUTE.findall(page), ABSOLUTE.findall(page)
    refs = _references(page)
    assert sorted(refs) == [
        "/docs/assets/favicon.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ]
    assert "url: '/openapi.json'" in page
    assert '"validatorUrl": null' in page  # no validator badge fetched from swagger.io
    types = {}
    for ref in refs:
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        types[ref.rsplit(".", 1)[1]] = asset.headers["content-type"].split(";")[0]
    assert types == {"png": "image/png", "js": "text/javascript", "css": "text/css"}
    # The stylesheet loads nothing from elsewhere (its icons are data: URLs).
    css = (await client.get("/docs/assets/swagger-ui.css")).text
    assert "@import" not in css
    loads = re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
    assert loads and all(u.startswith("data:") for u in loads), sorted(set(loads))
    # What the script loads is measured where it runs: tests/e2e/test_docs.py.
    bundle = (await client.get("/docs/assets/swagger-ui-bundle.js")).text
    assert "SwaggerUIBundle" in bundle and 'PACKAGE_VERSION:"5.' in bundle


async def test_the_csp_allows_only_the_service_and_the_pages_own_script(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/docs")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    for name, sources in directives.items():
        for source in sources.split():
            assert LOCAL_SOURCES.fullmatch(source), f"{name} allows {source}"
    # The inline script runs by its hash: no 'unsafe-inline', and a changed script would not.
    (script,) = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert directives["script-src"] == f"'self' 'sha256-{digest}'"
    assert docs_csp(response.text.replace("deepLinking", "deep")) != csp


async def test_the_title_is_the_services_escaped(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    title = re.findall(r"<title>(.*)</title>", page)
    assert title in (
        ["Monstres &lt;de&gt; test - Swagger UI"],
        ["monsterstack imagebackend - Swagger UI"],
    )


async def test_only_unknown_paths_are_labelled_unmatched(client: httpx.AsyncClient) -> None:
    """As deploy/monitoring/README.md says: <unmatched> is 404s and trailing-slash redirects."""
    paths = ["/docs", "/openapi.json", "/docs/assets/swagger-ui.css", "/docs/assets/nope"]
    frontend = str(client.base_url) == "http://frontend"
    if frontend:
        paths.append("/static/app.css")
    for path in [*paths, "/no-such-route", "/version/"]:
        await client.get(path)
    metrics = (await client.get("/metrics")).text
    series = r'http_requests_total\{code="(\d+)",method="GET",route="([^"]*)"'
    labels = set(re.findall(series, metrics))
    expected = {
        ("200", "/docs"),
        ("200", "/openapi.json"),
        ("200", "/docs/assets/{path}"),
        ("404", "/docs/assets/{path}"),
        ("404", "<unmatched>"),
        ("307", "<unmatched>"),  # to /version
    }
    if frontend:
        expected.add(("200", "/static/{path}"))
    assert labels == expected


async def test_head_answers_as_get_does(client: httpx.AsyncClient) -> None:
    """FastAPI's own docs routes answered HEAD; ours do too (a monitor's HEAD /docs is no 405)."""
    for path in ("/docs", "/openapi.json"):
        head, get = await client.head(path), await client.get(path)
        assert head.status_code == get.status_code == 200, path
        assert head.headers["content-type"] == get.headers["content-type"]
