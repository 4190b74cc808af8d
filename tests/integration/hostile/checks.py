"""What every answer to hostile input must be, for the in-process and the served tests alike."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx

from monsterstack.core.monster_request import etag
from monsterstack.generator import MAX_NAME_BYTES, render

from .strategies import Expected, expect, norm

# Every status a hostile request may get. 5xx never; 429 never (rate limiting is off here).
ALLOWED = {200, 304, 400, 404, 405, 413, 414, 422}

DEFAULT_NAME = "John Doe"  # the page's name when none is given


def _short(r: httpx.Response) -> str:
    return f"{r.request.method} {str(r.request.url)[:200]} -> {r.status_code} {r.text[:300]!r}"


def check_error(r: httpx.Response) -> dict[str, Any] | None:
    """A refusal: an allowed 4xx with a JSON body that has `error` and `message` (HEAD: no
    body). The body, if any."""
    assert r.status_code in ALLOWED and r.status_code >= 400, _short(r)
    assert r.headers.get("content-type", "").startswith("application/json"), _short(r)
    if r.request.method == "HEAD":
        assert r.content == b""
        return None
    body = r.json()
    assert isinstance(body, dict) and {"error", "message"} <= body.keys(), _short(r)
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    return body


def check_monster(r: httpx.Response, want: Expected) -> None:
    """The answer to GET/HEAD /monster/...: the README's picture, byte for byte, or a refusal
    naming a field that is really wrong, with that field's status."""
    assert r.status_code in ALLOWED, _short(r)
    if not want.ok:
        body = check_error(r)
        if body is None:  # HEAD
            assert r.status_code in set(want.problems.values()), (_short(r), want.problems)
            return
        assert body.get("field") in want.problems, (_short(r), want.problems)
        assert r.status_code == want.problems[body["field"]], (_short(r), want.problems)
        return
    assert r.status_code == 200, (_short(r), want)
    expected = render(
        want.name,
        fmt=want.fmt,
        style=want.style,
        width=want.width,
        height=want.height,
        theme=want.theme,
    )
    assert r.headers["content-type"] == want.fmt.media_type, _short(r)
    tag = etag(want.name, want.width, want.height, want.fmt, want.style, want.theme)
    assert r.headers["etag"] == tag, (_short(r), want)
    assert int(r.headers["content-length"]) == len(expected)
    if r.request.method == "HEAD":
        assert r.content == b""
    else:  # digests, so a mismatch prints two lines rather than two pictures
        got, wanted = hashlib.sha256(r.content).hexdigest(), hashlib.sha256(expected).hexdigest()
        assert got == wanted, (_short(r), want)


def suffixed(name: str) -> bool:
    """A name that ends in a format suffix once the request's own suffix is taken off."""
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in (".png", ".svg", ".webp")


class Page(HTMLParser):
    """The page's elements, as an HTML parser sees them (attribute values unescaped)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def by_id(self, id_: str) -> dict[str, str]:
        found = [a for _, a in self.elements if a.get("id") == id_]
        assert len(found) == 1, (id_, found)
        return found[0]


def check_page(r: httpx.Response, name: str) -> None:
    """The page for `name`: the name shown intact as text in the form and the alt text, inside
    a page whose structure no name can change (one script, the app's; no inline handlers; no
    link or image elsewhere than the app's own paths)."""
    assert r.status_code in (200, 422), _short(r)
    assert r.headers["content-type"].startswith("text/html"), _short(r)
    shown = norm(name) or DEFAULT_NAME
    if len(shown.encode("utf-8")) > MAX_NAME_BYTES:  # the page says so, with the default name
        shown = DEFAULT_NAME
    else:
        assert r.status_code == 200, _short(r)
    page = Page(r.text)  # Python's parser: it keeps CR and NUL as they are (a browser's would not)
    assert page.by_id("name")["value"] == shown
    assert page.by_id("monster")["alt"] == f"The monster of {shown}"
    scripts = [a for tag, a in page.elements if tag == "script"]
    assert [s.get("src", "").split("?")[0] for s in scripts] == ["/static/app.js"]
    for tag, attrs in page.elements:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        assert tag not in ("iframe", "object", "embed", "base", "meta") or (
            tag == "meta" and set(attrs) <= {"charset", "name", "content"}
        )
        for key in ("src", "href", "action"):
            if key in attrs:
                assert attrs[key].startswith("/"), (tag, attrs)
    assert page.by_id("url")["value"] == page.by_id("monster")["src"]
    for id_, key, fmt in (
        ("monster", "src", "png"),
        ("download", "href", "png"),
        ("svg", "href", "svg"),
    ):
        path, _, query = page.by_id(id_)[key].partition("?")
        segment = path.removeprefix("/monster/")
        assert path.startswith("/monster/") and "/" not in segment, (id_, path)
        assert segment not in (".", ".."), (id_, path)  # a browser would resolve it away
        linked = expect(unquote(segment), parse_qsl(query))
        assert linked.ok and (linked.name, linked.fmt.value) == (shown, fmt), (id_, path)
