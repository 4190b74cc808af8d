"""The frontend as assembled by create_app, in process: the parts it is handed are the ones
it uses, and a cache miss computes the request's identity once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from monsterstack.core import identity, monster_request
from monsterstack.core.monster_request import etag
from monsterstack.frontend.app import create_app
from monsterstack.frontend.cache import MemoryCache
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.generator import Format, Style, name_digest
from monsterstack.imagebackend.app import create_app as create_imagebackend
from monsterstack.imagebackend.settings import ImagebackendSettings


class CountingCache(MemoryCache):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.lookups = 0

    def get(self, key: str) -> bytes | None:
        self.lookups += 1
        return super().get(key)


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://frontend")


async def test_an_injected_empty_cache_is_the_one_used() -> None:
    hot = MemoryCache(1 << 20)
    backend = httpx.ASGITransport(create_imagebackend(ImagebackendSettings()))
    app = create_app(FrontendSettings(rate_limit=0), hot=hot, backend_transport=backend)
    async with client(app) as http:
        first = await http.get("/monster/injected")
    assert first.status_code == 200
    assert len(hot) == 1 and first.content in hot._items.values()


def counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls = [0]
    real: Callable[..., Any] = getattr(module, name)

    def counting(*args: Any, **kw: Any) -> Any:
        calls[0] += 1
        return real(*args, **kw)

    monkeypatch.setattr(module, name, counting)
    return calls


async def test_one_miss_parses_normalises_and_hashes_the_name_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "Émile identity"
    tag = etag(name, 80, 80, Format.PNG, Style.SMOOTH, digest=name_digest(name))

    def backend(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"png", headers={"etag": tag})

    hot = CountingCache(1 << 20)
    app = create_app(
        FrontendSettings(rate_limit=0), hot=hot, backend_transport=httpx.MockTransport(backend)
    )
    monster_request._parse_memo.cache_clear()
    hashes = counted(monkeypatch, identity, "name_digest")
    normalised = counted(monkeypatch, monster_request, "normalise_name")
    async with client(app) as http:
        miss = await http.get("/monster/%C3%89mile%20identity")
        assert (miss.status_code, miss.headers["etag"]) == (200, tag)
        assert (hashes[0], normalised[0], hot.lookups) == (1, 1, 1)
        hit = await http.get("/monster/%C3%89mile%20identity")
    # The hit: the identity remembered, so no parse and no hash; one hot-tier lookup.
    assert (hit.status_code, hit.content) == (200, b"png")
    assert (hashes[0], normalised[0], hot.lookups) == (1, 1, 2)
