"""XSS payloads through every place the frontend echoes input, in a real headless Chromium.

Where input comes back: GET /?name= and POST / (the form's name and size), the page's input,
alt text, links, download file names and copyable link, the in-place update by app.js, the
JSON API, the JSON error bodies, and the SVG picture (which must not contain the name at all).

A payload has "executed" if any of these happened: a dialog (alert/confirm/prompt), a call to
the exposed binding `__pwned`, `window.__xss` set, a request to `/__pwned` (what an injected
<img>/<iframe>/<link> would load, even where the CSP stops scripts), or a Content-Security-
Policy violation (the page has no inline script or style: any violation is injected markup
that the CSP caught, which is a bug even though nothing ran). And it must be shown as text:
the form field and the alt text hold it intact, the links name its monster.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.servers import ServiceProcess, frontend_stack

RUN = "window.__xss=1;__pwned(1)"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f'"><img src=/__pwned onerror="{RUN}">',
    f"'><svg onload={RUN}>",
    f'" autofocus onfocus="{RUN}" x="',
    f"' autofocus onfocus='{RUN}' x='",
    f"javascript:{RUN}",
    f"</title><script>{RUN}</script>",
    f"</textarea></script><script>{RUN}</script>",
    f"<svg><script>{RUN}</script></svg>",
    '<iframe src="/__pwned" srcdoc="<script>parent.__xss=1</script>"></iframe>',
    f'<a href="javascript:{RUN}">click</a>',
    f'<math><mi xlink:href="javascript:{RUN}">x</mi></math>',
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(document.domain)>",
    f"%3Cscript%3E{RUN}%3C%2Fscript%3E",  # percent-encoded: must stay text, never decoded twice
    f"&lt;script&gt;{RUN}&lt;/script&gt;",  # entities: never unescaped twice
    "{{7*7}} ${7*7} #{7*7} {% print(7*7) %} <%= 7*7 %>",  # template injection: never 49
    f"a\u2028';{RUN};//\u2029b",  # line separators break naive JS string embedding
    f"\u202e<script>{RUN}</script>",  # right-to-left override
    '<link rel=stylesheet href="/__pwned"><style>@import "/__pwned";</style>',
    f"<base href=//evil.invalid/><meta http-equiv=refresh content='0;url=javascript:{RUN}'>",
]
SLUG = re.compile(r"[\w-]+\.(png|svg)")
MARK = "/__pwned"
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def shown(name: str) -> str:
    """The name as the page shows it: NFC, trimmed (README)."""
    return unicodedata.normalize("NFC", name).strip()


@dataclass
class Alarms:
    fired: list[str] = field(default_factory=list)

    def check(self, page: Page, where: str) -> None:
        for frame in page.frames:
            try:
                state = frame.evaluate("[window.__xss, window.__csp || []]")
            except Exception:  # a frame without script (e.g. a JSON viewer): nothing ran there
                continue
            if state[0] is not None:
                self.fired.append(f"window.__xss set in {frame.url}")
            self.fired += [f"CSP violation: {v} in {frame.url}" for v in state[1]]
        assert self.fired == [], where


@pytest.fixture(scope="module")
def frontend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with frontend_stack(tmp_path_factory.mktemp("xss"), {"RATE_LIMIT": "0"}) as (_, front):
        yield front


@pytest.fixture
def context(browser: Browser, frontend: ServiceProcess) -> Iterator[BrowserContext]:
    ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=frontend.url)
    yield ctx
    ctx.close()


@pytest.fixture
def watched(context: BrowserContext) -> Iterator[tuple[Page, Alarms]]:
    alarms = Alarms()
    context.add_init_script(CSP_PROBE)
    context.expose_binding("__pwned", lambda source, *a: alarms.fired.append(f"binding {a}"))
    page = context.new_page()
    page.on("dialog", lambda d: (alarms.fired.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: MARK in r.url and alarms.fired.append(f"request {r.url}"))
    page.on("pageerror", lambda e: alarms.fired.append(f"page error: {e}"))
    yield page, alarms


def _monster_loaded(page: Page) -> None:
    page.wait_for_function(
        "() => { const i = document.getElementById('monster');"
        " return i.complete && i.naturalWidth > 0 }",
        timeout=15000,
    )


def _linked_name(url: str) -> tuple[str, str]:
    """(the name, the format) that a /monster/... link names ("" without a suffix)."""
    path = urlsplit(url).path
    assert path.startswith("/monster/"), url
    segment = path.removeprefix("/monster/")
    assert "/" not in segment and segment not in (".", ".."), url
    name, dot, ext = unquote(segment, errors="strict").rpartition(".")
    return (name, ext) if dot and ext in ("png", "svg", "webp") else (name + dot + ext, "")


def check_page_shows(page: Page, name: str, frontend: ServiceProcess) -> None:
    """The name as text everywhere the page shows it, and links that name its monster."""
    want = shown(name)
    assert page.input_value("#name") == want
    assert page.get_attribute("#monster", "alt") == f"The monster of {want}"
    # the structure no name can change: one script, the app's; no injected elements
    scripts = page.eval_on_selector_all("script", "s => s.map(e => e.src.split('?')[0])")
    assert scripts == [f"{frontend.url}/static/app.js"], scripts
    counts = page.evaluate(
        "() => ['iframe','svg','math','style','base','object','embed','textarea','body']"
        ".map(t => document.getElementsByTagName(t).length)"
    )
    assert counts == [0, 0, 0, 0, 0, 0, 0, 0, 1], counts
    handlers = page.evaluate(
        "() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
        ".filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))"
    )
    assert handlers == []
    # links: the picture, the downloads and the copyable link name this monster, as a path
    for sel, key in (("#monster", "src"), ("#download", "href"), ("#svg", "href")):
        value = page.get_attribute(sel, key) or ""
        assert value.startswith("/monster/"), (sel, value)
        absolute = page.eval_on_selector(sel, f"e => e.{key}")
        assert absolute.startswith(frontend.url + "/monster/"), absolute  # never javascript:
        assert _linked_name(absolute) == (want, "svg" if sel == "#svg" else "png"), absolute
    for sel in ("#download", "#svg"):
        assert SLUG.fullmatch(page.get_attribute(sel, "download") or ""), sel
    url = page.input_value("#url")
    assert url.startswith(frontend.url + "/monster/") and not set(url) & set("<>\"' \n")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_never_execute_and_show_as_text(
    watched: tuple[Page, Alarms], frontend: ServiceProcess, payload: str
) -> None:
    page, alarms = watched
    base = frontend.url

    # 1. the plain form GET (what a shared link opens)
    page.goto(f"{base}/?name={quote(payload, safe='')}&size=128")
    _monster_loaded(page)
    alarms.check(page, "GET /?name=")
    check_page_shows(page, payload, frontend)

    # 2. the copyable link: what reaches the clipboard is the encoded address, nothing more
    page.click("#copy")
    page.wait_for_function("() => document.getElementById('status').textContent !== ''")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.input_value("#url"), copied
    assert _linked_name(copied) == (shown(payload), "png"), copied
    alarms.check(page, "copy link")

    # 3. typed into the form: app.js updates the page in place
    page.fill("#name", "someone else")
    page.click("button[type=submit]")
    page.fill("#name", payload)
    page.select_option("#size", "80")
    page.click("button[type=submit]")
    page.wait_for_function("() => document.getElementById('monster').width === 80")
    _monster_loaded(page)
    alarms.check(page, "typed")
    typed = payload.strip()  # app.js trims with JavaScript's trim()
    assert page.get_attribute("#monster", "alt") == f"The monster of {typed}"
    assert parse_qs(urlsplit(page.url).query)["name"] == [typed]  # the address bar
    for sel in ("#download", "#svg"):
        assert SLUG.fullmatch(page.get_attribute(sel, "download") or ""), sel
    src = page.eval_on_selector("#monster", "e => e.src")
    assert src.startswith(base + "/monster/") and _linked_name(src) == (typed, "png")

    # 4. the course's form POST, name and size fields
    with page.expect_navigation():
        page.evaluate(
            """([name, size]) => {
          const f = document.createElement('form'); f.method = 'post'; f.action = '/';
          for (const [k, v] of [['name', name], ['size', size]]) {
            const i = document.createElement('input'); i.name = k; i.value = v; f.append(i);
          }
          document.body.append(f); f.submit();
        }""",
            [payload, payload],
        )
    _monster_loaded(page)
    alarms.check(page, "POST /")
    check_page_shows(page, payload, frontend)
    assert page.input_value("#size") == "256"  # a size it does not offer: the default

    # 5. the size field of the plain GET: a JSON refusal, shown as text
    response = page.goto(f"{base}/?name=x&size={quote(payload, safe='')}")
    assert response is not None and response.status == 422
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    alarms.check(page, "GET /?size=")

    # 6. the JSON API: the name inside JSON, inert
    response = page.goto(f"{base}/api/monsters/{quote(payload, safe='')}")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.body())["name"] == shown(payload)
    alarms.check(page, "GET /api/monsters/")

    # 7. a JSON error that echoes a parameter
    response = page.goto(f"{base}/monster/x?size={quote(payload, safe='')}")
    assert response is not None and response.status == 422
    assert json.loads(response.body())["got"] == payload[:64] + ("…" if len(payload) > 64 else "")
    alarms.check(page, "GET /monster/x?size=")

    # 8. the SVG opened on its own (a document that could run script): never the name
    response = page.goto(f"{base}/monster/{quote(payload, safe='')}.svg")
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "image/svg+xml"
    svg = response.body().decode("utf-8")
    assert shown(payload) not in svg and "<script" not in svg and "onload" not in svg
    for word in ("__xss", "__pwned", "alert", "javascript"):
        assert word not in svg
    alarms.check(page, "the SVG")


@pytest.mark.parametrize("csp", [False, True])
@pytest.mark.parametrize(
    "payload", [PAYLOADS[0], PAYLOADS[1], PAYLOADS[9], PAYLOADS[12], PAYLOADS[19]]
)
def test_the_alarms_ring_on_a_page_that_does_echo_raw(
    watched: tuple[Page, Alarms], frontend: ServiceProcess, payload: str, csp: bool
) -> None:
    """The control: the same payloads echoed raw by a deliberately broken page on the same
    origin, with and without the app's CSP. Every one must be caught, or the checks above
    prove nothing."""
    page, alarms = watched
    headers = {"content-type": "text/html"}
    if csp:
        headers["content-security-policy"] = (
            "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'"
        )
    page.route(
        f"{frontend.url}/__vulnerable",
        lambda route: route.fulfill(
            status=200, headers=headers, body=f"<!doctype html><p>{payload}</p>"
        ),
    )
    page.goto(f"{frontend.url}/__vulnerable")
    page.wait_for_timeout(300)  # let an onerror/onload or a stylesheet request happen
    with pytest.raises(AssertionError):
        alarms.check(page, "control")
    assert alarms.fired, payload
