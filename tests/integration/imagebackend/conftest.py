from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ServiceProcess, serve


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    tmp: Path = tmp_path_factory.mktemp("imagebackend")
    with serve("imagebackend", tmp) as proc:
        yield proc


@pytest.fixture
def client(backend: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend.url, timeout=10.0) as c:
        yield c
