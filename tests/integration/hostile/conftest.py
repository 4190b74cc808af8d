"""Hostile input against both services: the hypothesis profiles, the apps in process (the
fast properties, through httpx.ASGITransport) and as real served processes (fewer examples,
raw sockets, schemathesis)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.hostile import strategies  # registers and loads the profiles
from tests.servers import ServiceProcess, frontend_stack

# Rate limiting off: hostile input is what is measured here, not the request rate.
NO_RATE_LIMIT = {"RATE_LIMIT": "0"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The full profile runs ten times the examples: more than the suite's 120 s per test."""
    if strategies.PROFILE == "full":
        for item in items:
            if "hostile" in item.nodeid:
                item.add_marker(pytest.mark.timeout(1800))


@pytest.fixture
async def clients(
    imagebackend_client: httpx.AsyncClient, frontend_client: httpx.AsyncClient
) -> dict[str, httpx.AsyncClient]:
    """Both services in this process (tests/conftest.py): the frontend asks an imagebackend
    through its real client (httpx), over an ASGI transport instead of a socket."""
    return {"imagebackend": imagebackend_client, "frontend": frontend_client}


@dataclass
class Served:
    imagebackend: ServiceProcess
    frontend: ServiceProcess

    def url(self, service: str) -> str:
        process: ServiceProcess = getattr(self, service)
        return process.url


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Both services as real processes on 127.0.0.1, the frontend using the imagebackend."""
    tmp = tmp_path_factory.mktemp("hostile")
    with frontend_stack(tmp, NO_RATE_LIMIT) as (backend, front):
        yield Served(backend, front)
