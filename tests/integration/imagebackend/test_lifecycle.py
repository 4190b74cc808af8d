"""SIGTERM: unready first, then in-flight requests finish, then a clean exit."""

from __future__ import annotations

import socket
import time
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


def _send_request(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def test_sigterm_lets_in_flight_renders_finish(tmp_path: Path) -> None:
    with serve("imagebackend", tmp_path) as backend:
        # Connected and sent before SIGTERM: these requests are in flight, whatever the load.
        socks = [
            _send_request(backend.port, f"/monster/slow-{i}?size=1024&format=webp")
            for i in range(8)
        ]
        deadline = time.monotonic() + 10
        while (
            'http_requests_in_flight{service="imagebackend"} 1.0'
            in (text := httpx.get(f"{backend.url}/metrics").text)
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)  # wait until a render (not just this scrape) is in flight
        assert 'http_requests_in_flight{service="imagebackend"} 1.0' not in text
        backend.process.send_signal(15)
        answers = [_read_all(s) for s in socks]
        assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 8
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
