"""The page in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page

from tests.servers import ServiceProcess, frontend_stack

XSS = [
    "<img src=x onerror=window.__xss=1>",
    '"><script>window.__xss=1</script>',
    "javascript:window.__xss=1",
    "' onfocus='window.__xss=1' autofocus='",
]


@pytest.fixture(scope="module")
def frontend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with frontend_stack(tmp_path_factory.mktemp("browser")) as (_, front):
        yield front


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 900, "height": 900})
    p = context.new_page()
    p.errors = []  # type: ignore[attr-defined]
    p.on("console", lambda m: m.type == "error" and p.errors.append(m.text))  # type: ignore[attr-defined]
    p.on("pageerror", lambda e: p.errors.append(str(e)))  # type: ignore[attr-defined]
    p.on("dialog", lambda d: (p.errors.append(f"dialog: {d.message}"), d.dismiss()))  # type: ignore[attr-defined]
    yield p
    context.close()


def _loaded_width(page: Page) -> int:
    page.wait_for_function(
        "() => { const i = document.getElementById('monster');"
        " return i.complete && i.naturalWidth > 0 }",
        timeout=15000,
    )
    return int(page.evaluate("document.getElementById('monster').naturalWidth"))


def test_type_a_name_and_the_monster_appears_without_reload(
    page: Page, frontend: ServiceProcess, tmp_path: Path
) -> None:
    page.goto(frontend.url + "/")
    assert _loaded_width(page) > 0  # the default name's monster
    page.evaluate("window.__same_document = true")  # survives only if the page does not reload
    page.fill("#name", "Grace Hopper")
    page.select_option("#size", "256")
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('monster').src.includes('Grace%20Hopper')")
    assert _loaded_width(page) == 256
    assert page.evaluate("window.__same_document") is True
    assert "name=Grace+Hopper" in page.url  # the address bar can be shared
    assert page.input_value("#url").endswith("/monster/Grace%20Hopper.png?size=256")
    assert page.get_attribute("#download", "href") == "/monster/Grace%20Hopper.png?size=256"
    assert page.errors == []  # type: ignore[attr-defined]
    # MONSTERSTACK_SCREENSHOTS=docs keeps the picture the README shows.
    shots = Path(os.environ.get("MONSTERSTACK_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(shots / "page.png"), full_page=True)
    assert (shots / "page.png").stat().st_size > 10_000


def test_without_javascript_the_form_still_works(
    browser: Browser, frontend: ServiceProcess
) -> None:
    context = browser.new_context(java_script_enabled=False)
    p = context.new_page()
    p.goto(frontend.url + "/")
    p.fill("#name", "No Script")
    p.click("button[type=submit]")
    p.wait_for_url("**/?name=No+Script**")
    assert "/monster/No%20Script.png?size=" in (p.get_attribute("#monster", "src") or "")
    assert _loaded_width(p) > 0
    context.close()


@pytest.mark.parametrize("payload", XSS)
def test_hostile_names_never_execute(page: Page, frontend: ServiceProcess, payload: str) -> None:
    page.goto(f"{frontend.url}/?name={quote(payload)}")
    _loaded_width(page)
    page.fill("#name", payload)  # and through the JavaScript path
    page.click("button[type=submit]")
    _loaded_width(page)
    page.click("#copy")
    assert page.evaluate("window.__xss") is None
    assert page.input_value("#name") == payload  # shown as text, intact
    assert not [e for e in page.errors if "dialog" in e]  # type: ignore[attr-defined]
