"""`monsterstack up` as a user runs it: one command, the whole stack, Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from monsterstack.generator import render
from monsterstack.processes import wait_until
from tests.servers import free_port

UP = "monsterstack is up"


def _wait_up(process: subprocess.Popen[bytes], log: Path) -> None:
    """Until `monsterstack up` says it is up: it says so once both services are ready (the
    frontend alone is ready without its imagebackend, so its /readyz is not the signal)."""
    wait_until(lambda: UP in log.read_text(), process, timeout=60, what="monsterstack up", log=log)


def _up(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port, backend_port = free_port(), free_port()
    log = tmp_path / "up.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_DOMAIN")}
    argv = [sys.executable, "-m", "monsterstack.cli", "up", "--port", str(port)]
    argv += ["--backend-port", str(backend_port), *extra]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    return process, port, log


def test_up_runs_the_stack_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    process, port, log = _up(tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(process, log)
        page = httpx.get(f"{base}/?name=Ada")
        assert page.status_code == 200 and "/monster/Ada.png?size=" in page.text
        assert "no Redis configured" in page.text  # the embedded cache
        image = httpx.get(f"{base}/monster/Ada?size=128")
        assert image.status_code == 200 and image.content == render("Ada", 128)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
    output = log.read_text()
    assert code == 0, output
    assert f"monsterstack is up: http://127.0.0.1:{port}/" in output
    assert "imagebackend |" in output and "frontend |" in output  # prefixed, streamed logs


def test_up_with_redis_counts_visits(tmp_path: Path) -> None:
    process, port, log = _up(tmp_path, "--redis", "--redis-port", str(free_port()))
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(process, log)
        assert httpx.get(f"{base}/api/info").json()["cache"] == "memory+redis"
        first = httpx.get(f"{base}/api/info").json()["visits"]
        assert int(httpx.get(f"{base}/api/info").json()["visits"]) == int(first) + 1
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    assert code == 0, log.read_text()
