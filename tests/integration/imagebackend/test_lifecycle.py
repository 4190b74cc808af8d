"""SIGTERM: unready first, then in-flight requests finish, then a clean exit."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.servers import serve


def test_sigterm_turns_unready_while_still_serving_then_exits_0(tmp_path: Path) -> None:
    with serve("imagebackend", tmp_path, {"SHUTDOWN_DELAY": "1.5"}) as backend:
        backend.process.send_signal(15)
        time.sleep(0.3)
        ready = httpx.get(f"{backend.url}/readyz", timeout=2)
        assert ready.status_code == 503 and ready.json()["status"] == "draining"
        assert httpx.get(f"{backend.url}/livez", timeout=2).status_code == 200
        assert httpx.get(f"{backend.url}/monster/still-here", timeout=2).status_code == 200
        assert backend.process.wait(20) == 0


def test_sigterm_lets_in_flight_renders_finish(tmp_path: Path) -> None:
    with serve("imagebackend", tmp_path) as backend:
        url = f"{backend.url}/monster/slow-%d?size=1024&format=webp"
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(httpx.get, url % i, timeout=30) for i in range(8)]
            time.sleep(0.15)  # the requests are on the wire and queued for rendering
            backend.process.send_signal(15)
            statuses = [f.result().status_code for f in futures]
        assert statuses == [200] * 8
        assert backend.process.wait(30) == 0


def test_bad_configuration_fails_fast_naming_the_variable(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "monsterstack.cli", "serve", "imagebackend"],
        env={"CONTEXT": "STAGING", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "CONTEXT" in done.stderr and "Traceback" not in done.stderr
