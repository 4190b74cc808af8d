"""Dependencies failing under the frontend: Redis and the imagebackend degrade it; still ready."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from monsterstack.generator import render
from tests.servers import redis_server, serve


def _ready(url: str) -> dict:  # type: ignore[type-arg]
    return httpx.get(f"{url}/readyz", headers={"Accept": "application/json"}, timeout=5).json()


def test_redis_outage_degrades_and_recovers(tmp_path: Path) -> None:
    with redis_server(tmp_path) as redis, serve("imagebackend", tmp_path) as backend:
        env = {"IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}", "REDIS_URL": redis.url}
        with serve("frontend", tmp_path, env) as front:
            assert httpx.get(f"{front.url}/monster/before").status_code == 200
            redis.kill()
            started = time.monotonic()
            for i in range(20):  # new names: every one is a miss that would want Redis
                r = httpx.get(f"{front.url}/monster/during-{i}", timeout=5)
                assert r.status_code == 200 and r.content == render(f"during-{i}")
            assert time.monotonic() - started < 10  # no timeout per request
            state = _ready(front.url)
            assert state["ready"] is True
            assert state["dependencies"]["cache"]["status"] == "degraded"
            assert "not counted" in httpx.get(f"{front.url}/").text
            redis.restart()
            time.sleep(2.5)  # the circuit breaker retries after 2 s
            assert _ready(front.url)["dependencies"]["cache"]["status"] == "up"
            httpx.get(f"{front.url}/monster/after")
            import redis as redis_client

            assert redis_client.Redis(port=redis.port).keys("monster:*")  # used again


def test_imagebackend_outage_is_a_clear_503_and_still_ready_then_recovers(tmp_path: Path) -> None:
    with serve("imagebackend", tmp_path) as backend:
        env = {"IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}", "BACKEND_TIMEOUT": "1"}
        with serve("frontend", tmp_path, env) as front:
            assert httpx.get(f"{front.url}/monster/cached-before").status_code == 200
            assert backend.terminate() == 0
            time.sleep(1.2)  # readiness checks are cached for one second
            started = time.monotonic()
            r = httpx.get(f"{front.url}/monster/new-name", timeout=10)
            assert time.monotonic() - started < 3
            assert r.status_code == 503 and r.json()["error"] == "imagebackend_unavailable"
            assert r.headers["retry-after"]
            state = httpx.get(f"{front.url}/healthz", headers={"Accept": "application/json"})
            assert state.status_code == 200  # it still serves: ready, the imagebackend degraded
            assert state.json()["dependencies"]["imagebackend"]["status"] == "degraded"
            assert state.json()["degraded"] == ["imagebackend"]
            # The page, and what the cache holds, are still served.
            assert httpx.get(f"{front.url}/").status_code == 200
            assert httpx.get(f"{front.url}/monster/cached-before").status_code == 200
            # The backend comes back on the same address: recovery with no manual action.
            import subprocess
            import sys

            log = (tmp_path / "restarted.log").open("wb")
            argv = [sys.executable, "-m", "monsterstack.cli", "serve", "imagebackend"]
            argv += ["--host", "127.0.0.1", "--port", str(backend.port)]
            restarted = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    if not _ready(front.url)["degraded"]:
                        break
                    time.sleep(0.2)
                assert _ready(front.url)["dependencies"]["imagebackend"]["status"] == "up"
                assert httpx.get(f"{front.url}/monster/new-name").status_code == 200
            finally:
                restarted.terminate()
                restarted.wait(30)


def test_sigterm_exits_0_after_draining(tmp_path: Path) -> None:
    with serve("imagebackend", tmp_path) as backend:
        env = {"IMAGEBACKEND_DOMAIN": f"127.0.0.1:{backend.port}", "SHUTDOWN_DELAY": "1"}
        with serve("frontend", tmp_path, env) as front:
            front.process.send_signal(15)
            time.sleep(0.3)
            assert httpx.get(f"{front.url}/readyz").status_code == 503
            assert httpx.get(f"{front.url}/monster/drain").status_code == 200
            assert front.process.wait(20) == 0
