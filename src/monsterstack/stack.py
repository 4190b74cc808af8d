"""`monsterstack up`: every service of the stack on this machine, no Docker needed.

Each service runs as its own `monsterstack serve` process, as it would in its own container;
their logs are streamed with a prefix, and Ctrl-C (or SIGTERM) stops them all cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO

COLOURS = {"imagebackend": "\033[35m", "frontend": "\033[36m", "redis": "\033[31m"}


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def _pump(name: str, stream: IO[bytes]) -> None:
    colour = COLOURS.get(name, "") if sys.stdout.isatty() else ""
    reset = "\033[0m" if colour else ""
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{colour}{name:>12} |{reset} {line.decode(errors='replace')}")
        sys.stdout.flush()


def start(name: str, argv: list[str], env: dict[str, str]) -> Child:
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()
    return Child(name, process)


def wait_http(url: str, timeout: float = 30.0) -> bool:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def stop_all(children: list[Child], grace: float = 15.0) -> None:
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()


def up(args: argparse.Namespace) -> int:
    env = {**os.environ, "CONTEXT": os.environ.get("CONTEXT", "DEV"), "PYTHONUNBUFFERED": "1"}
    me = [sys.executable, "-m", "monsterstack.cli"]
    children: list[Child] = []
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        backend_env = {**env, "HOST": args.host, "PORT": str(args.backend_port)}
        children.append(start("imagebackend", [*me, "serve", "imagebackend"], backend_env))
        base = f"http://{args.host}:{args.backend_port}"
        if not wait_http(f"{base}/readyz"):
            print("monsterstack up: the imagebackend did not become ready", file=sys.stderr)
            return 1
        print(f"\nmonsterstack is up: {base}/monster/your-name  (Ctrl-C stops it)\n", flush=True)
        while not stopping.is_set():
            if any(c.process.poll() is not None for c in children):
                dead = [c.name for c in children if c.process.poll() is not None]
                print(f"monsterstack up: {', '.join(dead)} exited; stopping", file=sys.stderr)
                return 1
            stopping.wait(0.5)
        return 0
    finally:
        stop_all(children)
