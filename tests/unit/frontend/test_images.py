"""The cache layer over the backend client, with the backend replaced by an httpx transport
(a unit test of the layer above the I/O edge; the real backend is in tests/integration)."""

from __future__ import annotations

import httpx
import pytest

from monsterstack.core.metrics import HttpMetrics
from monsterstack.core.monster_request import parse
from monsterstack.frontend.backend import BackendUnavailable, ImageBackend
from monsterstack.frontend.cache import MemoryCache
from monsterstack.frontend.images import CacheMetrics, Images
from monsterstack.generator import ALGORITHM_VERSION, Style


def _images(
    handler: httpx.MockTransport, cache: MemoryCache | None = None
) -> tuple[Images, MemoryCache]:
    cache = MemoryCache(1 << 20) if cache is None else cache
    backend = ImageBackend("http://backend", 1.0, transport=handler)
    return Images(cache, None, backend, CacheMetrics(HttpMetrics("frontend", "t", 1))), cache


async def test_a_response_with_the_wrong_etag_is_served_but_never_cached() -> None:
    req = parse(b"/monster/x", b"", Style.SMOOTH)
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, content=b"other", headers={"etag": '"m9-x"'})
    )
    images, cache = _images(transport)
    body, tag = await images.fetch(req)
    assert (body, tag) == (b"other", '"m9-x"')
    assert cache.get(req.key) is None


async def test_the_right_etag_is_cached() -> None:
    req = parse(b"/monster/x", b"", Style.SMOOTH)
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, content=b"png", headers={"etag": req.etag})
    )
    images, cache = _images(transport)
    assert await images.fetch(req) == (b"png", req.etag)
    assert cache.get(req.key) == b"png"


@pytest.mark.parametrize("status", [500, 503, 404, 422])
async def test_backend_errors_are_unavailable_and_not_cached(status: int) -> None:
    req = parse(b"/monster/x", b"", Style.SMOOTH)
    images, cache = _images(httpx.MockTransport(lambda r: httpx.Response(status, content=b"err")))
    with pytest.raises(BackendUnavailable):
        await images.fetch(req)
    assert len(cache) == 0


async def test_the_backend_is_asked_for_exactly_the_requested_picture() -> None:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return httpx.Response(200, content=b"x")

    req = parse(b"/monster/a%2Fb%20c.svg", b"width=40&height=30&style=pixel", Style.SMOOTH)
    images, _ = _images(httpx.MockTransport(handler))
    await images.fetch(req)
    url = seen[0].url
    assert url.raw_path.startswith(b"/monster/a%2Fb%20c.svg?")  # the suffix: one picture
    assert dict(url.params) == {
        "width": "40",
        "height": "30",
        "format": "svg",
        "style": "pixel",
        "theme": "classic",
    }


def test_cache_keys_hold_the_version_parameters_and_digest_only() -> None:
    req = parse(b"/monster/Secret%20Name", b"size=64", Style.SMOOTH)
    key = req.key
    assert key.startswith(f"monster:v{ALGORITHM_VERSION}:smooth:png:64x64:") and key.endswith(
        req.digest
    )
    assert "Secret" not in key


async def test_misses_beyond_the_concurrency_cap_are_refused_at_once_not_queued() -> None:
    import asyncio

    from monsterstack.frontend.images import BackendBusy

    release = asyncio.Event()
    started = 0

    async def slow(r: httpx.Request) -> httpx.Response:
        nonlocal started
        started += 1
        await release.wait()
        return httpx.Response(200, content=b"png")

    backend = ImageBackend("http://backend", 5.0, transport=httpx.MockTransport(slow))
    images = Images(MemoryCache(1 << 20), None, backend, CacheMetrics(HttpMetrics("f", "t", 1)), 2)
    reqs = [parse(f"/monster/n{i}".encode(), b"", Style.SMOOTH) for i in range(3)]
    first = [asyncio.create_task(images.fetch(r)) for r in reqs[:2]]
    while started < 2:
        await asyncio.sleep(0.001)
    with pytest.raises(BackendBusy):  # a third distinct miss: refused without waiting
        await asyncio.wait_for(images.fetch(reqs[2]), 0.5)
    # A miss for a name already in flight joins that flight: it is not refused.
    joined = asyncio.create_task(images.fetch(reqs[0]))
    release.set()
    assert [b for b, _ in await asyncio.gather(*first, joined)] == [b"png"] * 3
    assert images.metrics.rejected._value.get() == 1
    # Once the flights land, new misses go through again.
    assert (await images.fetch(reqs[2]))[0] == b"png"
