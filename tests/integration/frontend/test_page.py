"""The page and the JSON API, over real HTTP, with a real imagebackend and Redis behind."""

from __future__ import annotations

import re

import httpx
import markupsafe
import pytest

from .conftest import Stack

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)",
    "</textarea><svg/onload=alert(1)>",
    "{{7*7}}",
]


def test_the_course_page_is_kept(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert 'value="John Doe"' in html  # the default name
    assert "/monster/John%20Doe.png?size=" in html  # its monster
    assert "Container info" in html and "Served by" in html and "Visits" in html


def test_visits_are_counted_in_redis(client: httpx.Client) -> None:
    def visits() -> int:
        html = client.get("/").text
        return int(re.search(r'<dd id="visits">(\d+)</dd>', html)[1])  # type: ignore[index]

    first = visits()
    assert visits() == first + 1


def test_the_course_form_post_and_the_plain_get(client: httpx.Client) -> None:
    posted = client.post("/", data={"name": "Ada Lovelace"})
    assert posted.status_code == 200 and "/monster/Ada%20Lovelace.png?size=" in posted.text
    got = client.get("/", params={"name": "Ada Lovelace", "size": "128"})
    assert "/monster/Ada%20Lovelace.png?size=128" in got.text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_names_are_echoed_inert(client: httpx.Client, payload: str) -> None:
    escaped = str(markupsafe.escape(payload))
    for r in (client.get("/", params={"name": payload}), client.post("/", data={"name": payload})):
        assert r.status_code == 200
        page = r.text
        assert f'value="{escaped}"' in page  # echoed, escaped, inside the attribute
        if escaped != payload:
            assert payload not in page  # never raw
        # URLs built from the name are relative paths with the name percent-encoded.
        assert 'href="javascript:' not in page and 'src="javascript:' not in page
        assert re.findall(r'(?:src|href)="([^"]*)"', page) == [
            u for u in re.findall(r'(?:src|href)="([^"]*)"', page) if u.startswith("/")
        ]


def test_security_headers(client: httpx.Client) -> None:
    headers = client.get("/").headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_static_assets_are_served(client: httpx.Client) -> None:
    assert "addEventListener" in client.get("/static/app.js").text
    assert client.get("/static/app.css").status_code == 200


def test_odd_form_values_never_fail(client: httpx.Client) -> None:
    for data in ({"name": "x", "size": "²"}, {"name": "x", "size": "-1"}, {"size": "80"}, {}):
        r = client.post("/", data=data)
        assert r.status_code == 200, data
    r = client.post(
        "/", content=b"name=%FF", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 400 and r.json()["field"] == "name"


def test_oversized_form_is_refused(client: httpx.Client) -> None:
    r = client.post(
        "/",
        content=b"name=" + b"a" * 10000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and r.json()["error"] == "too_large"


def test_docs_are_titled_by_app_title(client: httpx.Client) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "Monstres de test"
    assert "Monstres de test" in client.get("/docs").text


def test_json_api(client: httpx.Client, stack: Stack) -> None:
    info = client.get("/api/info").json()
    assert info["cache"] == "memory+redis" and info["hostname"]
    monster = client.get("/api/monsters/Émile").json()
    assert monster["name"] == "Émile"
    assert monster["images"]["svg"] == "/monster/%C3%89mile.svg"
    assert client.get(monster["images"]["svg"]).headers["content-type"] == "image/svg+xml"


def test_health(client: httpx.Client) -> None:
    assert client.get("/livez").status_code == 200
    r = client.get("/healthz", headers={"Accept": "application/json"})
    assert r.status_code == 200
    body = r.json()
    assert body["ready"] is True
    assert body["dependencies"]["imagebackend"]["status"] == "up"
    assert body["dependencies"]["cache"]["status"] == "up"
    assert client.get("/readyz").json()["status"] == "ready"
