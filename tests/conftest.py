"""What every test shares: an environment the services' settings cannot pick anything up
from, and both services in this process (`create_app` + `httpx.ASGITransport`), the default
way to talk to them. Served processes (tests/servers.py) are for lifecycle, reliability and
end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from monsterstack.core.health import DRAIN_FLAG_ENV
from monsterstack.frontend.app import create_app as create_frontend
from monsterstack.frontend.settings import FrontendSettings
from monsterstack.imagebackend.app import create_app as create_imagebackend
from monsterstack.imagebackend.settings import ImagebackendSettings

SETTINGS = (FrontendSettings, ImagebackendSettings)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable the settings read comes from the caller's shell (a REDIS_URL exported
    there would point every in-process frontend at it)."""
    for settings in SETTINGS:
        for name in settings.model_fields:
            monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv(DRAIN_FLAG_ENV, raising=False)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


@pytest.fixture
async def imagebackend_client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_imagebackend(ImagebackendSettings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://imagebackend"
    ) as client:
        yield client


@pytest.fixture
async def frontend_client() -> AsyncIterator[httpx.AsyncClient]:
    """The frontend without Redis or rate limit, asking an in-process imagebackend through
    its real httpx client."""
    backend = httpx.ASGITransport(create_imagebackend(ImagebackendSettings()))
    app = create_frontend(FrontendSettings(rate_limit=0), backend_transport=backend)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://frontend"
    ) as client:
        yield client
