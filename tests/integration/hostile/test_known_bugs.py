"""Bugs the hostile-input tests found in the frontend, each pinned with the smallest input that
showed it: now regression tests. Each test states the right behaviour; the comment above it
says what happened before the fix."""

from __future__ import annotations

import httpx
import pytest

from monsterstack.generator import MAX_NAME_BYTES, Format

from .checks import Page, check_error, check_monster, check_page
from .strategies import expect

Clients = dict[str, httpx.AsyncClient]


# Was frontend bug 1: backend.py asks for /monster/.. (httpx resolves it to /): 200 image/png.
async def test_a_name_dot_dot_is_its_monster(clients: Clients) -> None:
    r = await clients["frontend"].get("/monster/%2E%2E")
    check_monster(r, expect("..", []))


# Was frontend bug 1: backend.py asks for /monster/. (httpx resolves it to /monster/): 503.
async def test_a_name_dot_is_its_monster(clients: Clients) -> None:
    r = await clients["frontend"].get("/monster/%2E")
    check_monster(r, expect(".", []))


# Was frontend bug 1: backend.py asks for /monster/bob.svg?format=png: 422 there, 503 here.
async def test_a_name_ending_in_a_format_is_its_monster(clients: Clients) -> None:
    r = await clients["frontend"].get("/monster/bob.svg.png")
    check_monster(r, expect("bob.svg.png", []))


# Was frontend bug 1: backend.py asks for /monster/bob.svg?format=svg: bob's SVG is served.
async def test_a_name_ending_in_its_own_format_is_its_monster(clients: Clients) -> None:
    r = await clients["frontend"].get("/monster/bob.svg.svg?format=svg&size=80")
    check_monster(r, expect("bob.svg.svg", [("format", "svg"), ("size", "80")]))


# Was frontend bug 2: api_monster decodes %FF to U+FFFD and answers 200 for that name.
async def test_the_json_api_refuses_bytes_that_are_not_utf8(clients: Clients) -> None:
    r = await clients["frontend"].get("/api/monsters/a%FFb")
    body = check_error(r)
    assert r.status_code == 400 and body is not None and body["field"] == "name"


# Was frontend bug 3: {name:path} does not match a newline: 404.
async def test_the_json_api_answers_a_name_with_a_newline(clients: Clients) -> None:
    r = await clients["frontend"].get("/api/monsters/a%0Ab")
    assert r.status_code == 200 and r.json()["name"] == "a\nb"


# Was frontend bug 4: a name over 512 bytes gets an HTML 422 that the OpenAPI does not declare.
async def test_a_long_name_on_the_page_is_answered_as_documented(clients: Clients) -> None:
    name = "a" * (MAX_NAME_BYTES + 1)  # within the documented maxLength of 2048
    r = await clients["frontend"].get(f"/?name={name}")
    spec = (await clients["frontend"].get("/openapi.json")).json()
    documented = spec["paths"]["/"]["get"]["responses"].get(str(r.status_code), {})
    assert r.headers["content-type"].split(";")[0] in documented.get("content", {}), (
        r.status_code,
        documented,
    )


@pytest.mark.parametrize("name", ["..", ".", "bob.svg", "bob.png"])
# Was frontend bug 5: the page links /monster/{name}?size= with no suffix.
async def test_the_page_links_the_monster_of_its_name(clients: Clients, name: str) -> None:
    r = await clients["frontend"].get("/", params={"name": name})
    check_page(r, name)  # the rest of the page; its links are checked here
    page = Page(r.text)
    for id_, key, fmt in (("monster", "src", Format.PNG), ("svg", "href", Format.SVG)):
        path, _, _ = page.by_id(id_)[key].partition("?")
        segment = path.removeprefix("/monster/")
        assert segment not in (".", "..")
        linked = expect(httpx.URL(path).path.removeprefix("/monster/"), [])
        assert (linked.name, linked.fmt) == (name, fmt)


# Was frontend bug 6: index_post calls int() on 4301+ digits: ValueError, 500.
async def test_a_form_size_of_many_digits_gives_the_page(clients: Clients) -> None:
    r = await clients["frontend"].post(
        "/",
        content="name=x&size=" + "9" * 4400,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    check_page(r, "x")


@pytest.mark.parametrize("prefix", ["/api%2Fmonsters/", "/%61pi/monsters/", "/api/monsters%2F"])
# Was frontend bug 7: api_monster cut the raw path at the literal b'/api/monsters/'; an
# encoded prefix (which the router matches) gave the name ''.
async def test_the_json_api_reads_the_name_after_an_encoded_prefix(
    clients: Clients, prefix: str
) -> None:
    r = await clients["frontend"].get(prefix + "bob")
    assert r.status_code == 200 and r.json()["name"] == "bob", r.text
