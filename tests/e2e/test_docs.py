"""/docs in a real headless Chromium that can reach nothing but 127.0.0.1: Swagger UI renders
every operation from the service's own assets, "Try it out" works under the page's CSP, and
the page asks no other host for anything."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.servers import ServiceProcess, frontend_stack

CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    with frontend_stack(tmp_path_factory.mktemp("docs")) as (backend, front):
        yield {"frontend": front, "imagebackend": backend}


@pytest.fixture
def page(offline_browser: Browser) -> Iterator[Page]:
    context = offline_browser.new_context(viewport={"width": 1200, "height": 900})
    p = context.new_page()
    p.elsewhere = []  # type: ignore[attr-defined]
    p.errors = []  # type: ignore[attr-defined]

    def only_local(route: Route) -> None:
        # Every request the page makes passes here: any other host is recorded and refused
        # (the browser could not resolve it anyway: OFFLINE_ARGS).
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            p.elsewhere.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()

    context.route("**/*", only_local)
    p.add_init_script(CSP_PROBE)
    p.on("console", lambda m: m.type == "error" and p.errors.append(m.text))  # type: ignore[attr-defined]
    p.on("pageerror", lambda e: p.errors.append(str(e)))  # type: ignore[attr-defined]
    yield p
    context.close()


@pytest.mark.parametrize("service", ["frontend", "imagebackend"])
def test_docs_render_offline_and_try_it_out_works(
    page: Page, services: dict[str, ServiceProcess], service: str
) -> None:
    url = services[service].url
    page.goto(url + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/monster/{name}" in {p.replace("\u200b", "") for p in paths}
    assert {"/readyz", "/version"} <= {p.replace("\u200b", "") for p in paths}
    assert page.title().endswith(" - Swagger UI")
    # Swagger UI's own stylesheet applied (its rules, not the browser's defaults).
    assert (
        page.locator(".swagger-ui .info .title")
        .evaluate("e => getComputedStyle(e).fontFamily")
        .startswith("sans-serif")
    )

    # "Try it out" on /version: a call from the page to the service, under connect-src.
    block = page.locator("#operations-default-version_info_version_get")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=15000)
    assert status.inner_text().strip() == "200"
    assert f'"service": "{service}"' in block.locator(".live-responses-table").inner_text()

    assert page.elsewhere == []  # type: ignore[attr-defined]
    assert page.evaluate("window.__csp") == []
    assert page.errors == []  # type: ignore[attr-defined]
