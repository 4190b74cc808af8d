"""Two visibly different releases of one image: the version in the header, /version (with the
commit and theme), the page's badge, and monsters recoloured by THEME, cached under their own
key. Real services on 127.0.0.1, as the rollout demos run them (VERSION_LABEL, THEME)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monsterstack import __version__
from monsterstack.generator import ALGORITHM_VERSION, render
from tests.servers import ServiceProcess, serve

V2 = {"VERSION_LABEL": "2.0.0", "THEME": "cool", "GIT_COMMIT": "0123abc"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with serve("imagebackend", tmp_path_factory.mktemp("v1-backend")) as proc:
        yield proc


@pytest.fixture(scope="module")
def frontend_v2(
    backend: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    env = {**V2, "IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}"}
    with serve("frontend", tmp_path_factory.mktemp("v2-frontend"), env) as proc:
        yield proc


def _backend_renders(backend: ServiceProcess) -> int:
    text = httpx.get(f"{backend.url}/metrics").text
    found = re.findall(r'http_requests_total\{[^}]*route="/monster/\{name\}"[^}]*\} (\S+)', text)
    return sum(int(float(v)) for v in found)


def test_v1_reports_the_package_version_and_an_unknown_commit(backend: ServiceProcess) -> None:
    r = httpx.get(f"{backend.url}/version")
    assert r.json() == {
        "service": "imagebackend",
        "version": __version__,
        "algorithm": ALGORITHM_VERSION,
        "commit": "unknown",
        "theme": "classic",
    }
    assert r.headers["x-monsterstack-version"] == __version__


def test_v2_says_so_in_the_header_version_json_and_page_badge(frontend_v2: ServiceProcess) -> None:
    about = httpx.get(f"{frontend_v2.url}/version")
    assert about.json() == {
        "service": "frontend",
        "version": "2.0.0",
        "algorithm": ALGORITHM_VERSION,
        "commit": "0123abc",
        "theme": "cool",
    }
    page = httpx.get(f"{frontend_v2.url}/?name=rollout")
    assert page.headers["x-monsterstack-version"] == "2.0.0"
    assert "2.0.0" in page.text
    metrics = httpx.get(f"{frontend_v2.url}/metrics").text
    assert re.search(r'http_requests_total\{[^}]*version="2\.0\.0"', metrics)


def test_v2_monsters_are_recoloured_through_a_v1_backend_and_cached(
    frontend_v2: ServiceProcess, backend: ServiceProcess
) -> None:
    url = f"{frontend_v2.url}/monster/rollout?size=96"
    first = httpx.get(url)
    assert first.status_code == 200
    assert first.content == render("rollout", 96, theme="cool") != render("rollout", 96)
    assert "-cool-" in first.headers["etag"]
    before = _backend_renders(backend)
    again = httpx.get(url)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert _backend_renders(backend) == before  # the themed picture was cached, not re-asked
    classic = httpx.get(f"{url}&theme=classic")
    assert classic.content == render("rollout", 96)


def test_a_themed_backend_recolours_direct_clients(tmp_path: Path) -> None:
    with serve("imagebackend", tmp_path, {"THEME": "warm"}) as warm:
        r = httpx.get(f"{warm.url}/monster/dnmonster-client?size=64")
        assert r.content == render("dnmonster-client", 64, theme="warm")
        assert "-warm-" in r.headers["etag"]
        assert httpx.get(f"{warm.url}/version").json()["theme"] == "warm"


def test_a_bad_theme_stops_the_service_naming_the_variable(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "monsterstack.cli", "serve", "imagebackend", "--port", "1"],
        env={"THEME": "neon", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "THEME" in done.stderr
