"""/monster through the cache: exact bytes, Redis keys without names, coalesced misses."""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import redis

from monsterstack.generator import ALGORITHM_VERSION, render

from .conftest import Stack


def _backend_monster_requests(stack: Stack) -> int:
    text = httpx.get(f"{stack.backend.url}/metrics").text
    return sum(
        int(float(m))
        for m in re.findall(
            r'http_requests_total\{[^}]*route="/monster/\{name\}"[^}]*\} (\S+)', text
        )
    )


def test_pictures_are_the_generators_bytes_and_land_in_redis(
    client: httpx.Client, stack: Stack
) -> None:
    name = "cache me — 李"
    r = client.get("/monster/" + httpx.URL("/" + name).raw_path.decode()[1:] + "?size=96")
    assert r.status_code == 200 and r.content == render(name, 96)
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    keys = [k.decode() for k in redis.Redis(port=stack.redis.port).keys("monster:*")]
    digest = hashlib.sha256(name.encode()).hexdigest()
    assert f"monster:v{ALGORITHM_VERSION}:smooth:png:96x96:{digest}" in keys
    assert not any("cache me" in k or "李" in k for k in keys)  # names never in keys


def test_a_hit_does_not_call_the_backend(client: httpx.Client, stack: Stack) -> None:
    client.get("/monster/hit-me")
    before = _backend_monster_requests(stack)
    for _ in range(5):
        assert client.get("/monster/hit-me").status_code == 200
    assert _backend_monster_requests(stack) == before


def test_concurrent_misses_make_one_backend_request(stack: Stack) -> None:
    before = _backend_monster_requests(stack)
    url = f"{stack.frontend.url}/monster/stampede?size=512&format=webp"
    with ThreadPoolExecutor(16) as pool:
        bodies = list(pool.map(lambda _: httpx.get(url, timeout=20).content, range(16)))
    assert len(set(bodies)) == 1 and bodies[0] == render("stampede", 512, "webp")
    assert _backend_monster_requests(stack) - before == 1


def test_etag_and_304(client: httpx.Client) -> None:
    tag = client.get("/monster/tagged").headers["etag"]
    assert client.get("/monster/tagged", headers={"If-None-Match": tag}).status_code == 304


def test_bad_input_is_refused_like_the_imagebackend(client: httpx.Client) -> None:
    for path, field in [
        ("/monster/x?size=9", "size"),
        ("/monster/%FF", "name"),
        ("/monster/x?format=bmp", "format"),
    ]:
        r = client.get(path)
        assert 400 <= r.status_code < 500 and r.json()["field"] == field


def test_metrics_count_cache_results_and_backend_calls(client: httpx.Client) -> None:
    client.get("/monster/metered")
    client.get("/monster/metered")
    text = client.get("/metrics").text
    assert re.search(r'monsterstack_cache_lookups_total\{result="miss"\} [1-9]', text)
    assert re.search(r'monsterstack_cache_lookups_total\{result="hit_memory"\} [1-9]', text)
    assert re.search(
        r'monsterstack_backend_request_duration_seconds_count\{outcome="ok"\} [1-9]', text
    )
    assert 'route="/monster/{name}"' in text and "metered" not in text
