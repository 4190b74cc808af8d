from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.servers import RedisProcess, ServiceProcess, redis_server, serve


@dataclass
class Stack:
    redis: RedisProcess
    backend: ServiceProcess
    frontend: ServiceProcess


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    with (
        redis_server(tmp) as redis,
        serve("imagebackend", tmp) as backend,
        serve(
            "frontend",
            tmp,
            {
                "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}",
                "REDIS_URL": redis.url,
                "APP_TITLE": "Monstres de test",
            },
        ) as frontend,
    ):
        yield Stack(redis, backend, frontend)


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.frontend.url, timeout=10.0) as c:
        yield c
