"""Hostile input over HTTP, both apps in process (httpx.ASGITransport): every answer is an
allowed status (never 5xx), refusals are JSON naming a field that is really wrong, and a 200
carries exactly the generator's bytes for the parameters the README's rules give."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from monsterstack.core.monster_request import etag
from monsterstack.generator import MAX_NAME_BYTES, Format, Style

from .checks import (
    check_error,
    check_monster,
    check_page,
)
from .strategies import (
    MAX_URL,
    EncodedName,
    encoded_names,
    encoded_queries,
    expect,
    names,
    norm,
    runs,
    sizes,
)

SERVICES = ["imagebackend", "frontend"]
# hypothesis says so when it prints a 10 KB name; that is what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@pytest.mark.parametrize("service", SERVICES)
@runs(400)
@given(name=encoded_names(), query=encoded_queries(), head=st.booleans())
async def test_monster_answers_follow_the_rules(
    clients: dict[str, httpx.AsyncClient],
    service: str,
    name: EncodedName,
    query: tuple[str, list[tuple[str, str]] | None],
    head: bool,
) -> None:
    raw_query, pairs = query
    want = expect(name.text, pairs)
    url = f"/monster/{name.raw}" + (f"?{raw_query}" if raw_query else "")
    assume(len(url) < MAX_URL)  # longer: 414 from a real server (test_served.py)
    r = await clients[service].request("HEAD" if head else "GET", url)
    check_monster(r, want)
    if r.status_code == 200:  # the client's copy is current: 304, no body
        again = await clients[service].get(url, headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == r.headers["etag"]


@runs(300)
@given(name=encoded_names())
async def test_the_json_api_names_the_same_monster(
    clients: dict[str, httpx.AsyncClient], name: EncodedName
) -> None:
    assume(len(name.raw) < MAX_URL - 100)
    r = await clients["frontend"].get(f"/api/monsters/{name.raw}")
    want = expect(name.text, [])
    if not want.ok:
        body = check_error(r)
        assert body is not None and r.status_code == want.problems[body["field"]]
        return
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == want.name
    assert body["etag"] == etag(want.name, 80, 80, want.fmt, Style.SMOOTH)
    for fmt in Format:  # each link names this monster, in that format
        link = body["images"][fmt.value]
        assert link.startswith("/monster/") and "/" not in link.removeprefix("/monster/")
        linked = expect(httpx.URL(link).path.removeprefix("/monster/"), [])
        assert (linked.name, linked.fmt) == (want.name, fmt)


@runs(300)
@given(name=names, size=st.one_of(st.none(), sizes), method=st.sampled_from(["GET", "POST"]))
async def test_the_page_shows_any_name_as_text(
    clients: dict[str, httpx.AsyncClient], name: str, size: str | None, method: str
) -> None:
    fields = {"name": name, **({"size": size} if size is not None else {})}
    encoded = "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items())
    if method == "GET":
        assume(len(encoded) < MAX_URL)
        r = await clients["frontend"].get(f"/?{encoded}")
        size_ok = size is None or (size.isascii() and size.isdigit() and 16 <= int(size) <= 1024)
        # The bounds of GET / (JSON); a size pydantic accepts with a name over 512 bytes gets
        # the page's own HTML 422, which check_page checks.
        refused = r.status_code != 200 and r.headers["content-type"].startswith("application/")
        if len(name) > 2048 or (not size_ok and refused):
            check_error(r)  # (pydantic reads " 80" as 80: refusing it is not required)
            assert r.status_code == 422
            return
    else:
        r = await clients["frontend"].post(
            "/", content=encoded, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        if len(encoded) > 8192:  # the form's bound
            check_error(r)
            assert r.status_code == 413
            return
    check_page(r, name)


@runs(100)
@given(
    size=st.one_of(
        sizes,
        st.integers(4300, 8000).map(lambda n: "9" * n),  # beyond int()'s default digit limit
        st.sampled_from(["", "80", "128", "²", "٨٠", "-1", "0" * 50 + "128"]),
    )
)
async def test_any_form_size_gives_the_page(
    clients: dict[str, httpx.AsyncClient], size: str
) -> None:
    """The form's size field: any value gives the page (a size it does not offer: 256)."""
    body = f"name=x&size={quote(size, safe='')}"
    assume(len(body) <= 8192)
    r = await clients["frontend"].post(
        "/", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    check_page(r, "x")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    "text",
    [
        "a" * MAX_NAME_BYTES,
        "é" * (MAX_NAME_BYTES // 2),
        "中" * (MAX_NAME_BYTES // 3),
        "\U0001f47e" * (MAX_NAME_BYTES // 4),
        "e\u0301" * (MAX_NAME_BYTES // 2),  # 768 bytes as sent, 512 once NFC
        " " * 5000 + "x" + "\u3000" * 1000,  # trimmed to one byte
    ],
)
async def test_names_at_the_limit_are_served(
    clients: dict[str, httpx.AsyncClient], service: str, text: str
) -> None:
    assert len(norm(text).encode("utf-8")) <= MAX_NAME_BYTES
    r = await clients[service].get("/monster/" + quote(text, safe=""))
    check_monster(r, expect(text, []))


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    "text",
    ["a" * (MAX_NAME_BYTES + 1), "\ufb2c" * 86, "é" * 5120, "x" * 10_240, "\U0001f47e" * 2600],
)
async def test_names_over_the_limit_are_refused(
    clients: dict[str, httpx.AsyncClient], service: str, text: str
) -> None:
    r = await clients[service].get("/monster/" + quote(text, safe=""))
    body = check_error(r)
    assert r.status_code == 422 and body is not None and body["field"] == "name"
