"""Waiting for a server process that was just started, and stopping it: one way, for the local
stack (`monsterstack up`), the kit's registry, the tests and the benchmarks.

`wait_until(ready, process)` polls a readiness check until it passes, and fails at once if the
process exits first (with its log, when one is given); `stop(process)` is SIGTERM, a grace
period, then SIGKILL. The checks (`http_ok`, `port_open`, `redis_answers`) use the standard
library only: this module imports nothing else, so anything may import it.
"""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"


class ProcessExited(RuntimeError):
    """The process ended before it was ready."""


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError):
        return False


def port_open(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0


def redis_answers(port: int, host: str = LOOPBACK) -> bool:
    """True when a Redis server answers PING there (NOAUTH, from one with a password, too)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    *,
    timeout: float = 30.0,
    what: str = "the server",
    log: Path | None = None,
    interval: float = 0.05,
) -> None:
    """Polls `ready()` until it is true; ProcessExited if the process ends first, TimeoutError
    after `timeout` seconds. Either names `what`, and ends with `log`'s text when given."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise ProcessExited(f"{what} exited with {process.returncode}{_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:g} s{_tail(log)}")
        time.sleep(interval)


def _tail(log: Path | None, chars: int = 4000) -> str:
    if log is None or not log.exists():
        return ""
    return ":\n" + log.read_text(errors="replace")[-chars:]


def stop(process: subprocess.Popen[bytes], grace: float = 30.0) -> int:
    """SIGTERM, up to `grace` seconds to drain and exit, then SIGKILL: the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()
