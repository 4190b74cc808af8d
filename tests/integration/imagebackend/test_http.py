"""The imagebackend over real HTTP: a granian server on an ephemeral 127.0.0.1 port."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import httpx
import pytest
from PIL import Image

from monsterstack import __version__
from monsterstack.generator import ALGORITHM_VERSION, render


def _png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


def test_a_dnmonster_client_gets_a_png_of_the_size_it_asks(client: httpx.Client) -> None:
    r = client.get("/monster/John%20Doe?size=100")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert _png_size(r.content) == (100, 100)
    assert r.content == render("John Doe", 100)  # exactly the generator's bytes


def test_no_query_string_gives_the_default_80px_png(client: httpx.Client) -> None:
    r = client.get("/monster/gravatar-style")
    assert r.status_code == 200 and _png_size(r.content) == (80, 80)


def test_dnmonster_width_and_height_make_a_centred_non_square_canvas(client: httpx.Client) -> None:
    r = client.get("/monster/wide?width=200&height=100")
    assert r.status_code == 200 and _png_size(r.content) == (200, 100)
    assert r.content == render("wide", width=200, height=100)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/monster/x.svg", "image/svg+xml"),
        ("/monster/x.webp", "image/webp"),
        ("/monster/x.png", "image/png"),
        ("/monster/x?format=svg", "image/svg+xml"),
        ("/monster/x?format=webp&style=pixel", "image/webp"),
    ],
)
def test_formats_by_suffix_or_parameter(client: httpx.Client, path: str, media_type: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type


def test_style_parameter_and_default(client: httpx.Client) -> None:
    pixel = client.get("/monster/styled?style=pixel").content
    smooth = client.get("/monster/styled?style=smooth").content
    default = client.get("/monster/styled").content
    assert pixel == render("styled", style="pixel")
    assert default == smooth != pixel


def test_names_with_slashes_dots_and_unicode(client: httpx.Client) -> None:
    for name in ["a/b", "../etc/passwd", "李小龙", "🦖", "e.mail@example.org", "%41", " "]:
        r = client.get("/monster/" + quote(name, safe=""))
        assert r.status_code == 200, name
        assert r.content == render(name), name
    assert client.get("/monster/a/b").content == render("a/b")  # unencoded slash: same name


def test_caching_headers_and_conditional_get(client: httpx.Client) -> None:
    r = client.get("/monster/cached?size=64")
    tag = r.headers["etag"]
    assert re.fullmatch(rf'"m{ALGORITHM_VERSION}-smooth-png-64x64-[0-9a-f]{{32}}"', tag)
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get("/monster/cached?size=64", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/monster/cached?size=65", headers={"If-None-Match": tag})
    assert other.status_code == 200


def test_head_gives_headers_without_a_body(client: httpx.Client) -> None:
    r = client.head("/monster/head?size=80")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == len(render("head", 80))


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/monster/x?size=abc", 422, "size"),
        ("/monster/x?size=15", 422, "size"),
        ("/monster/x?size=1025", 422, "size"),
        ("/monster/x?size=1e3", 422, "size"),
        ("/monster/x?width=0", 422, "width"),
        ("/monster/x?height=99999999999999999999", 422, "height"),
        ("/monster/x?format=gif", 422, "format"),
        ("/monster/x.svg?format=png", 422, "format"),
        ("/monster/x?style=cubist", 422, "style"),
        ("/monster/" + "a" * 513, 422, "name"),
        ("/monster/" + "%C3%A9" * 257, 422, "name"),
        ("/monster/%FF%FE", 400, "name"),
        ("/monster/ok%C3", 400, "name"),
    ],
)
def test_bad_input_gets_a_4xx_json_naming_the_field_and_the_fix(
    client: httpx.Client, path: str, status: int, field: str
) -> None:
    r = client.get(path)
    assert r.status_code == status
    body = r.json()
    assert body["field"] == field
    assert field in body["message"]  # the message says what the field must be
    assert r.headers["x-monsterstack-version"]


def test_unknown_routes_and_methods_are_json_4xx(client: httpx.Client) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.post("/monster/x")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


def test_health_version_and_header_on_every_response(client: httpx.Client) -> None:
    for path in ["/livez", "/readyz", "/healthz", "/version", "/", "/monster/h", "/metrics"]:
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["x-monsterstack-version"], path
    assert client.get("/readyz").json()["status"] == "ready"
    assert client.get("/version").json()["algorithm"] == ALGORITHM_VERSION


def test_metrics_use_route_templates_and_time_renders_by_format(client: httpx.Client) -> None:
    client.get("/monster/metric-one?format=svg")
    client.get("/monster/metric-two.webp")
    client.get("/monster/x?size=abc")
    text = client.get("/metrics").text
    assert 'route="/monster/{name}"' in text
    assert "metric-one" not in text and "metric-two" not in text  # never the raw path
    assert re.search(r'http_requests_total\{[^}]*code="422"[^}]*route="/monster/\{name\}"', text)
    assert re.search(r'monsterstack_render_duration_seconds_count\{format="svg"', text)
    assert re.search(r'monsterstack_render_duration_seconds_count\{format="webp"', text)
    assert re.search(rf'monsterstack_build_info\{{algorithm="{ALGORITHM_VERSION}"', text)
    assert "_created" not in text
    assert re.search(rf'http_requests_total\{{[^}}]*version="{__version__}"', text)


def test_openapi_documents_the_monster_route(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"] for p in spec["paths"]["/monster/{name}"]["get"]["parameters"]}
    assert {"name", "size", "width", "height", "format", "style"} <= params
